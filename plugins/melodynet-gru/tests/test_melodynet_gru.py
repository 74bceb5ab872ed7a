"""melodynet-gru through melodynet's command line: train, evaluate, generate in a new process."""

import json
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[3]
BUTTERFLY = ROOT / "songs" / "butterfly.txt"


@pytest.fixture(scope="module")
def cli():
    try:
        distribution("melodynet-gru")
    except PackageNotFoundError:
        pytest.fail("melodynet-gru is not installed: pip install -e plugins/melodynet-gru")
    from melodynet.cli import cli
    from melodynet.plugins import registry

    registry(cli)

    def invoke(*args):
        result = CliRunner().invoke(cli, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        return result

    return invoke


@pytest.fixture
def models(tmp_path, monkeypatch):
    monkeypatch.setenv("MELODYNET_MODELS", str(tmp_path / "models"))
    return tmp_path / "models"


def _evaluate(cli, bundle):
    [song] = json.loads(cli("evaluate", "--model-dir", bundle, "--json").stdout)["songs"]
    return song


def test_models_are_listed_with_their_distribution(cli):
    listed = cli("models").stdout
    assert "melodynet-gru" in listed
    lines = {line.split()[0]: line for line in listed.splitlines()}
    assert lines["gru"].split()[1] == "window"
    assert lines["stateful-gru"].split()[1] == "sequence"
    plugins = json.loads(cli("plugins", "--json").stdout)
    [gru] = [p for p in plugins if p["name"] == "gru"]
    assert gru["distribution"] == "melodynet-gru" and gru["status"] == "ok"
    assert gru["hooks"] == ["register_models"]
    assert gru["provides"] == ["model:gru", "model:stateful-gru"]


@pytest.mark.slow
def test_stateful_gru_plays_butterfly_back(cli, models):
    from melodynet.songs.files import read_songs

    bundle = models / "butterfly-stateful-gru"
    cli("train", BUTTERFLY, "--model", "stateful-gru", "--out", bundle)
    meta = json.loads((bundle / "melodynet.json").read_text())
    assert meta["model"] == "stateful-gru" and meta["model_plugin"] == "gru"
    assert meta["model_distribution"] == "melodynet-gru"
    scores = _evaluate(cli, bundle)
    assert scores["full_song_matches"] == 50 and scores["full_song_length"] == 50
    assert scores["one_step_correct"] == 50

    # A new process finds the model through the installed plugin and reproduces the song.
    env = {**os.environ, "MELODYNET_MODELS": str(models)}
    env.pop("MELODYNET_LOAD_PLUGINS", None)
    made = subprocess.run(
        [sys.executable, "-m", "melodynet.cli", "generate", "--seed", "4", "--out", "s.txt"],
        cwd=models.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    assert "50/50 generated notes match butterfly" in made.stderr
    assert str(bundle) in made.stderr  # LATEST points at the GRU bundle
    [song] = read_songs([BUTTERFLY])
    assert made.stdout.split() == [note.tiny for note in song.notes]


@pytest.mark.slow
def test_windowed_gru_learns_butterfly_one_step(cli, models):
    bundle = models / "butterfly-gru"
    cli("train", BUTTERFLY, "--model", "gru", "--out", bundle)
    scores = _evaluate(cli, bundle)
    assert scores["one_step_total"] == 50
    assert scores["one_step_correct"] >= 44
    full = cli("generate", "--model-dir", bundle, "--seed", "4").stdout.split()
    assert len(full) == 54 and full[:4] == ["g8", "e8", "e4", "f8"]
