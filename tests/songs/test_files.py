"""Reading MIDI, MusicXML and ABC, and writing every built-in format."""

from fractions import Fraction

import mido
import pytest

from melodynet.errors import MelodynetError, SongError
from melodynet.songs.files import read_songs, write_song
from melodynet.songs.song import Note, Song
from tests.conftest import BUTTERFLY, butterfly_expected


def _midi_notes(path):
    """(pitch, start tick, length in ticks) of each note, read with mido alone."""
    midi = mido.MidiFile(str(path))
    now, started, notes = 0, {}, []
    for msg in mido.merge_tracks(midi.tracks):
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            started[msg.note] = now
        elif msg.type in ("note_off", "note_on"):
            begin = started.pop(msg.note)
            notes.append((msg.note, begin, now - begin))
    return midi, notes


def test_midi_writer_is_note_for_note(tmp_path):
    song = read_songs([BUTTERFLY])[0]
    out = tmp_path / "b.mid"
    write_song(song, out)
    midi, notes = _midi_notes(out)
    tpb = midi.ticks_per_beat
    assert [(p, length / tpb) for p, _, length in notes] == butterfly_expected()
    tempos = [m.tempo for m in midi.tracks[0] if m.type == "set_tempo"]
    assert [round(mido.tempo2bpm(t)) for t in tempos] == [round(song.tempo)]


def test_midi_rests_are_gaps(tmp_path):
    song = Song([Note(60, 1), Note(None, 2), Note(62, Fraction(1, 2))])
    out = tmp_path / "r.mid"
    write_song(song, out)
    midi, notes = _midi_notes(out)
    tpb = midi.ticks_per_beat
    assert notes == [(60, 0, tpb), (62, 3 * tpb, tpb // 2)]
    assert read_songs([out])[0].notes == song.notes


@pytest.mark.parametrize("suffix", [".mid", ".musicxml", ".mxl", ".txt"])
def test_formats_read_back_as_the_same_song(tmp_path, suffix):
    song = read_songs([BUTTERFLY])[0]
    out = tmp_path / f"b{suffix}"
    write_song(song, out)
    again = read_songs([out])[0]
    assert again.notes == song.notes
    assert round(again.tempo) == round(song.tempo)


def test_abc_is_read(tmp_path):
    path = tmp_path / "tune.abc"
    path.write_text("X:1\nT:Little tune\nM:3/4\nL:1/8\nK:G\nG2 AB c2 | d4 z2 | ^c2 d4 |]\n")
    [song] = read_songs([path])
    assert song.title == "Little tune" and song.time_signature == "3/4"
    assert song.notes == [
        Note(67, 1),
        Note(69, Fraction(1, 2)),
        Note(71, Fraction(1, 2)),
        Note(72, 1),
        Note(74, 2),
        Note(None, 1),
        Note(73, 1),
        Note(74, 2),
    ]


def test_multi_part_takes_the_top_line_and_says_so(tmp_path):
    from music21 import chord, note, stream

    score = stream.Score()
    top, low = stream.Part(), stream.Part()
    for p in (72, 74, 76):
        top.append(note.Note(p, quarterLength=1))
    top.append(chord.Chord([64, 79], quarterLength=1))
    for p in (48, 50, 52, 53):
        low.append(note.Note(p, quarterLength=1))
    score.insert(0, top)
    score.insert(0, low)
    path = tmp_path / "two.musicxml"
    score.write("musicxml", fp=str(path))
    said = []
    [song] = read_songs([path], warn=said.append)
    assert [n.pitch for n in song.notes] == [72, 74, 76, 79]
    assert any("2 parts" in s for s in said) and any("top note" in s for s in said)
    [second] = read_songs([path], part=2, warn=said.append)
    assert [n.pitch for n in second.notes] == [48, 50, 52, 53]
    with pytest.raises(SongError, match="part 3 asked for"):
        read_songs([path], part=3, warn=said.append)


def test_garbage_midi_is_a_one_line_error(tmp_path):
    path = tmp_path / "bad.mid"
    path.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    with pytest.raises(SongError) as err:
        read_songs([path])
    assert str(path) in err.value.message and "\n" not in err.value.message


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(SongError, match="no such file"):
        read_songs([tmp_path / "nope.txt"])
    odd = tmp_path / "song.xyz"
    odd.write_text("c4")
    with pytest.raises(SongError, match="no reader for .xyz"):
        read_songs([odd])


def test_write_errors_leave_nothing_behind(tmp_path):
    song = Song([Note(60, 1)])
    with pytest.raises(MelodynetError, match="no writer for .wavx"):
        write_song(song, tmp_path / "x.wavx")
    with pytest.raises(MelodynetError, match="does not exist"):
        write_song(song, tmp_path / "missing" / "x.mid")
    assert list(tmp_path.iterdir()) == []


def test_failed_writer_keeps_the_old_file(tmp_path, monkeypatch):
    import melodynet.songs.files
    from melodynet.hookspecs import WriterSpec
    from melodynet.plugins import Provided, Registry

    def broken(song, path, options):
        path.write_text("half")
        raise OSError(28, "No space left on device")

    fake = Registry(writers={".txt": Provided(WriterSpec("broken", (".txt",), broken), "t")})
    monkeypatch.setattr(melodynet.songs.files, "registry", lambda: fake)
    out = tmp_path / "keep.txt"
    out.write_text("old")
    with pytest.raises(MelodynetError, match="No space left on device"):
        write_song(Song([Note(60, 1)]), out)
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
