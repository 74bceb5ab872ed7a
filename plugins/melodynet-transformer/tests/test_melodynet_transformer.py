"""melodynet-transformer: light import, serializable layers, train and reload in a new process."""

import json
import os
import re
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
        distribution("melodynet-transformer")
    except PackageNotFoundError:
        pytest.fail(
            "melodynet-transformer is not installed: pip install -e plugins/melodynet-transformer"
        )


def test_model_is_listed_with_its_distribution(melodynet_cli):
    line = next(
        line for line in melodynet_cli("models").stdout.splitlines() if "transformer" in line
    )
    assert line.split()[:3] == ["transformer", "window", "melodynet-transformer"]
    plugins = json.loads(melodynet_cli("plugins", "--json").stdout)
    [transformer] = [p for p in plugins if p["name"] == "transformer"]
    assert transformer["status"] == "ok" and transformer["provides"] == ["model:transformer"]


def test_plugin_module_does_not_import_keras():
    code = (
        "import sys, melodynet_transformer\n"
        "heavy = sorted({'keras', 'tensorflow'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_layers_are_registered_and_rebuild_from_config():
    import keras
    import numpy as np
    from melodynet_transformer import custom_objects
    from melodynet_transformer.layers import CausalSelfAttentionBlock, PositionalEmbedding

    objects = custom_objects()
    assert objects == {
        "melodynet_transformer>PositionalEmbedding": PositionalEmbedding,
        "melodynet_transformer>CausalSelfAttentionBlock": CausalSelfAttentionBlock,
    }
    block = CausalSelfAttentionBlock(heads=2, ff_units=16, name="b")
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(block))
    assert type(copy) is CausalSelfAttentionBlock
    assert (copy.heads, copy.ff_units, copy.name) == (2, 16, "b")
    positions = PositionalEmbedding.from_config(PositionalEmbedding(5, name="p").get_config())
    assert positions.length == 5

    # Causal: changing a later note leaves earlier positions' outputs alone.
    x = np.random.default_rng(0).normal(size=(1, 4, 8)).astype("float32")
    later = x.copy()
    later[0, 3] += 1.0
    out, out_later = np.asarray(block(x)), np.asarray(block(later))
    assert np.allclose(out[0, :3], out_later[0, :3], atol=1e-5)
    assert not np.allclose(out[0, 3], out_later[0, 3])


@pytest.mark.slow
def test_transformer_trains_and_reloads_in_a_new_process(melodynet_cli):
    tmp_path = melodynet_cli.path  # the working directory, with MELODYNET_MODELS inside it
    bundle = tmp_path / "butterfly-transformer"
    model = assert_learns(BUTTERFLY, model="transformer", one_step_at_least="44/50", out=bundle)
    assert model.meta.model_distribution == "melodynet-transformer"
    [scores] = model.meta.metrics["songs"]  # what `melodynet evaluate --json` prints

    env = {**os.environ}
    env.pop("MELODYNET_LOAD_PLUGINS", None)
    made = subprocess.run(
        [sys.executable, "-m", "melodynet.cli", "generate", "--model-dir", str(bundle)]
        + ["--mode", "one-step", "--seed", "4", "--out", str(tmp_path / "one-step.mid")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    assert "Traceback" not in made.stderr and "melodynet: warning" not in made.stderr
    found = re.search(r"(\d+)/50 generated notes match butterfly", made.stderr)
    assert found, made.stderr
    # The reloaded model predicts exactly what the trained one did.
    assert int(found.group(1)) == scores["one_step_correct"]
    assert (tmp_path / "one-step.mid").stat().st_size > 0
