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


def build(spec: ModelSpec, config: ModelConfig, codec: Codec, batch_size: int | None = None):
    """The trainable model, or with ``config.stateful`` the note-by-note generator."""
    from melodynet.tfenv import tensorflow

    tensorflow()
    import keras
    from keras import layers

    features = codec.feature_size
    if not spec.sequence:
        inputs = keras.Input(shape=(config.window, features), name="notes")
        hidden = inputs
    elif config.stateful:
        inputs = keras.Input(batch_shape=(batch_size, 1, features), name="notes")
        hidden = inputs
    else:
        inputs = keras.Input(shape=(None, features), name="notes")
        hidden = layers.Masking(0.0)(inputs)  # padding between songs of different lengths
    hidden = spec.build(hidden, config)
    outputs = {
        head: layers.Dense(size, activation="softmax", name=head)(hidden)
        for head, size in zip(codec.heads, codec.sizes, strict=True)
    }
    return keras.Model(inputs, outputs, name=spec.name.replace("-", "_"))


def stepper(spec: ModelSpec, config: ModelConfig, codec: Codec, trained, batch_size: int):
    """A stateful copy of a trained sequence model that takes one note per call."""
    import dataclasses

    step = build(spec, dataclasses.replace(config, stateful=True), codec, batch_size)
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
