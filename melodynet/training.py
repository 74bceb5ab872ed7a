"""The training loop: a compiled step over the examples, stopping once nothing is left to learn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from melodynet.codec import Codec
from melodynet.dataset import Examples


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 500
    batch_size: int = 32
    learning_rate: float = 0.003
    seed: int = 0
    stop_at: float | None = 1.0
    """Stop once one-step accuracy on the training songs reaches this (None: run all epochs)."""


@dataclass
class TrainResult:
    epochs_run: int
    history: dict[str, list[float]] = field(default_factory=dict)
    stopped_early: bool = False


def seed_everything(seed: int) -> None:
    """Same seed, same weights and notes on the same machine."""
    import keras

    from melodynet.tfenv import tensorflow

    tf = tensorflow()

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _compiled_functions(model, codec: Codec, learning_rate: float):
    import keras

    from melodynet.tfenv import tensorflow

    tf = tensorflow()

    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(model.trainable_variables)
    sizes = codec.sizes

    def features(classes):
        return tf.concat([tf.one_hot(classes[..., j], n) for j, n in enumerate(sizes)], axis=-1)

    def scores(outputs, y, weight):
        losses, correct = 0.0, None
        for j, head in enumerate(codec.heads):
            probs = outputs[head]
            losses += keras.losses.sparse_categorical_crossentropy(y[..., j], probs)
            right = tf.equal(tf.argmax(probs, axis=-1, output_type=tf.int32), y[..., j])
            correct = right if correct is None else tf.logical_and(correct, right)
        total = tf.reduce_sum(weight)
        loss = tf.reduce_sum(losses * weight) / tf.maximum(total, 1.0)
        hits = tf.reduce_sum(tf.cast(correct, tf.float32) * weight)
        return loss, hits, total

    @tf.function(reduce_retracing=True)
    def train_step(x, y, loss_weight, score_weight):
        with tf.GradientTape() as tape:
            outputs = model(features(x), training=True)
            loss, _, _ = scores(outputs, y, loss_weight)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        _, hits, total = scores(outputs, y, score_weight)
        return loss, hits, total

    @tf.function(reduce_retracing=True)
    def evaluate(x, y, score_weight):
        return scores(model(features(x), training=False), y, score_weight)

    return train_step, evaluate


def train(
    model,
    codec: Codec,
    examples: Examples,
    settings: TrainSettings,
    on_epoch: Callable[[int, float, float], None] | None = None,
) -> TrainResult:
    """Train in place; ``on_epoch(epoch, loss, accuracy)`` reports progress."""
    train_step, evaluate = _compiled_functions(model, codec, settings.learning_rate)
    rng = np.random.default_rng(settings.seed)
    n = len(examples.x)
    batch = max(1, min(settings.batch_size, n))
    result = TrainResult(0, {"loss": [], "accuracy": []})
    for epoch in range(1, settings.epochs + 1):
        order = rng.permutation(n) if batch < n else np.arange(n)
        loss_sum = hits = total = 0.0
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            loss, h, t = train_step(
                examples.x[idx],
                examples.y[idx],
                examples.loss_weight[idx],
                examples.score_weight[idx],
            )
            loss_sum += float(loss) * len(idx)
            hits += float(h)
            total += float(t)
        accuracy = hits / max(total, 1.0)
        result.history["loss"].append(loss_sum / n)
        result.history["accuracy"].append(accuracy)
        result.epochs_run = epoch
        if on_epoch:
            on_epoch(epoch, loss_sum / n, accuracy)
        # The epoch's accuracy was measured while the weights moved; confirm with the final ones.
        if settings.stop_at is not None and accuracy >= settings.stop_at - 1e-9:
            _, h, t = evaluate(examples.x, examples.y, examples.score_weight)
            if float(h) / max(float(t), 1.0) >= settings.stop_at - 1e-9:
                result.stopped_early = True
                break
    return result
