"""Declared model hyperparameters: checked before anything runs, built, saved, shown."""

import json

import pytest

import melodynet
from melodynet.errors import OptionError
from melodynet.hookspecs import ModelSpec, Param
from melodynet.params import check_declarations, parse_assignments, resolve
from tests.conftest import BUTTERFLY, one_line_error

SPEC = ModelSpec(
    "toy",
    lambda inputs, config: inputs,
    params=(
        Param("layers", "int", 1, "stacked layers", 1, 8),
        Param("dropout", "float", 0.0, "dropout", 0.0, 0.9),
        Param("recurrent-dropout", "float", 0.0, "recurrent dropout", 0.0, 0.9),
        Param("bias", "bool", True, "use a bias"),
        Param("cell", "choice", "lstm", "the cell", choices=("lstm", "gru")),
    ),
)


def test_values_are_converted_and_defaults_filled_in():
    given = parse_assignments(["layers=3", "recurrent_dropout=0.25", "bias=no", "cell=GRU"])
    assert resolve(SPEC, given) == {
        "layers": 3,
        "dropout": 0.0,
        "recurrent-dropout": 0.25,
        "bias": False,
        "cell": "gru",
    }
    assert resolve(SPEC, {"layers": 2.0, "dropout": 0})["layers"] == 2
    assert resolve(SPEC, None) == {p.name: p.default for p in SPEC.params}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"layer": "2"},
            "'layer' is not a parameter of model toy (did you mean 'layers'?); "
            "its parameters: layers, dropout, recurrent-dropout, bias, cell",
        ),
        ({"layers": "two"}, "layers='two' for model toy: expected a whole number from 1 to 8"),
        ({"layers": "9"}, "expected a whole number from 1 to 8"),
        ({"layers": "1.5"}, "expected a whole number"),
        ({"dropout": "-0.1"}, "dropout='-0.1' for model toy: expected a number from 0 to 0.9"),
        ({"dropout": "nan"}, "expected a number from 0 to 0.9"),
        ({"bias": "maybe"}, "expected true or false"),
        ({"cell": "rnn"}, "expected one of lstm, gru"),
        ({"layers": True}, "expected a whole number"),
    ],
)
def test_bad_values_say_what_is_allowed(given, message):
    with pytest.raises(OptionError, match="^param ") as info:
        resolve(SPEC, given)
    assert message in str(info.value) and info.value.option == "param"


def test_assignments_need_a_name_and_a_value():
    for bad in ("layers", "=2", "layers="):
        with pytest.raises(OptionError, match="expected NAME=VALUE"):
            parse_assignments([bad])


def test_declarations_are_checked_when_a_plugin_registers():
    check_declarations(SPEC.params)
    for bad, message in [
        ((Param("Layers", "int", 1),), "invalid param name"),
        ((Param("a", "int", 1), Param("a", "int", 2)), "declared twice"),
        ((Param("a", "integer", 1),), "type must be one of"),
        ((Param("a", "choice", "x"),), "a choice needs choices"),
        ((Param("a", "int", 0, low=1),), "default 0 is not a whole number of at least 1"),
    ]:
        with pytest.raises(ValueError, match=message):
            check_declarations(bad)


def test_built_in_models_declare_the_usual_knobs():
    from melodynet.plugins import registry

    names = {m: [p.name for p in registry().model(m).params] for m in registry().models}
    assert names["mlp"] == ["layers", "dropout", "l2"]
    assert (
        names["lstm"]
        == names["stateful-lstm"]
        == [
            "layers",
            "dropout",
            "recurrent-dropout",
            "l2",
        ]
    )
    assert names["cnn"] == ["layers", "kernel-size", "dilation-growth", "dropout", "l2"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-p", "layer=2"], "--param 'layer' is not a parameter of model lstm (did you mean"),
        (["--param", "dropout=1.5"], "--param dropout='1.5' for model lstm: expected a number"),
        (["--param", "layers"], "--param 'layers': expected NAME=VALUE"),
        (["--model", "stateful-lstm", "-p", "kernel-size=3"], "its parameters: layers, dropout"),
    ],
)
def test_bad_params_are_one_line_errors_and_nothing_is_trained(workdir, runner, args, fragment):
    args = args if "--model" in args else ["--model", "lstm", *args]
    one_line_error(runner("train", BUTTERFLY, *args), fragment)
    assert not (workdir / "models").exists()


def _lstm_weights(inputs: int, units: int) -> int:
    """Keras's LSTM: four gates, each with input and recurrent kernels and a bias."""
    return 4 * (units * (inputs + units) + units)


def test_describe_counts_what_keras_builds(runner):
    done = runner(
        "models", "--describe", "stateful-lstm", "-p", "layers=2", "--units", "16", "--json"
    )
    assert done.exit_code == 0, done.output
    found = json.loads(done.stdout)
    lstms = [layer for layer in found["layers"] if layer["class"].endswith("LSTM")]
    # the first reads class indices: the same weights as an LSTM on their one-hot vectors
    assert [layer["class"] for layer in lstms] == ["ClassLSTM", "LSTM"]
    [head] = [layer for layer in found["layers"] if layer["name"] == "note"]
    classes = found["example_vocabulary"]["note"]
    assert [layer["params"] for layer in lstms] == [
        _lstm_weights(classes, 16),
        _lstm_weights(16, 16),
    ]
    assert head["params"] == 16 * classes + classes
    assert found["total_params"] == sum(layer["params"] for layer in found["layers"])
    assert [p["value"] for p in found["params"]] == [2, 0.0, 0.0, 0.0]
    text = runner("models", "--describe", "stateful-lstm", "-p", "layers=2", "--units", "16")
    assert text.exit_code == 0 and "default 1, now 2" in text.stdout
    assert f"{found['total_params']:,}" in text.stdout  # Keras's own summary table


def test_describe_a_model_without_declared_params_and_bad_names(runner):
    one_line_error(runner("models", "--describe", "nope"), "unknown model 'nope'")
    one_line_error(runner("models", "-p", "layers=2"), "--describe")


@pytest.mark.slow
def test_stacked_and_dropout_models_learn_and_record_their_params(tmp_path):
    lstm = melodynet.train(
        [BUTTERFLY], model="lstm", params={"layers": 2, "dropout": 0.1}, out=tmp_path / "l"
    )
    [scores] = lstm.evaluate()["songs"]
    assert scores["one_step_correct"] == 46  # the window ceiling of butterfly
    saved = json.loads((tmp_path / "l" / "melodynet.json").read_text())
    assert saved["model_options"] == {
        "layers": 2,
        "dropout": 0.1,
        "recurrent-dropout": 0.0,
        "l2": 0.0,
    }
    assert melodynet.load(tmp_path / "l").evaluate()["params"]["layers"] == 2

    stacked = melodynet.train(
        [BUTTERFLY],
        model="stateful-lstm",
        params={"layers": 2, "dropout": 0.1, "recurrent-dropout": 0.1},
    )
    melody = stacked.generate(4)
    assert melody.extra["matches"] == melody.extra["compared"] == "50"  # note for note
