"""Damaged, foreign and unsafe bundles are refused with one line each."""

import json
import shutil

import pytest

from tests.conftest import one_line_error as _one_line_error


@pytest.fixture
def bundle_copy(tmp_path, butterfly_bundle):
    target = tmp_path / "copy"
    shutil.copytree(butterfly_bundle, target)
    return target


def _edit_meta(bundle, **changes):
    path = bundle / "melodynet.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_intact_copy_loads(runner, bundle_copy):
    assert runner("evaluate", "--model-dir", bundle_copy).exit_code == 0


@pytest.mark.parametrize("missing", ["model.keras", "melodynet.json"])
def test_missing_file(runner, bundle_copy, missing):
    (bundle_copy / missing).unlink()
    _one_line_error(runner("generate", "--model-dir", bundle_copy), "not a melodynet bundle")


def test_truncated_model(runner, bundle_copy):
    model = bundle_copy / "model.keras"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    _one_line_error(
        runner("generate", "--model-dir", bundle_copy), "model.keras", "cannot load the model"
    )


def test_newer_melodynet(runner, bundle_copy):
    _edit_meta(bundle_copy, format=99, melodynet_version="9.0")
    _one_line_error(
        runner("evaluate", "--model-dir", bundle_copy), "melodynet 9.0", "upgrade melodynet"
    )


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"window": "four"}, "window"),
        ({"vocabulary": {"note": []}}, "vocabulary"),
        ({"songs": [{"notes": ["x:y"]}]}, "training songs"),
        ({"songs": [{"notes": [60, 62]}]}, "training songs"),  # the fuzzer's second find
        ({"model": 3}, "model"),
    ],
)
def test_invalid_metadata(runner, bundle_copy, changes, fragment):
    _edit_meta(bundle_copy, **changes)
    _one_line_error(runner("evaluate", "--model-dir", bundle_copy), "invalid metadata", fragment)


def test_garbage_metadata(runner, bundle_copy):
    (bundle_copy / "melodynet.json").write_bytes(b"\x00\xffnot json")
    _one_line_error(runner("evaluate", "--model-dir", bundle_copy), "unreadable metadata")


@pytest.mark.parametrize(
    "damage",
    [
        lambda net: net["heads"][0].pop("weights"),  # the fuzzer's find (scripts/fuzz.py)
        lambda net: net["layers"][0].update(op="dens["),
        lambda net: net["layers"][0].update(weights=[99, 100]),
    ],
)
def test_a_damaged_network_description_leaves_the_model_to_keras(bundle_copy, damage):
    import melodynet

    intact = melodynet.load(bundle_copy)
    assert intact.numpy_network is not None
    data = json.loads((bundle_copy / "melodynet.json").read_text())
    damage(data["network"])  # model.keras is untouched: its checksum still matches
    _edit_meta(bundle_copy, network=data["network"])
    damaged = melodynet.load(bundle_copy)
    assert damaged.numpy_network is None  # Keras loads model.keras instead
    assert damaged.generate(4).notes == intact.generate(4).notes


def test_vocabulary_that_does_not_match_the_model(runner, bundle_copy):
    data = json.loads((bundle_copy / "melodynet.json").read_text())
    _edit_meta(bundle_copy, vocabulary={"note": [*data["vocabulary"]["note"], "60:4"]})
    _one_line_error(runner("generate", "--model-dir", bundle_copy), "does not match the vocabulary")


def test_lambda_layer_is_refused_by_safe_mode(runner, bundle_copy):
    import keras

    inputs = keras.Input(shape=(None, 9))
    hidden = keras.layers.Lambda(lambda x: x * 2.0)(inputs)
    outputs = {"note": keras.layers.Dense(9, activation="softmax", name="note")(hidden)}
    keras.Model(inputs, outputs).save(bundle_copy / "model.keras")
    _one_line_error(runner("generate", "--model-dir", bundle_copy), "Lambda", "safe mode")


def test_plugin_model_not_installed(runner, bundle_copy):
    _edit_meta(
        bundle_copy, model="gizmo", model_plugin="gizmo", model_distribution="melodynet-gizmo"
    )
    _one_line_error(runner("generate", "--model-dir", bundle_copy), "pip install melodynet-gizmo")
