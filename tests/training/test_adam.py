"""FusedAdam: Keras's Adam through TensorFlow's fused kernel."""

import numpy as np


def _variables(rng):
    import keras

    return [
        keras.Variable(rng.normal(size=(5, 3)).astype(np.float32)),
        keras.Variable(rng.normal(size=(3,)).astype(np.float32)),
    ]


def test_the_same_steps_and_state_as_keras_adam():
    import keras
    import tensorflow as tf

    from melodynet.training.adam import FusedAdam

    rng = np.random.default_rng(0)
    ours_vars, theirs_vars = _variables(rng), _variables(np.random.default_rng(0))
    start = [v.numpy().copy() for v in ours_vars]
    ours = FusedAdam(0.01, ours_vars)
    theirs = keras.optimizers.Adam(0.01)
    theirs.build(theirs_vars)
    # the same variables in the same order: a saved training state resumes with either
    assert [tuple(v.shape) for v in ours.variables] == [tuple(v.shape) for v in theirs.variables]
    apply = tf.function(ours.apply)
    for _ in range(5):
        grads = [rng.normal(size=v.shape).astype(np.float32) for v in ours_vars]
        apply([tf.constant(g) for g in grads])
        theirs.apply_gradients(zip([tf.constant(g) for g in grads], theirs_vars, strict=True))
    for a, b, before in zip(ours_vars, theirs_vars, start, strict=True):
        assert np.abs(a.numpy() - before).min() > 1e-3  # every weight moved
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    for a, b in zip(ours.variables, theirs.variables, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-7)
    assert int(ours.iterations.numpy()) == 5
