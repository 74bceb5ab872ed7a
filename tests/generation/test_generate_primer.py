"""Continuing the user's own melody in any key (issue 16): a model trained in the common key
moves the primer into its key, continues it and moves the melody back; a primer note it has
never seen is named with the nearest note it knows, or moved there with ``quantize``.

The fast tests use the german-folk bundle that plugins/melodynet-folk ships (trained with
``--transpose common``; it generates in numpy, nothing trains); the slow one trains a tiny
common-key model of its own. Keys are checked with music21's own analysis and scales.
"""

import warnings
from fractions import Fraction

import pytest

import melodynet
from melodynet.errors import MelodynetWarning, OptionError
from melodynet.generation.primer import UnknownPrimerNote, nearest_note
from melodynet.songs.keys import detect_key
from melodynet.songs.song import Note, Song
from tests.conftest import ROOT, SONGS

GERMAN = ROOT / "plugins" / "melodynet-folk" / "melodynet_folk" / "bundles" / "german-folk"
# Two phrases in F sharp major, typed by hand: F# G# A# B C# D# E# are the scale.
F_SHARP = "f#4 g#8 a#8 b4 c'#4 a#4 f#4 g#4 a#8 g#8 f#4 e#4 f#2"
F_SHARP_MIDI = [66, 68, 70, 71, 73, 70, 66, 68, 70, 68, 66, 65, 66]


@pytest.fixture(scope="module")
def german():
    if not (GERMAN / "melodynet.json").is_file():
        pytest.skip(f"{GERMAN} is missing: python scripts/pretrain.py german-folk")
    return melodynet.load(GERMAN)


def music21_key(notes):
    """(tonic pitch class, mode) by music21's own key analysis of the sounding notes."""
    from music21 import note as m21note
    from music21 import stream

    part = stream.Stream()
    for n in notes:
        if n.pitch is not None:
            part.append(m21note.Note(n.pitch, quarterLength=float(n.duration)))
    found = part.analyze("key")
    return found.tonic.pitchClass, found.mode


def scale_of(tonic: str, mode: str = "major") -> set[int]:
    """music21's scale of the key, as pitch classes (a mode: its key signature's)."""
    from music21 import key

    return {p.pitchClass for p in key.Key(tonic, mode).getScale().getPitches()}


def in_scale(notes, scale) -> float:
    pitched = [n.pitch for n in notes if n.pitch is not None]
    return sum(p % 12 in scale for p in pitched) / len(pitched)


def test_the_primer_as_typed():
    assert [n.pitch for n in Song.from_text(F_SHARP).notes] == F_SHARP_MIDI
    assert {p % 12 for p in F_SHARP_MIDI} <= scale_of("F#")


@pytest.mark.parametrize("shift", [0, 1, 6, -3])
def test_key_detection_agrees_with_music21(shift):
    from melodynet.songs.preprocess import transpose

    for path in sorted(SONGS.glob("*.txt")):
        song = transpose(melodynet.read(path)[0], shift)
        assert detect_key(song.notes) == music21_key(song.notes), (path.name, shift)
    assert detect_key([Note(None, Fraction(1))]) is None


def test_f_sharp_major_primer_comes_back_in_f_sharp_major(german):
    melody = german.generate(F_SHARP, length=30)
    primer = Song.from_text(F_SHARP).notes
    assert melody.notes[: len(primer)] == primer  # the user's notes, as they were
    assert melody.key == melody.extra["primer_key"] == "F# major"
    assert melody.extra["primer_moved"] == "+6"  # F# major -> C major, as --key moves
    continuation = melody.notes[len(primer) :]
    assert len(continuation) == 30
    assert in_scale(continuation, scale_of("F#")) >= 0.9
    assert in_scale(continuation, scale_of("C")) <= 0.5  # moved back out of the model's key
    # not by chance: the same melody as the primer's continuation in C major, moved back
    in_c = german.generate([Note(n.pitch + 6, n.duration) for n in primer], length=30)
    assert in_c.extra["primer_key"] == "C major" and in_c.extra["primer_moved"] == "+0"
    assert [Note(n.pitch - 6 if n.pitch else None, n.duration) for n in in_c.notes] == (
        melody.notes
    )
    assert in_scale(in_c.notes[len(primer) :], scale_of("C")) >= 0.9


def test_sampled_and_constrained_melodies_keep_the_primers_key(german):
    melodies = german.generate(
        F_SHARP, bars=8, meter="3/4", temperature=0.9, num_outputs=3, random_seed=1
    )
    for melody in melodies:
        assert melody.extra["primer_key"] == "F# major" and melody.key == "F# major"
        assert [n.pitch for n in melody.notes[:13]] == F_SHARP_MIDI
        assert melody.quarter_length == 8 * 3  # eight bars of 3/4, the primer's included
        assert in_scale(melody.notes[13:], scale_of("F#")) >= 0.8
    # a minor primer: E minor, moved up 5 semitones (as --key moves it) into A minor
    minor = german.generate("e4 g8 f#8 e4 b4 a8 g8 f#8 e8 d#4 e4", bars=6, meter="4/4")
    assert minor.extra["primer_key"] == "E minor" and minor.extra["primer_moved"] == "+5"
    assert minor.quarter_length == 24


@pytest.mark.parametrize("suffix", [".mid", ".txt", ".musicxml"])
def test_a_primer_file_in_f_sharp_major(german, tmp_path, suffix):
    path = Song.from_text(F_SHARP, title="mytune", time_signature="3/4").write(
        tmp_path / f"mytune{suffix}"
    )
    melody = german.generate(path, bars=8)
    assert melody.extra["primer_key"] == "F# major"
    assert [n.pitch for n in melody.notes[:13]] == F_SHARP_MIDI
    # the file's time signature and title, not the first training song's
    assert melody.time_signature == "3/4" and melody.quarter_length == 24
    assert melody.title.startswith("mytune")


def test_a_dorian_primer_keeps_its_signature(german):
    """Key analysis tells major from minor only; the move follows the key signature, so
    A dorian (F sharp, G natural) goes to D dorian on the white keys, not to A minor."""
    primer = "a4 b8 c'8 d'4 e'4 f'#4 g'4 a'2 e'4 c'4 b4 a2"
    notes = Song.from_text(primer).notes
    assert music21_key(notes) == (9, "minor")  # what the analysis says
    melodies = german.generate(primer, length=30, temperature=0.8, num_outputs=3)
    assert scale_of("A", "dorian") == {9, 11, 0, 2, 4, 6, 7}
    continued = []
    for melody in melodies:
        assert melody.extra["primer_key"] == "A dorian" and melody.key == "A dorian"
        assert melody.extra["primer_moved"] == "+5"  # A dorian -> D dorian, white keys
        assert melody.notes[: len(notes)] == notes
        continued += [n.pitch % 12 for n in melody.notes[len(notes) :] if n.pitch]
    assert sum(p in scale_of("A", "dorian") for p in continued) >= 0.9 * len(continued)
    assert continued.count(6) > continued.count(5)  # F sharp, as in A dorian, not F
    # D dorian on the white keys stays where it is
    white = german.generate("d4 e8 f8 g4 a4 b4 c'4 d'2 a4 f4 e4 d2", length=4)
    assert white.extra["primer_key"] == "D dorian" and white.extra["primer_moved"] == "+0"


def test_a_key_asked_for_keeps_todays_behaviour(german):
    melody = german.generate(F_SHARP, key="F#", length=20)
    assert "primer_key" not in melody.extra and melody.key == "F# major"
    assert [n.pitch for n in melody.notes[:13]] == F_SHARP_MIDI
    assert in_scale(melody.notes, scale_of("F#")) == 1.0  # --key is a guarantee
    # the primer is taken to be in the key asked for: F# notes asked in C stay unmoved
    as_c = german.generate(F_SHARP, key="C", length=4)
    assert "primer_key" not in as_c.extra and as_c.key == "C major"


def test_a_training_songs_opening_is_not_moved(german):
    melody = german.generate(8, length=8)
    assert "primer_key" not in melody.extra and "reference" in melody.extra


def _highest(german, duration):
    """The highest pitch the model knows at ``duration``, from its vocabulary (single)."""
    return max(
        int(label.split(":")[0])
        for label in german.meta.vocabulary["note"]
        if not label.startswith("rest") and Fraction(label.split(":")[1]) == duration
    )


def test_an_unknown_primer_note_is_named_with_the_nearest(german):
    top = _highest(german, Fraction(1))
    assert top < 105  # a''' (A7) is out of its range
    with pytest.raises(UnknownPrimerNote) as raised:
        german.generate("c4 e4 g4 c'4 g4 a'''4 g4 c'2", length=4)
    error = raised.value
    assert isinstance(error, OptionError) and error.option == "primer"
    assert (error.position, error.note, error.nearest) == (6, Note(105, 1), Note(top, 1))
    message = str(error)
    assert "\n" not in message
    assert "note 6 (a'''4)" in message and Note(top, 1).tiny in message
    assert "quantize=True" in message


def test_an_unknown_note_of_a_moved_primer_is_named_as_written(german):
    # F# major moves up 6 into C major: f'''#4 (F#7) would be C8 there, above the range
    top = _highest(german, Fraction(1))
    with pytest.raises(UnknownPrimerNote) as raised:
        german.generate(F_SHARP + " f'''#4", length=4)
    error = raised.value
    assert error.position == 14 and error.note == Note(102, 1)  # as the user wrote it
    assert error.nearest == Note(top - 6, 1)  # back in F# major
    assert "once moved +6 semitones into its key, C major" in str(error)


def test_quantize_moves_unknown_notes_to_the_nearest(german):
    top = _highest(german, Fraction(1))
    durations = {Fraction(label.split(":")[1]) for label in german.meta.vocabulary["note"]}
    assert Fraction(7) not in durations and Fraction(6) in durations  # 1.. no, 1. yes
    primer = "c4 e4 g4 c'4 g4 a'''4 g4 c'4 e'1.."
    with pytest.warns(MelodynetWarning) as warned:
        melody = german.generate(primer, length=6, quantize=True)
    [line] = [str(w.message) for w in warned if issubclass(w.category, MelodynetWarning)]
    assert line.startswith("primer: 2 notes the model does not know moved to the nearest")
    assert f"note 6 a'''4 -> {Note(top, 1).tiny}" in line
    assert "note 9 e'1.. -> " in line
    written = Song.from_text(primer).notes
    notes = melody.notes
    assert notes[5] == Note(top, 1) and notes[8].duration == 6  # by ratio: 7/6 < 10/7
    assert [n for i, n in enumerate(notes[:9]) if i not in (5, 8)] == [
        n for i, n in enumerate(written) if i not in (5, 8)
    ]
    assert len(notes) == 9 + 6
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to move: no warning
        german.generate("c4 e4 g4", length=2, quantize=True)
    with pytest.raises(OptionError, match="quantize must be True or False"):
        german.generate("c4 e4 g4", length=2, quantize="yes")


def test_nearest_note_duration_by_ratio_then_pitch():
    known = [Note(60, Fraction(1, 2)), Note(72, 1), Note(64, 2), Note(None, 1), Note(62, 1)]
    # duration first: 3/4 is nearer 1 (4/3) than 1/2 (3/2); then the nearest pitch
    assert nearest_note(Note(61, Fraction(3, 4)), known) == Note(62, 1)
    assert nearest_note(Note(80, 1), known) == Note(72, 1)
    # a tie in ratio (1 sits between 1/2 and 2) goes to the shorter duration
    assert nearest_note(Note(64, 1), [Note(64, 2), Note(64, Fraction(1, 2))]) == Note(
        64, Fraction(1, 2)
    )
    # a tie in pitch goes to the lower; a rest stays a rest
    assert nearest_note(Note(61, 1), [Note(60, 1), Note(62, 1)]) == Note(60, 1)
    assert nearest_note(Note(None, Fraction(3, 2)), known) == Note(None, 1)
    # a model without rests: the rest sounds, at the pitch it is given
    assert nearest_note(Note(None, 2), known[:3], pitch=63) == Note(64, 2)


@pytest.mark.slow
def test_a_model_trained_in_the_common_key_continues_any_key(tmp_path):
    """Trained here: songs in G, F, D and C major, moved to C major for training."""
    names = ("amazing-grace", "frere-jacques", "ode-to-joy", "twinkle", "minuet-in-g")
    model = melodynet.train(
        [SONGS / f"{n}.txt" for n in names],
        model="mlp",
        transpose="common",
        epochs=20,
        stop_when_perfect=False,
    )
    ode = melodynet.read(SONGS / "ode-to-joy.txt")[0]  # D major, as written
    assert ode.key.startswith("D")
    melody = model.generate(ode.notes[:8], length=16)
    assert melody.extra["primer_key"] == "D major" and melody.extra["primer_moved"] == "-2"
    assert melody.notes[:8] == ode.notes[:8]
    assert in_scale(melody.notes[8:], scale_of("D")) >= 0.9
