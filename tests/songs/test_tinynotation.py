from fractions import Fraction

import pytest

from melodynet.errors import SongError
from melodynet.songs.song import Note, Song
from melodynet.songs.tinynotation import format_song, parse_notes, read_song
from tests.conftest import BUTTERFLY, SONGS, butterfly_expected


def test_butterfly_file_is_the_song():
    song = read_song(BUTTERFLY)
    assert [(n.pitch, float(n.duration)) for n in song.notes] == butterfly_expected()
    assert song.title == "Butterfly" and song.tempo > 0


def test_accidentals_rests_dots_and_meter():
    notes, meter = parse_notes("3/4 c4. d8 e4 r4 f#8 b-8 c'4 BB2")
    assert meter == "3/4"
    assert notes == [
        Note(60, Fraction(3, 2)),
        Note(62, Fraction(1, 2)),
        Note(64, 1),
        Note(None, 1),
        Note(66, Fraction(1, 2)),
        Note(70, Fraction(1, 2)),
        Note(72, 1),
        Note(47, 2),
    ]


def test_ties_merge_into_one_note():
    notes, _ = parse_notes("c4~ c4 d4")
    assert notes == [Note(60, 2), Note(62, 1)]


def test_unknown_token_names_file_line_column_and_token(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("# title: bad\ng8 e8 e4\nf8  x8 d4\n")
    with pytest.raises(SongError) as err:
        read_song(path)
    message = err.value.message
    assert f"{path}:3:5:" in message and "'x8'" in message
    assert "\n" not in message


@pytest.mark.parametrize("text", ["", "# title: only metadata\n", "   \n\n"])
def test_empty_song_is_an_error(tmp_path, text):
    path = tmp_path / "empty.txt"
    path.write_text(text)
    with pytest.raises(SongError, match="no notes"):
        read_song(path)


def test_binary_and_non_utf8_files_are_errors(tmp_path):
    path = tmp_path / "noise.txt"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(SongError, match="noise.txt"):
        read_song(path)


def test_bad_tempo_is_an_error(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("# tempo: fast\nc4 d4\n")
    with pytest.raises(SongError, match="tempo"):
        read_song(path)


@pytest.mark.parametrize("path", sorted(SONGS.glob("*.txt")), ids=lambda p: p.name)
def test_shipped_songs_round_trip_through_text(path, tmp_path):
    song = read_song(path)
    assert len(song) >= 10
    out = tmp_path / path.name
    out.write_text(format_song(song))
    again = read_song(out)
    assert again.notes == song.notes
    assert (again.tempo, again.time_signature, again.title) == (
        song.tempo,
        song.time_signature,
        song.title,
    )


def test_shipped_songs_cover_rests_accidentals_dots_and_meters():
    songs = [read_song(p) for p in SONGS.glob("*.txt")]
    notes = [n for s in songs for n in s.notes]
    assert len(songs) >= 7
    assert any(n.is_rest for n in notes)
    assert any(n.pitch is not None and n.pitch % 12 in (1, 3, 6, 8, 10) for n in notes)
    assert any(
        n.duration.denominator == 1
        and n.duration in (3, 6)
        or n.duration in (Fraction(3, 2), Fraction(3, 4))
        for n in notes
    )
    assert len({s.time_signature for s in songs}) >= 3
    assert len({len(s) for s in songs}) == len(songs) or len({len(s) for s in songs}) >= 5


def test_format_keeps_metadata():
    song = Song(
        [Note(67, Fraction(1, 2))], title="T", tempo=96, time_signature="6/8", key="G major"
    )
    text = format_song(song)
    assert text.startswith("# title: T\n# tempo: 96\n# key: G major\n")
    assert "6/8 g8" in text
