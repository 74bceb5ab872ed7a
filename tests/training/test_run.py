"""Training that survives: checkpoints, Ctrl-C, exact resume, validation, TensorBoard."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from melodynet.training.run import stop_on_signals
from tests.conftest import BUTTERFLY, SONGS

pytestmark = pytest.mark.slow


def _weights(directory):
    from melodynet.model import load

    return load(directory).network.get_weights()


def _same_weights(a, b):
    return all(np.array_equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))


def test_signal_asks_to_stop_instead_of_killing():
    with stop_on_signals() as should_stop:
        assert not should_stop()
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        assert should_stop()


def test_resume_continues_exactly(workdir, runner):
    common = ["train", BUTTERFLY, "--model", "mlp", "--batch-size", "8", "--all-epochs"]
    assert runner(*common, "--epochs", "30", "--out", "whole").exit_code == 0
    assert runner(*common, "--epochs", "12", "--out", "part").exit_code == 0
    resumed = runner("train", "--resume", "part", "--epochs", "30")
    assert resumed.exit_code == 0, resumed.output
    assert "Resuming part at epoch 12 of 30" in resumed.output
    assert _same_weights("whole", "part")
    whole = json.loads((workdir / "whole/melodynet.json").read_text())
    part = json.loads((workdir / "part/melodynet.json").read_text())
    assert part["history"] == whole["history"] and part["epochs_run"] == 30
    finished = runner("train", "--resume", "part")
    assert finished.exit_code != 0 and "pass --epochs N" in finished.output


def test_ctrl_c_saves_a_usable_bundle_and_resume_matches(workdir, runner):
    args = [
        "train",
        str(BUTTERFLY),
        "--model",
        "mlp",
        "--batch-size",
        "8",
        "--all-epochs",
        "--epochs",
        "600",
    ]
    cmd = [sys.executable, "-m", "melodynet", *args]
    run = subprocess.Popen([*cmd, "--out", "cut"], cwd=workdir, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (workdir / "cut" / "melodynet.json").exists():
        assert run.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert "Traceback" not in err
    meta = json.loads((workdir / "cut/melodynet.json").read_text())
    assert meta["status"] == "interrupted" and 0 < meta["epochs_run"] < 600
    assert "continue with: melodynet train --resume cut" in err

    usable = runner("generate", "--model-dir", "cut", "--out", "cut.mid")
    assert usable.exit_code == 0, usable.output
    assert runner("train", "--resume", "cut").exit_code == 0
    assert runner(*args, "--out", "whole").exit_code == 0
    assert _same_weights("cut", "whole")


def test_validation_split_holds_out_whole_songs(workdir, runner):
    songs = sorted(SONGS.glob("*.txt"))
    result = runner(
        "train",
        *songs,
        "--model",
        "lstm",
        "--epochs",
        "40",
        "--validation-split",
        "0.25",
        "--tensorboard",
        "tb",
        "--out",
        "b",
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((workdir / "b/melodynet.json").read_text())
    held = {s["name"] for s in meta["validation_songs"]}
    trained = {s["name"] for s in meta["songs"]}
    assert len(held) == round(len(songs) * 0.25) and not held & trained
    assert len(held | trained) == len(songs)
    for key in ("val_loss", "val_perplexity", "val_accuracy"):
        assert len(meta["history"][key]) == meta["epochs_run"]
    assert meta["history"]["val_perplexity"][0] == pytest.approx(
        np.exp(meta["history"]["val_loss"][0])
    )
    best = meta["metrics"]["best_epoch"]
    assert meta["history"]["val_loss"][best - 1] == min(meta["history"]["val_loss"])
    assert meta["options"]["patience"] == 5  # early stopping is on by default with a split
    assert meta["epochs_run"] == 40 or meta["epochs_run"] == best + 5
    assert list((workdir / "tb").glob("events.out.tfevents.*"))

    shown = runner("evaluate", "--model-dir", "b")
    assert shown.exit_code == 0, shown.output
    per_song = re.findall(r"one-step (\d+)/(\d+) .*full song (\d+)/", shown.output)
    *songs, total = per_song
    assert len(songs) == len(trained)
    sums = [sum(int(row[i]) for row in songs) for i in range(3)]
    assert f"all {len(trained)} training songs" in shown.output
    assert [int(v) for v in total] == sums
    assert "order-3 n-gram" in shown.output


def test_validation_split_needs_two_songs(workdir, runner):
    result = runner("train", BUTTERFLY, "--validation-split", "0.5")
    assert result.exit_code != 0 and "needs at least 2 songs" in result.output


def test_patience_needs_a_validation_split(workdir, runner):
    result = runner("train", BUTTERFLY, "--patience", "3")
    assert result.exit_code != 0 and "add --validation-split" in result.output
