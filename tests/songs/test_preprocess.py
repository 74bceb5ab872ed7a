from fractions import Fraction as F

import pytest

from melodynet.errors import MelodynetError, SongError
from melodynet.songs.preprocess import (
    augment_transpositions,
    common_key_shift,
    parse_grid,
    parse_key,
    parse_transpose,
    quantize,
    quantize_all,
    to_common_key,
    transpose,
    transpose_all,
)
from melodynet.songs.song import Note, Song

# G major scale up from G4, a rest, and back to G4
G_SCALE = [Note(p, 1) for p in (67, 69, 71, 72, 74, 76, 78, 79)] + [Note(None, 1), Note(67, 2)]


def _song(notes=G_SCALE, key="G major", **kw) -> Song:
    return Song(list(notes), title="scale", key=key, path="scale.txt", **kw)


def test_transpose_moves_pitches_and_key_and_leaves_the_song_alone():
    song = _song()
    up = transpose(song, 2)
    assert [n.pitch for n in up.notes] == [69, 71, 73, 74, 76, 78, 80, 81, None, 69]
    assert [n.duration for n in up.notes] == [n.duration for n in song.notes]
    assert up.key == "A major" and up.extra["transposed"] == "+2"
    assert transpose(up, -5).extra["transposed"] == "-3"
    assert transpose(up, -5).key == "E major"
    assert song.notes == G_SCALE and song.key == "G major" and "transposed" not in song.extra


def test_transpose_out_of_midi_range_names_song_and_note():
    song = Song([Note(100, 1), Note(127, 1)], path="high.txt")
    with pytest.raises(SongError) as info:
        transpose(song, 12)
    assert info.value.message == (
        "high.txt: pitch out of MIDI range after transposing by +12: note 2 (G9)"
    )
    with pytest.raises(SongError, match=r"transposing by \+30: note 1 \(E7\)"):
        transpose(song, 30)
    tune = Song([Note(2, 1)], path="book.abc", extra={"tune": "7"})
    with pytest.raises(SongError, match=r"^book.abc tune 7: .* by -3: note 1 \(D-1\)"):
        transpose(tune, -3)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("G major", (7, "major")),
        ("g minor", (7, "minor")),
        ("F# dorian", (6, "dorian")),
        ("b- major", (10, "major")),
        ("Bb", (10, "major")),
        ("Am", (9, "minor")),
        ("E-flat major", (3, "major")),
        ("D Mixolydian", (2, "mixolydian")),
        ("Emin", (4, "minor")),
        ("", None),
        ("H major", None),
        ("C something", None),
    ],
)
def test_parse_key(text, expected):
    assert parse_key(text) == expected


@pytest.mark.parametrize(
    "key, shift, new_key",
    [
        ("G major", 5, "C major"),
        ("F major", -5, "C major"),
        ("E minor", 5, "A minor"),
        ("D minor", -5, "A minor"),
        ("C major", 0, "C major"),
        ("D dorian", 0, "D dorian"),  # already on the white keys
        ("E dorian", -2, "D dorian"),
        ("A mixolydian", -2, "G mixolydian"),
        ("F# major", -6, "C major"),
        ("B- major", 2, "C major"),
    ],
)
def test_common_key_by_key_signature(key, shift, new_key):
    song = _song(key=key)
    assert common_key_shift(song) == shift
    moved = to_common_key(song)
    assert moved.key == new_key
    assert moved.notes[0].pitch == 67 + shift


def test_common_key_keeps_pitches_in_range():
    # F# major wants -6, but the lowest note is MIDI 3: go up 6 instead
    low = Song([Note(3, 1), Note(10, 1)], key="F# major")
    assert common_key_shift(low) == 6


def test_common_key_without_key_metadata_uses_music21_analysis():
    d_major = [Note(p, 1) for p in (62, 64, 66, 67, 69, 71, 73, 74, 69, 66, 62)]
    song = to_common_key(_song(d_major, key=""))
    assert song.extra["key_from"] == "analysis"
    assert song.notes[0].pitch == 60 and song.key == "C major"


def test_augment_by_transposition():
    song = _song()
    songs = augment_transpositions([song], 2)
    assert [s.notes[0].pitch for s in songs] == [65, 66, 67, 68, 69]
    said = []
    high = Song([Note(126, 1)], path="high.txt")
    songs = augment_transpositions([high], [0, 1, 2, 3], say=said.append)
    assert [s.notes[0].pitch for s in songs] == [126, 127]
    assert said == ["augment: left out 2 transposed copies that would leave MIDI 0..127"]
    with pytest.raises(MelodynetError, match="augment must be at least 0"):
        augment_transpositions([song], -1)


def test_quantize_triplets_to_sixteenths():
    third = F(1, 3)
    song = _song([Note(60, third), Note(62, third), Note(64, third), Note(65, 1)])
    q = quantize(song, F(1, 4))
    # onsets 0, 1/3, 2/3, 1 -> 0, 1/4, 3/4, 1
    assert [n.duration for n in q.notes] == [F(1, 4), F(1, 2), F(1, 4), F(1)]
    assert q.extra["quantized"] == "1/4"
    # a grid of 1/12 keeps both triplets and sixteenths
    assert quantize(song, F(1, 12)).notes == song.notes


def test_quantize_drops_vanishing_notes_and_merges_rests():
    song = _song(
        [
            Note(60, F(1, 2)),  # pickup
            Note(62, F(1, 32)),  # a grace-like flick: rounds to nothing
            Note(None, F(1, 4) + F(1, 32) - F(1, 32)),
            Note(None, F(1, 4)),
            Note(64, F(3, 2)),
        ]
    )
    said = []
    [q] = quantize_all([song], F(1, 4), say=said.append)
    assert q.notes == [Note(60, F(1, 2)), Note(None, F(1, 2)), Note(64, F(3, 2))]
    assert q.extra["dropped"] == "1"
    assert said == ["quantize 1/4: dropped 1 notes shorter than half a grid step from 1 songs"]
    assert quantize(song, F(1, 32)).notes[:2] == song.notes[:2]


def test_quantize_needs_notes_left():
    with pytest.raises(SongError, match="scale.txt: no notes left after quantizing to 1"):
        quantize(_song([Note(60, F(1, 8)), Note(None, 4)]), F(1))


@pytest.mark.parametrize(
    "text, grid",
    [
        ("1/4", F(1, 4)),
        ("0.5", F(1, 2)),
        ("16th", F(1, 4)),
        ("8th-triplet", F(1, 3)),
        ("32nd", F(1, 8)),
        ("1/12", F(1, 12)),
    ],
)
def test_parse_grid(text, grid):
    assert parse_grid(text) == grid


@pytest.mark.parametrize("text", ["0", "-1/4", "1/5", "8", "sixteenth", "1/0"])
def test_bad_grids(text):
    with pytest.raises(MelodynetError, match="quantize"):
        parse_grid(text)


def test_quantize_all_skips_songs_with_nothing_left():
    empty = Song([Note(60, F(1, 8)), Note(None, 4)], path="flick.txt")
    said = []
    [kept] = quantize_all([_song(), empty], F(1), say=said.append)
    assert kept.title == "scale"
    assert said == [
        "quantize 1: skipped 1 song",
        "  skipped: flick.txt: no notes left after quantizing to 1",
    ]
    with pytest.raises(SongError, match=r"no notes left after quantizing to 1 \(strict\)"):
        quantize_all([_song(), empty], F(1), strict=True)


def test_transpose_all():
    high = Song([Note(120, 1)], path="high.txt")
    said = []
    moved = transpose_all([_song(), high], 12, say=said.append)
    assert [s.notes[0].pitch for s in moved] == [79]
    assert said[0] == "transpose +12: skipped 1 song"
    assert "high.txt: pitch out of MIDI range after transposing by +12: note 1" in said[1]
    assert transpose_all([_song()], "common")[0].key == "C major"
    with pytest.raises(SongError, match="transpose \\+12: no songs left"):
        transpose_all([high], 12)


@pytest.mark.parametrize(
    "text, value", [("common", "common"), ("COMMON", "common"), ("-2", -2), ("+5", 5), ("0", 0)]
)
def test_parse_transpose(text, value):
    assert parse_transpose(text) == value


def test_parse_transpose_refuses_other_words():
    with pytest.raises(MelodynetError, match="expected 'common'"):
        parse_transpose("up")
