"""Nothing lost: failed writes keep the old file, concurrent trainings keep both bundles."""

import errno
import json
import os
import subprocess
import sys

import pytest

from melodynet import atomic
from melodynet.errors import MelodynetError
from tests.conftest import BUTTERFLY, SONGS


def test_permission_denied_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def denied(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.os, "replace", denied)
    with pytest.raises(MelodynetError, match=r"out.txt: cannot write \(Permission denied\)"):
        atomic.write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_full_disk_while_saving_a_bundle_keeps_the_previous_one(tmp_path):
    bundle = tmp_path / "b"
    with atomic.atomic_dir(bundle) as tmp:
        (tmp / "a").write_text("first")
    with (
        pytest.raises(MelodynetError, match="No space left on device"),
        atomic.atomic_dir(bundle, replace=True) as tmp,
    ):
        (tmp / "a").write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert (bundle / "a").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["b"]


def test_existing_bundle_is_not_replaced_without_asking(tmp_path):
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "a").write_text("first")
    with pytest.raises(MelodynetError, match="already exists"), atomic.atomic_dir(bundle) as tmp:
        (tmp / "a").write_text("second")
    assert (bundle / "a").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["b"]


@pytest.mark.slow
def test_two_trainings_into_one_models_dir(tmp_path):
    env = {**os.environ, "MELODYNET_MODELS": str(tmp_path / "models")}
    cmd = [sys.executable, "-m", "melodynet", "train", "--model", "mlp", "--epochs", "30"]
    runs = [
        subprocess.Popen(
            [*cmd, str(song)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for song in (BUTTERFLY, SONGS / "twinkle.txt")
    ]
    for run in runs:
        out, _ = run.communicate(timeout=300)
        assert run.returncode == 0, out
    models = tmp_path / "models"
    assert sorted(p.name for p in models.iterdir()) == ["LATEST", "butterfly-mlp", "twinkle-mlp"]
    latest = (models / "LATEST").read_text().strip()
    assert latest in {str(models / "butterfly-mlp"), str(models / "twinkle-mlp")}
    for name in ("butterfly-mlp", "twinkle-mlp"):
        meta = json.loads((models / name / "melodynet.json").read_text())
        assert meta["model"] == "mlp"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "melodynet",
                "evaluate",
                "--model-dir",
                str(models / name),
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
