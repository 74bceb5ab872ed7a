from fractions import Fraction

import pytest

from melodynet.songs.song import Note, Song, duration_pieces, pitch_name


@pytest.mark.parametrize(
    ("pitch", "duration", "tiny"),
    [
        (67, "1/2", "g8"),
        (72, "1", "c'4"),
        (84, "3/2", "c''4."),
        (59, "1", "B4"),
        (47, "2", "BB2"),
        (66, "1/2", "f#8"),
        (78, "1/2", "f'#8"),
        (70, "1", "b-4"),
        (None, "1", "r4"),
        (60, "7/4", "c4.."),
        (60, "4", "c1"),
        (60, "1/3", "trip{c8}"),
        (60, "5", "c1~ c4"),
        (None, "5", "r1 r4"),
    ],
)
def test_tiny_tokens(pitch, duration, tiny):
    assert Note(pitch, Fraction(duration)).tiny == tiny


def test_duration_without_tiny_form_is_an_error():
    with pytest.raises(ValueError, match="no tinyNotation form"):
        duration_pieces(Fraction(1, 5))


def test_pitch_names_follow_music21_spelling():
    from music21 import pitch

    for midi in (0, 4, 27, 60, 61, 63, 66, 70, 127):
        assert pitch_name(midi) == pitch.Pitch(midi=midi).nameWithOctave


def test_note_keys_round_trip():
    for note in (Note(67, Fraction(1, 2)), Note(None, Fraction(3, 2)), Note(4, Fraction(1, 3))):
        assert Note.from_key(note.key) == note


def test_song_json_round_trip():
    song = Song(
        [Note(67, Fraction(1, 2)), Note(None, 1)],
        title="t",
        tempo=90,
        time_signature="3/4",
        path="songs/x.txt",
    )
    again = Song.from_json(song.to_json())
    assert again.notes == song.notes and again.tempo == 90 and again.time_signature == "3/4"
    assert again.name == "x"
