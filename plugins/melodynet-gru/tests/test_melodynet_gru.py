"""melodynet-gru through melodynet: listed, learns butterfly, replays it in a new process."""

import json
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

from melodynet.testing import assert_learns

ROOT = Path(__file__).resolve().parents[3]
BUTTERFLY = ROOT / "songs" / "butterfly.txt"


@pytest.fixture(scope="module", autouse=True)
def installed():
    try:
        distribution("melodynet-gru")
    except PackageNotFoundError:
        pytest.fail("melodynet-gru is not installed: pip install -e plugins/melodynet-gru")


def test_models_are_listed_with_their_distribution(melodynet_cli):
    listed = melodynet_cli("models").stdout
    assert "melodynet-gru" in listed
    lines = {line.split()[0]: line for line in listed.splitlines()}
    assert lines["gru"].split()[1] == "window"
    assert lines["stateful-gru"].split()[1] == "sequence"
    plugins = json.loads(melodynet_cli("plugins", "--json").stdout)
    [gru] = [p for p in plugins if p["name"] == "gru"]
    assert gru["distribution"] == "melodynet-gru" and gru["status"] == "ok"
    assert gru["hooks"] == ["register_models"]
    assert gru["provides"] == ["model:gru", "model:stateful-gru"]


@pytest.mark.slow
def test_stateful_gru_plays_butterfly_back(melodynet_cli, notes_snapshot):
    bundle = melodynet_cli.models / "butterfly-stateful-gru"
    model = assert_learns(
        BUTTERFLY, model="stateful-gru", one_step_at_least="50/50", full_song=True, out=bundle
    )
    assert (model.meta.model_plugin, model.meta.model_distribution) == ("gru", "melodynet-gru")

    # A new process finds the model through the installed plugin and reproduces the song
    # (the snapshot is butterfly, one note per line).
    env = {**os.environ}
    env.pop("MELODYNET_LOAD_PLUGINS", None)
    made = subprocess.run(
        [sys.executable, "-m", "melodynet.cli", "generate", "--seed", "4", "--out", "s.txt"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    assert "50/50 generated notes match butterfly" in made.stderr
    assert str(bundle) in made.stderr  # LATEST points at the GRU bundle
    notes_snapshot(made.stdout)


@pytest.mark.slow
def test_windowed_gru_learns_butterfly_one_step():
    model = assert_learns(BUTTERFLY, model="gru", one_step_at_least="44/50")
    melody = model.generate(4)
    assert len(melody.notes) == 54 and melody.tiny().split()[:4] == ["g8", "e8", "e4", "f8"]
