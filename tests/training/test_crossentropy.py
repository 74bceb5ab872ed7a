"""The training loss: Keras's sparse cross-entropy, the same numbers with a dense gradient."""

import numpy as np
import pytest


@pytest.mark.parametrize("shape", [(16,), (4, 9)])
def test_the_same_loss_and_gradient_as_keras(shape):
    import keras
    import tensorflow as tf

    from melodynet.training.crossentropy import sparse_cross_entropy

    tf.config.experimental.enable_op_determinism()  # as training runs: Keras's gather path
    rng = np.random.default_rng(0)
    dense = keras.layers.Dense(11, activation="softmax")
    hidden = tf.constant(rng.normal(size=(*shape, 5)).astype(np.float32))
    target = tf.constant(rng.integers(0, 11, shape).astype(np.int32))
    weight = tf.constant(rng.random(shape).astype(np.float32))
    results = []
    for loss in (sparse_cross_entropy, keras.losses.sparse_categorical_crossentropy):
        with tf.GradientTape() as tape:
            values = loss(target, dense(hidden))
            total = tf.reduce_sum(values * weight)
        grads = tape.gradient(total, dense.trainable_variables)
        results.append([values.numpy(), *(tf.convert_to_tensor(g).numpy() for g in grads)])
    for ours, keras_ in zip(*results, strict=True):
        assert np.array_equal(ours, keras_)  # to the last bit
    assert results[0][0].shape == shape and (results[0][0] > 0).all()


def test_probabilities_not_from_a_keras_softmax_are_left_to_keras():
    import keras

    from melodynet.training.crossentropy import sparse_cross_entropy

    probabilities = np.array([[0.25, 0.75], [0.5, 0.5]], dtype=np.float32)
    got = sparse_cross_entropy(np.array([1, 0]), probabilities)
    expected = keras.losses.sparse_categorical_crossentropy(np.array([1, 0]), probabilities)
    np.testing.assert_allclose(np.asarray(got), -np.log([0.75, 0.5]), rtol=1e-6)
    assert np.array_equal(np.asarray(got), np.asarray(expected))
