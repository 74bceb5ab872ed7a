"""Training on several devices and workers gives the single-process result.

Tolerance: after 30 epochs the largest weight difference from single-process training is
below 1e-4 (measured: 2.3e-6; the replicas add their gradients in another order).
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from melodynet.training.distribute import is_chief
from tests.conftest import BUTTERFLY
from tests.conftest import one_line_error as _one_line_error

TRAIN = [
    "train",
    str(BUTTERFLY),
    "--model",
    "mlp",
    "--epochs",
    "30",
    "--all-epochs",
    "--batch-size",
    "10",
]


def _max_difference(a, b):
    from melodynet.model import load

    return max(
        float(np.abs(x - y).max())
        for x, y in zip(load(a).network.get_weights(), load(b).network.get_weights(), strict=True)
    )


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "b"
    subprocess.run(
        [sys.executable, "-m", "melodynet", *TRAIN, "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus(tmp_path, single):
    env = {**os.environ, "MELODYNET_CPU_DEVICES": "2"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "melodynet",
            *TRAIN,
            "--strategy",
            "mirrored",
            "--out",
            str(tmp_path / "m"),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert _max_difference(tmp_path / "m", single) < 1e-4


@pytest.mark.slow
def test_two_workers_train_one_model(tmp_path, single):
    cluster = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    workers = []
    for index in range(2):
        config = {"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config)}
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "melodynet",
                    *TRAIN,
                    "--strategy",
                    "multi-worker",
                    "--out",
                    str(tmp_path / "mw"),
                ],
                env=env,
                cwd=tmp_path,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    errors = [w.communicate(timeout=300)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], errors
    assert "Saved" in errors[0] and "Not the chief worker" in errors[1]
    assert _max_difference(tmp_path / "mw", single) < 1e-4


def test_multi_worker_needs_tf_config(workdir, runner, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    _one_line_error(runner(*TRAIN, "--strategy", "multi-worker"), "needs TF_CONFIG")


@pytest.mark.parametrize(
    ("config", "chief"),
    [
        (None, True),
        ({"cluster": {"worker": ["a", "b"]}, "task": {"type": "worker", "index": 0}}, True),
        ({"cluster": {"worker": ["a", "b"]}, "task": {"type": "worker", "index": 1}}, False),
        (
            {"cluster": {"chief": ["c"], "worker": ["a"]}, "task": {"type": "worker", "index": 0}},
            False,
        ),
        (
            {"cluster": {"chief": ["c"], "worker": ["a"]}, "task": {"type": "chief", "index": 0}},
            True,
        ),
    ],
)
def test_only_the_chief_writes(monkeypatch, config, chief):
    if config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    assert is_chief() is chief
