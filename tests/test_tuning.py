"""`melodynet tune` and ``melodynet.tune``: the search-space syntax and its one-line errors
(fast, nothing trained), then real studies that finish, resume and survive Ctrl-C (slow)."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import melodynet
from melodynet.tuning import default_out, parse_params, parse_search
from tests.conftest import ROOT, SONGS, one_line_error

THREE = [SONGS / "butterfly.txt", SONGS / "twinkle.txt", SONGS / "ode-to-joy.txt"]


def tune_args(*extra, out="study"):
    return ["tune", *THREE, "--model", "mlp", "--validation-split", "0.3", "--out", out, *extra]


def mlp():
    from melodynet.plugins import registry

    return registry().model("mlp")


# --- the search space (fast) ---------------------------------------------------------


def test_spec_syntax_gives_choices_ranges_and_fixed_values():
    dims = {
        d.name: d
        for d in parse_search(
            {
                "units": "64,128,256",
                "learning_rate": "1e-4:1e-2:log",
                "window": "2:8",
                "l2": "0:1",  # a float parameter: a float range, though both ends are ints
                "layers": "2",
                "encoding": "single,split",
                "dropout": [0.0, 0.25],  # Python lists are choices
            },
            mlp(),
        )
    }
    assert dims["units"].kind == "choice" and dims["units"].choices == (64, 128, 256)
    lr = dims["learning-rate"]
    assert (lr.kind, lr.low, lr.high, lr.log, lr.training) == ("float", 1e-4, 1e-2, True, True)
    assert lr.keyword == "learning_rate"
    assert (dims["window"].kind, dims["window"].low, dims["window"].high) == ("int", 2, 8)
    assert dims["l2"].kind == "float" and not dims["l2"].training
    assert dims["layers"].kind == "fixed" and dims["layers"].choices == (2,)
    assert dims["encoding"].choices == ("single", "split")
    assert dims["dropout"].choices == (0.0, 0.25)


@pytest.mark.parametrize(
    ("param", "fragment"),
    [
        ("units", "expected NAME=SPEC"),
        ("units=", "give a value, a comma list"),
        ("units=64,,128", "an empty value in the list"),
        ("units=64,64", "64 is given twice"),
        ("units=32.5:64", "units takes whole numbers"),
        ("units=x,64", "units takes whole numbers, not x"),
        ("units=0,64", "units must be at least 1, not 0"),
        ("window=0:8", "window must be at least 1, not 0"),
        ("batch-size=0:8", "batch-size must be at least 1"),
        ("learning-rate=0:0.1:log", "a log-scale range must start above 0"),
        ("learning-rate=0.1:0.01", "LOW must be below HIGH"),
        ("learning-rate=1:2:3", "LOW:HIGH:log"),
        ("learning-rate=a:b", "must be numbers"),
        ("encoding=single:split", "encoding is not a number"),
        ("encoding=single,bogus", "encoding is one of"),
        ("dropout=0:2", "model mlp's dropout takes a number from 0 to 0.9, not 2"),
        ("layers=1.5", "model mlp's layers takes a whole number"),
        ("dropuot=0:0.5", "did you mean 'dropout'?"),
        ("random-seed=1,2", "--random-seed"),
        ("validation-split=0.1,0.2", "--validation-split"),
        ("model=mlp,lstm", "a study tunes one model"),
    ],
)
def test_bad_specs_are_one_line_errors_naming_the_flag(workdir, runner, param, fragment):
    result = runner(*tune_args("--param", param))
    line = one_line_error(result, "--param", fragment)
    assert line.startswith("Error: --param "), line
    assert not (workdir / "study").exists()  # checked before anything was written


def test_a_name_given_twice_is_refused(runner, workdir):
    result = runner(*tune_args("-p", "units=64,128", "-p", "units=32"))
    one_line_error(result, "--param units is given twice")


def test_tuning_needs_a_validation_split(runner, workdir):
    result = runner("tune", THREE[0], "--model", "mlp", "-p", "units=64,128")
    one_line_error(result, "validation loss", "--validation-split")


def test_an_unknown_model_and_no_songs(runner, workdir):
    one_line_error(runner("tune", "--validation-split", "0.2"), "SONG")
    unknown = runner(
        *tune_args("-p", "units=64,128")[:4], "--model", "nope", "--validation-split", "0.3"
    )
    one_line_error(unknown, "nope")


def test_out_must_be_a_study_or_new(runner, workdir):
    (workdir / "study").mkdir()
    (workdir / "study" / "notes.txt").write_text("mine")
    one_line_error(runner(*tune_args("-p", "units=64,128")), "--out study", "holds no study")


def test_a_study_of_other_settings_is_not_resumed(runner, workdir):
    import optuna

    (workdir / "study").mkdir()
    study = optuna.create_study(
        storage=f"sqlite:///{workdir / 'study' / 'study.db'}", study_name="melodynet"
    )
    study.set_user_attr("setup", {"model": "lstm"})
    result = runner(*tune_args("-p", "units=64,128"))
    one_line_error(result, "--out study holds a study of model lstm, not mlp")


def test_the_api_checks_the_same_way():
    songs = [melodynet.Song.from_text("c4 d4 e4 f4 g4 a4", title=str(i)) for i in range(2)]
    with pytest.raises(melodynet.OptionError) as caught:
        melodynet.tune(songs, model="mlp", search={"units": [0, 64]}, validation_split=0.5)
    assert caught.value.option == "param"
    assert str(caught.value) == "param units=0,64: units must be at least 1, not 0"
    with pytest.raises(melodynet.OptionError, match="validation loss") as caught:
        melodynet.tune(songs, model="mlp", search={"units": [32, 64]})
    assert caught.value.option == "validation_split"
    with pytest.raises(melodynet.OptionError, match="both searched and fixed"):
        melodynet.tune(
            songs, model="mlp", search={"units": [32, 64]}, validation_split=0.5, units=8
        )
    with pytest.raises(melodynet.OptionError, match="did you mean 'window'"):
        melodynet.tune(songs, model="mlp", search={"units": "8:16"}, validation_split=0.5, windo=2)


def test_parse_params_and_default_out(monkeypatch):
    assert parse_params(["units=64,128", "Learning_Rate=1e-4:1e-2:log"]) == {
        "units": "64,128",
        "learning-rate": "1e-4:1e-2:log",
    }
    monkeypatch.delenv("MELODYNET_MODELS", raising=False)
    expanded = sorted(str(p) for p in SONGS.glob("*.txt"))
    assert default_out(expanded, "mlp").as_posix() == "models/tune-songs-mlp"
    assert default_out(["songs/*.txt"], "mlp").as_posix() == "models/tune-songs-mlp"
    assert default_out(["corpus:essenFolksong/kinder0"], "lstm").name == "tune-kinder0-lstm"
    assert default_out([str(THREE[0])], "cnn").name == "tune-butterfly-cnn"


def test_optuna_loads_only_when_a_study_runs():
    code = (
        "import sys, melodynet, melodynet.cli; melodynet.tune;"
        "print('optuna' in sys.modules, 'tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.split() == ["False", "False"]


# --- real studies (slow) ---------------------------------------------------------------


def study_trials(directory):
    import optuna

    study = optuna.load_study(study_name="melodynet", storage=f"sqlite:///{directory}/study.db")
    return study.get_trials()


@pytest.mark.slow
def test_a_study_finishes_keeps_the_best_and_resumes(workdir, runner):
    search = ["-p", "units=16,32", "-p", "learning-rate=1e-3:1e-2:log", "-p", "dropout=0:0.3"]
    first = runner(*tune_args("--trials", "2", "--epochs", "8", *search))
    assert first.exit_code == 0, first.output
    assert "trial 0 (1/2): units=" in first.output and "trial 1 (2/2)" in first.output
    assert "state" in first.output and "Best: trial" in first.output

    again = runner(*tune_args("--trials", "3", "--epochs", "8", "--json", *search))
    assert again.exit_code == 0, again.output
    assert "Resuming the study in study/study.db: 2 of 3 trials finished" in again.output
    ran = [line for line in again.output.splitlines() if re.match(r"trial \d+ \(", line)]
    assert len(ran) == 1 and ran[0].startswith("trial 2 (3/3)"), ran  # only one more trial

    trials = study_trials(workdir / "study")
    assert [t.number for t in trials] == [0, 1, 2]
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    result = json.loads(again.output[again.output.index("{") :])
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    best = min(complete, key=lambda t: t.value)
    assert result["best"]["number"] == best.number
    assert result["best"]["value"] == pytest.approx(best.value)
    assert result["best"]["params"] == best.params
    assert [r["number"] for r in result["trials"]] == [0, 1, 2]

    bundle = workdir / "study" / "best"
    assert result["path"] == "study/best"
    assert sorted(p.name for p in (workdir / "study").iterdir() if p.name != ".lock") == [
        "best",
        "study.db",
    ]  # no bundle of any other trial is left behind
    model = melodynet.load(bundle)
    assert model.meta.metrics["tuning"]["trial"] == best.number
    assert model.meta.model == "mlp" and model.meta.units == best.params["units"]
    assert model.meta.model_options["dropout"] == pytest.approx(best.params["dropout"])
    assert min(model.meta.history["val_loss"]) == pytest.approx(best.value)

    done = runner(*tune_args("--trials", "3", "--epochs", "8", *search))
    assert done.exit_code == 0 and "3 of 3 trials finished" in done.output
    assert not [line for line in done.output.splitlines() if re.match(r"trial \d+ \(", line)]


@pytest.mark.slow
def test_the_api_returns_rows_and_the_best_model():
    songs = melodynet.read([str(p) for p in THREE])
    heard = []
    result = melodynet.tune(
        songs,
        model="mlp",
        search={"units": [16, 32], "learning_rate": "1e-3:1e-2:log"},
        trials=2,
        validation_split=0.3,
        epochs=5,
        progress=heard.append,
    )
    assert result.study is None and result.path is None  # no out: nothing on disk
    assert [row.number for row in result.trials] == [0, 1]
    assert result.best.value == min(r.value for r in result.trials if r.state == "complete")
    assert result.model.meta.metrics["tuning"]["trial"] == result.best.number
    epochs = [p for p in heard if p.epoch is not None and not p.epoch.message]
    assert epochs and all("val_loss" in p.epoch.logs for p in epochs)
    assert [p.trial.number for p in heard if p.trial and p.epoch is None] == [0, 1]


@pytest.mark.slow
def test_ctrl_c_stops_the_trial_and_the_same_command_resumes(workdir):
    import optuna

    command = [
        sys.executable,
        "-m",
        "melodynet",
        *map(str, tune_args("--trials", "1", "--epochs", "60", "-p", "units=16,32")),
        "-p",
        "patience=60",  # no early stop: the trial runs long enough to be interrupted
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    storage = f"sqlite:///{workdir / 'study' / 'study.db'}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
        try:
            trials = optuna.load_study(study_name="melodynet", storage=storage).get_trials()
        except Exception:  # not created yet
            continue
        if trials and trials[-1].intermediate_values:  # the first trial is training
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Interrupted trial 0: 0 of 1 trials finished" in err
    assert "resume with: melodynet tune " in err and "--trials 1" in err
    assert "Traceback" not in err
    trials = optuna.load_study(study_name="melodynet", storage=storage).get_trials()
    assert [(t.state.name, t.user_attrs.get("interrupted")) for t in trials] == [("FAIL", True)]

    resumed = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming the study" in resumed.stderr and "0 of 1 trials finished" in resumed.stderr
    assert "interrupted" in resumed.stdout and "complete" in resumed.stdout
    trials = optuna.load_study(study_name="melodynet", storage=storage).get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE"]
    assert (workdir / "study" / "best" / "model.keras").is_file()
