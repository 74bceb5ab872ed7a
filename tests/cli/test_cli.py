"""The command line as a user drives it: round trips, listings and every bad input."""

import json
import subprocess
import sys

import mido
import pytest

from tests.conftest import BUTTERFLY, BUTTERFLY_TOKENS, butterfly_expected, one_line_error


@pytest.mark.slow
def test_train_then_generate_plays_butterfly_back(workdir, runner):
    trained = runner("train", BUTTERFLY, "--model", "stateful-lstm")
    assert trained.exit_code == 0, trained.output
    assert (workdir / "models" / "butterfly-stateful-lstm" / "model.keras").is_file()
    meta = json.loads((workdir / "models/butterfly-stateful-lstm/melodynet.json").read_text())
    assert meta["model"] == "stateful-lstm" and meta["encoding"] == "single"
    assert meta["window"] == 4 and meta["random_seed"] == 0
    assert len(meta["songs"][0]["notes"]) == 54 and meta["epochs_run"] == len(
        meta["history"]["loss"]
    )
    assert meta["metrics"]["songs"][0]["full_song_matches"] == 50

    made = runner("generate", "--seed", "4", "--out", "song.mid")
    assert made.exit_code == 0, made.output
    assert "50/50" in made.output and "butterfly-stateful-lstm" in made.output
    midi = mido.MidiFile(workdir / "song.mid")
    ons = [m for m in midi.tracks[0] if m.type == "note_on"]
    offs = [m for m in midi.tracks[0] if m.type == "note_off"]
    assert [m.note for m in ons] == [p for p, _ in butterfly_expected()]
    assert [m.time / midi.ticks_per_beat for m in offs] == [q for _, q in butterfly_expected()]
    tempo = next(m.tempo for m in midi.tracks[0] if m.type == "set_tempo")
    assert round(mido.tempo2bpm(tempo)) == 120

    explicit = runner("generate", "--seed", "g8 e8 e4 f8", "--out", "song.txt")
    assert explicit.exit_code == 0 and "50/50" in explicit.output
    again = runner("train", BUTTERFLY, "--model", "stateful-lstm")
    one_line_error(again, "already exists", "--force")


def test_generate_modes_and_outputs(workdir, runner, butterfly_bundle):
    from melodynet.songs.files import read_songs

    made = runner(
        "generate",
        "--model-dir",
        butterfly_bundle,
        "--mode",
        "one-step",
        "--seed",
        "10",
        "--out",
        "a.musicxml",
        "--out",
        "a.txt",
    )
    assert made.exit_code == 0, made.output
    assert "44/44" in made.output
    assert read_songs(["a.musicxml"])[0].notes == read_songs(["a.txt"])[0].notes
    assert read_songs(["a.txt"])[0].notes == read_songs([BUTTERFLY])[0].notes

    longer = runner("generate", "--model-dir", butterfly_bundle, "--length", "100")
    assert longer.exit_code == 0
    assert len(longer.stdout.split()) == 104


def test_evaluate_json(runner, butterfly_bundle):
    result = runner("evaluate", "--model-dir", butterfly_bundle, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    [song] = data["songs"]
    assert song["song"] == "butterfly"
    assert song["one_step_accuracy"] == 1.0
    assert (song["full_song_matches"], song["full_song_length"]) == (50, 50)


def test_models_lists_built_ins_with_their_plugin(runner):
    result = runner("models")
    assert result.exit_code == 0
    for name in ("mlp", "lstm", "stateful-lstm", "cnn"):
        assert any(
            line.split()[0] == name and "built-in" in line for line in result.output.splitlines()
        )


def test_help_does_not_import_tensorflow_or_music21():
    code = (
        "import sys\n"
        "from melodynet.cli import main\n"
        "sys.argv = ['melodynet', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'music21') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout


# ---------------------------------------------------------------- bad input


def test_missing_song_file(workdir, runner):
    one_line_error(runner("train", "nope.txt"), "nope.txt", "no such file")


def test_unknown_token(workdir, runner):
    (workdir / "bad.txt").write_text("g8 e8 e4\nf8 d8 zz4 d4\n")
    one_line_error(runner("train", "bad.txt"), "bad.txt:2:7", "'zz4'")


def test_empty_file(workdir, runner):
    (workdir / "empty.txt").write_text("")
    one_line_error(runner("train", "empty.txt"), "empty.txt", "no notes")


def test_song_shorter_than_window(workdir, runner):
    (workdir / "short.txt").write_text("c4 d4 e4 f4")
    one_line_error(runner("train", "short.txt"), "short.txt", "4 notes", "at least 5")


@pytest.mark.parametrize(
    ("option", "listed"), [("--model", "stateful-lstm"), ("--encoding", "split")]
)
def test_unknown_model_or_encoding(workdir, runner, option, listed):
    line = one_line_error(runner("train", BUTTERFLY, option, "nonsense"), "nonsense")
    assert listed in line


def test_primer_longer_than_song(runner, butterfly_bundle):
    one_line_error(
        runner("generate", "--model-dir", butterfly_bundle, "--seed", "60"), "--seed 60", "54 notes"
    )


def test_primer_outside_vocabulary(runner, butterfly_bundle):
    one_line_error(
        runner("generate", "--model-dir", butterfly_bundle, "--seed", "g8 a8"),
        "--seed",
        "note 2 (a8)",
        "vocabulary",
    )


def test_missing_or_non_bundle_model_dir(workdir, runner):
    one_line_error(runner("generate", "--model-dir", "nowhere"), "nowhere")
    (workdir / "notabundle").mkdir()
    one_line_error(runner("evaluate", "--model-dir", "notabundle"), "not a melodynet bundle")
    one_line_error(runner("generate"), "no trained model yet")
    (workdir / "models").mkdir()
    (workdir / "models" / "LATEST").write_text(str(workdir / "models" / "deleted") + "\n")
    one_line_error(runner("generate"), "the latest trained model", "deleted", "is gone")


def test_output_suffix_without_writer(workdir, runner, butterfly_bundle):
    one_line_error(
        runner("generate", "--model-dir", butterfly_bundle, "--out", "x.foo"), "x.foo", "no writer"
    )
    assert not (workdir / "x.foo").exists()


def test_unwritable_output(workdir, runner, butterfly_bundle):
    (workdir / "file").write_text("not a directory")
    one_line_error(
        runner("generate", "--model-dir", butterfly_bundle, "--out", "file/song.mid"),
        "file/song.mid",
    )
    one_line_error(
        runner("generate", "--model-dir", butterfly_bundle, "--out", "missing/song.mid"),
        "missing/song.mid",
    )
    assert sorted(p.name for p in workdir.iterdir()) == ["file"]


def test_sampled_outputs_are_distinct_and_reproducible(workdir, runner, butterfly_bundle):
    args = [
        "generate",
        "--model-dir",
        butterfly_bundle,
        "--num-outputs",
        "3",
        "--temperature",
        "3.0",
        "--random-seed",
        "5",
        "--length",
        "30",
        "--out",
        "s.txt",
    ]
    first = runner(*args)
    assert first.exit_code == 0, first.output
    melodies = first.stdout.strip().splitlines()
    assert len(melodies) == 3 and len(set(melodies)) == 3
    assert sorted(p.name for p in workdir.iterdir()) == ["s-1.txt", "s-2.txt", "s-3.txt"]
    assert runner(*args).stdout == first.stdout
    other = runner(*args[:-6], "--random-seed", "6", "--length", "30")
    assert other.stdout != first.stdout


def test_greedy_outputs_are_the_song(runner, butterfly_bundle):
    result = runner("generate", "--model-dir", butterfly_bundle, "--num-outputs", "2")
    lines = result.stdout.strip().splitlines()
    assert result.exit_code == 0 and lines[0] == lines[1]
    assert lines[0].split() == BUTTERFLY_TOKENS


def test_evaluate_compares_sampled_melodies_with_the_training_songs(runner, butterfly_bundle):
    result = runner("evaluate", "--model-dir", butterfly_bundle, "--stats", "4", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["metric"]: row for row in json.loads(result.stdout)["stats"]}
    assert {"pitch_range", "pitch_class_entropy", "scale_consistency"} <= set(rows)
    # butterfly spans C4-G4 (7 semitones), all in C major
    assert rows["pitch_range"]["training"]["mean"] == 7
    assert rows["scale_consistency"]["training"]["mean"] == 1.0


def test_primer_from_a_file(workdir, runner, butterfly_bundle):
    from melodynet.songs.files import read_songs, write_song
    from melodynet.songs.song import Song

    opening = Song(read_songs([BUTTERFLY])[0].notes[:6])
    write_song(opening, workdir / "opening.mid")
    result = runner("generate", "--model-dir", butterfly_bundle, "--seed", "opening.mid")
    assert result.exit_code == 0, result.output
    assert "48/48" in result.output
    assert result.stdout.split() == BUTTERFLY_TOKENS
