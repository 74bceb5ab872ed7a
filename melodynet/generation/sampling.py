"""Choosing the next note from a softmax head: greedy, or sampled with temperature, top-k
and top-p (nucleus). Runs inside the compiled generation loop."""

from __future__ import annotations

from dataclasses import dataclass

from melodynet.errors import OptionError


@dataclass(frozen=True)
class Sampling:
    """Greedy unless a temperature is set. A fixed seed gives the same notes every run."""

    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.temperature is not None and not self.temperature > 0:
            raise OptionError(
                f"temperature must be above 0, not {self.temperature}", option="temperature"
            )
        if self.top_k is not None and self.top_k < 1:
            raise OptionError(f"top_k must be at least 1, not {self.top_k}", option="top_k")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise OptionError(f"top_p must be in (0, 1], not {self.top_p}", option="top_p")

    @property
    def greedy(self) -> bool:
        return self.temperature is None and self.top_k is None and self.top_p is None


def choose(probs, sampling: Sampling, seed):
    """Class indices (batch,) from probabilities (batch, classes).

    ``seed`` is a stateless-RNG seed tensor of shape (2,), advanced by the caller per step.
    """
    import tensorflow as tf

    if sampling.greedy:
        return tf.argmax(probs, axis=-1, output_type=tf.int32)
    logits = tf.math.log(tf.maximum(probs, 1e-30)) / (sampling.temperature or 1.0)
    classes = tf.shape(logits)[-1]
    if sampling.top_k is not None:
        k = tf.minimum(sampling.top_k, classes)
        kth = tf.math.top_k(logits, k=k).values[:, -1:]
        logits = tf.where(logits < kth, tf.fill(tf.shape(logits), -1e9), logits)
    if sampling.top_p is not None:
        order = tf.argsort(logits, axis=-1, direction="DESCENDING")
        ranked = tf.gather(logits, order, batch_dims=1)
        mass = tf.math.cumsum(tf.nn.softmax(ranked), axis=-1, exclusive=True)
        ranked = tf.where(mass >= sampling.top_p, tf.fill(tf.shape(ranked), -1e9), ranked)
        logits = tf.scatter_nd(
            tf.stack(
                [tf.repeat(tf.range(tf.shape(order)[0]), classes), tf.reshape(order, [-1])], axis=1
            ),
            tf.reshape(ranked, [-1]),
            tf.shape(logits),
        )
    picked = tf.random.stateless_categorical(logits, 1, seed=seed, dtype=tf.int32)
    return picked[:, 0]
