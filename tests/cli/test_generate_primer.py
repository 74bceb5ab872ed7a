"""`melodynet generate --seed mytune.mid` with a model trained in the common key continues
the tune in its own key, says which key it found, names a note the model does not know
(with the nearest it knows), and moves such notes there with --quantize.

Nothing trains: the german-folk bundle plugins/melodynet-folk ships is used by path.
"""

from fractions import Fraction

import pytest

import melodynet
from melodynet.songs.song import Note, Song
from tests.conftest import one_line_error
from tests.generation.test_generate_primer import (
    F_SHARP,
    F_SHARP_MIDI,
    GERMAN,
    in_scale,
    scale_of,
)

pytestmark = pytest.mark.skipif(
    not (GERMAN / "melodynet.json").is_file(), reason=f"{GERMAN} is missing"
)


@pytest.mark.parametrize("suffix", [".mid", ".txt"])
def test_continue_my_tune_in_f_sharp_major(workdir, runner, suffix):
    Song.from_text(F_SHARP, title="mytune", time_signature="3/4").write(f"mytune{suffix}")
    result = runner(
        "generate", "--model-dir", GERMAN, "--seed", f"mytune{suffix}", "--bars", "8",
        "--out", "tune.mid", "--out", "tune.txt",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.stderr.splitlines() if x.startswith("primer in")]
    assert line.startswith("primer in F# major (found by key analysis): moved +6 semitones")
    [tune] = melodynet.read("tune.mid")  # what was written, read back
    assert [n.pitch for n in tune.notes[:13]] == F_SHARP_MIDI
    assert tune.quarter_length == 24  # 8 bars of the tune's 3/4
    assert in_scale(tune.notes[13:], scale_of("F#")) >= 0.9
    [text] = melodynet.read("tune.txt")
    assert text.key == "F# major" and text.time_signature == "3/4"


def test_an_unknown_primer_note_is_one_line_naming_it_and_the_nearest(workdir, runner):
    top = max(
        int(label.split(":")[0])
        for label in melodynet.load(GERMAN).meta.vocabulary["note"]
        if not label.startswith("rest") and Fraction(label.split(":")[1]) == 1
    )
    seed = F_SHARP + " f'''#4"  # F#7: C8 once moved into C major, above the model's range
    result = runner("generate", "--model-dir", GERMAN, "--seed", seed, "--length", "4")
    nearest = Note(top - 6, 1).tiny  # in F# major, as the user wrote the tune
    one_line_error(result, "--seed: note 14 (f'''#4)", f"nearest note it knows is {nearest}")
    one_line_error(result, "--quantize moves such notes there")
    assert "quantize=True" not in result.output

    quantized = runner(
        "generate", "--model-dir", GERMAN, "--seed", seed, "--length", "4", "--quantize"
    )
    assert quantized.exit_code == 0, quantized.output
    assert (
        f"primer: 1 note the model does not know moved to the nearest it knows: "
        f"note 14 f'''#4 -> {nearest}"
    ) in quantized.stderr.splitlines()
    tokens = quantized.stdout.split()
    assert len(tokens) == 14 + 4 and tokens[13] == nearest


def test_generate_help_lists_quantize(runner):
    result = runner("generate", "--help")
    assert result.exit_code == 0 and "--quantize" in result.output
