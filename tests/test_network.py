"""Networks on class indices (``ModelSpec.class_inputs``) and on one-hot features: the
built-in LSTMs read class indices; networks saved before they did still run."""

import dataclasses

import numpy as np
import pytest

from melodynet import network
from melodynet.codec import Codec
from melodynet.hookspecs import ModelConfig
from melodynet.plugins import registry


def _codec():
    coding = registry().encoding("split")
    return Codec(coding, {"pitch": [f"p{i}" for i in range(6)], "duration": ["4", "8", "16"]})


def _build(spec, config, codec, **kwargs):
    import keras

    keras.utils.set_random_seed(5)
    return network.build(spec, config, codec, **kwargs)


@pytest.mark.parametrize("name", ["lstm", "stateful-lstm"])
def test_class_inputs_build_the_network_features_build(name):
    import tensorflow as tf

    spec, codec = registry().model(name), _codec()
    assert spec.class_inputs
    config = ModelConfig(window=4, units=8, options={"layers": 2})
    on_classes = _build(spec, config, codec)
    on_features = _build(dataclasses.replace(spec, class_inputs=False), config, codec)
    assert network.takes_classes(on_classes) and not network.takes_classes(on_features)
    # same seed, same weights: the ClassLSTM's kernel is the LSTM's
    for a, b in zip(on_classes.get_weights(), on_features.get_weights(), strict=True):
        assert np.array_equal(a, b)
    rng = np.random.default_rng(0)
    x = np.stack([rng.integers(0, 6, (3, 4)), rng.integers(0, 3, (3, 4))], axis=-1)
    if spec.sequence:
        x[0, 2:] = -1  # padding
    x = tf.constant(x.astype(np.int32))
    got = on_classes(network.network_input(on_classes, x, codec.sizes))
    expected = on_features(network.network_input(on_features, x, codec.sizes))
    for head in codec.heads:
        np.testing.assert_allclose(got[head].numpy(), expected[head].numpy(), atol=1e-6)


def test_a_network_saved_on_features_still_steps_on_features():
    """A bundle trained before the built-in LSTMs read classes: its generator is built
    the way it was trained."""
    spec, codec = registry().model("stateful-lstm"), _codec()
    config = ModelConfig(window=4, units=8)
    old = _build(dataclasses.replace(spec, class_inputs=False), config, codec)
    step = network.stepper(spec, config, codec, old, 2, codec.sizes)
    assert not network.takes_classes(step)
    assert step.input_shape == (2, 1, sum(codec.sizes))
    new = network.stepper(spec, config, codec, _build(spec, config, codec), 2, codec.sizes)
    assert network.takes_classes(new) and new.input_shape == (2, 1, len(codec.sizes))
