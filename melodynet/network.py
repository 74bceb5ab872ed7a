"""Keras models from a model plugin's body plus one softmax head per encoding head."""

from __future__ import annotations

from melodynet.codec import Codec
from melodynet.hookspecs import ModelConfig, ModelSpec


def features(classes, sizes):
    """The network's input: each head's class as a one-hot vector, concatenated, (...,
    heads) -> (..., sum(sizes)). Class -1 (padding) has no feature. Used by training,
    generation and evaluation alike, inside compiled functions or eagerly."""
    from melodynet.tfenv import tensorflow

    tf = tensorflow()
    return tf.concat([tf.one_hot(classes[..., j], n) for j, n in enumerate(sizes)], axis=-1)


def takes_classes(model) -> bool:
    """Whether a Keras network reads class indices (a model with ``class_inputs``) rather
    than their one-hot features."""
    return "int" in str(model.inputs[0].dtype)


def network_input(model, classes, sizes):
    """What ``model`` reads for these rows of classes (..., columns): the classes
    themselves, or their features."""
    return classes if takes_classes(model) else features(classes, sizes)


def input_sizes(codec: Codec, bar_inputs: bool = False) -> list[int]:
    """The categories of each input column: the heads', then the bar inputs' if any."""
    from melodynet.positions import SIZES

    return [*codec.sizes, *(SIZES if bar_inputs else ())]


def build(
    spec: ModelSpec,
    config: ModelConfig,
    codec: Codec,
    batch_size: int | None = None,
    sizes: list[int] | None = None,
):
    """The trainable model, or with ``config.stateful`` the note-by-note generator;
    ``sizes``: the input columns' categories (default: the heads' alone)."""
    import dataclasses

    from melodynet.tfenv import tensorflow

    tensorflow()
    import keras
    from keras import layers

    sizes = list(sizes or codec.sizes)
    config = dataclasses.replace(config, input_sizes=tuple(sizes))
    width, dtype = (len(sizes), "int32") if spec.class_inputs else (sum(sizes), "float32")
    if not spec.sequence:
        inputs = keras.Input(shape=(config.window, width), dtype=dtype, name="notes")
        hidden = inputs
    elif config.stateful:
        inputs = keras.Input(batch_shape=(batch_size, 1, width), dtype=dtype, name="notes")
        hidden = inputs
    else:
        inputs = keras.Input(shape=(None, width), dtype=dtype, name="notes")
        hidden = inputs
        if not spec.class_inputs:  # padding between songs of different lengths
            hidden = layers.Masking(0.0)(inputs)
    hidden = spec.build(hidden, config)
    outputs = {
        head: layers.Dense(size, activation="softmax", name=head)(hidden)
        for head, size in zip(codec.heads, codec.sizes, strict=True)
    }
    return keras.Model(inputs, outputs, name=spec.name.replace("-", "_"))


def stepper(
    spec: ModelSpec, config: ModelConfig, codec: Codec, trained, batch_size: int, sizes: list[int]
):
    """A stateful copy of a trained sequence model that takes one note per call."""
    import dataclasses

    if takes_classes(trained) != spec.class_inputs:  # a bundle from before the spec changed
        spec = dataclasses.replace(spec, class_inputs=takes_classes(trained))
    step = build(spec, dataclasses.replace(config, stateful=True), codec, batch_size, sizes)
    step.set_weights(trained.get_weights())
    return step


def recurrent_layers(model) -> list:
    """Every recurrent layer of a model, nested ones (inside a plugin's layers) too."""
    import keras

    if hasattr(model, "_flatten_layers"):
        layers = list(model._flatten_layers(include_self=False, recursive=True))
    else:  # public fallback: the layers Keras lists, recursively
        layers, todo = [], list(model.layers)
        while todo:
            layer = todo.pop()
            layers.append(layer)
            todo.extend(getattr(layer, "layers", []))
    return [layer for layer in layers if isinstance(layer, keras.layers.RNN)]


def reset_states(model) -> None:
    for layer in recurrent_layers(model):
        if layer.stateful:
            layer.reset_state()


def describe_model(
    name: str,
    *,
    params: dict | None = None,
    encoding: str = "single",
    window: int = 4,
    units: int = 128,
    classes: int = 32,
) -> dict:
    """What model ``name`` builds with these settings, before any training: its
    description, parameters (declared and resolved), and the Keras network's layers with
    output shapes and parameter counts, for an example vocabulary of ``classes`` labels per
    encoding head. ``summary`` is Keras's own table."""
    from melodynet.errors import ModelError, OptionError
    from melodynet.params import describe_allowed, resolve
    from melodynet.plugins import registry
    from melodynet.training.options import check_whole

    for option, value in (("window", window), ("units", units), ("classes", classes)):
        check_whole(option, value)
    reg = registry()
    try:
        spec, coding = reg.model(name), reg.encoding(encoding)
    except OptionError:
        raise
    except Exception as exc:
        raise ModelError(str(exc)) from None
    values = resolve(spec, params)
    codec = Codec(coding, {head: [f"{head}-{i}" for i in range(classes)] for head in coding.heads})
    model = build(spec, ModelConfig(window=window, units=units, options=values), codec)
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=120)
    return {
        "model": spec.name,
        "description": spec.description,
        "sequence": spec.sequence,
        "plugin": reg.model_plugin(spec.name).name,
        "encoding": coding.name,
        "window": window,
        "units": units,
        "example_vocabulary": {head: classes for head in coding.heads},
        "params": [
            {
                "name": p.name,
                "type": p.type,
                "default": p.default,
                "value": values[p.name],
                "allowed": describe_allowed(p),
                "help": p.help,
            }
            for p in spec.params
        ],
        "layers": [
            {
                "name": layer.name,
                "class": type(layer).__name__,
                "output_shape": _shape(layer),
                "params": layer.count_params(),
            }
            for layer in model.layers
        ],
        "total_params": model.count_params(),
        "trainable_params": int(sum(int(w.numpy().size) for w in model.trainable_weights)),
        "summary": "\n".join(lines),
    }


def _shape(layer) -> list:
    output = layer.output
    outputs = list(output.values()) if isinstance(output, dict) else [output]
    shapes = [[None if d is None else int(d) for d in o.shape] for o in outputs]
    return shapes[0] if len(shapes) == 1 else shapes
