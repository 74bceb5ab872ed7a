"""The training loss: Keras's sparse categorical cross-entropy, without its costly gradient.

Training runs with TensorFlow's op determinism, under which
``tf.nn.sparse_softmax_cross_entropy_with_logits`` (what Keras calls) is computed as
``-gather(log_softmax(logits), target)``; the gather's gradient then comes back as
IndexedSlices that TensorFlow densifies with an UnsortedSegmentSum over every (note,
class) pair, plus a zeros_like of the same size: on a batch of whole songs that was a
third of a stateful LSTM's step. ``sparse_cross_entropy`` computes the same numbers in
the same order and writes the gather's gradient directly as a dense one-hot.
"""

from __future__ import annotations

import functools


def sparse_cross_entropy(target, probabilities):
    """Each target's negative log-likelihood (...,) under ``probabilities`` (..., classes),
    the output of a Keras softmax; from its logits, as Keras does."""
    logits = getattr(probabilities, "_keras_logits", None)
    if logits is None:  # not a Keras softmax: Keras knows what to do
        import keras

        return keras.losses.sparse_categorical_crossentropy(target, probabilities)
    from melodynet.tfenv import tensorflow

    tf = tensorflow()
    return tf.negative(_pick()(tf.nn.log_softmax(logits), tf.cast(target, tf.int32)))


@functools.cache
def _pick():
    """``values[..., target]``, whose gradient is a dense tensor of the values' shape."""
    from melodynet.tfenv import tensorflow

    tf = tensorflow()

    @tf.custom_gradient
    def pick(values, target):
        def gradient(upstream):
            hot = tf.equal(tf.range(tf.shape(values)[-1]), target[..., None])
            return tf.where(hot, upstream[..., None], tf.zeros_like(values)), None

        return tf.gather(values, target, batch_dims=len(target.shape)), gradient

    return pick
