"""The training loop: compiled steps over batches read from the store (a window model's
several to a call), stopping once nothing is left to learn.

The data order of every epoch is drawn from (seed, epoch) alone (see ``dataset``), so a run
resumed from a snapshot (weights, optimizer variables, epoch and step) continues exactly as
the uninterrupted run would have.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from melodynet import network
from melodynet.codec import Codec
from melodynet.errors import OptionError
from melodynet.training import dataset
from melodynet.training.adam import FusedAdam
from melodynet.training.crossentropy import sparse_cross_entropy
from melodynet.training.dataset import Store
from melodynet.training.options import TrainOptions

STEPS_PER_CALL = 32
"""Window models take up to this many optimizer steps per call into TensorFlow."""
CHECKPOINT_SECONDS = 1.0
"""Least time between checkpoints at the end of epochs."""


@dataclass
class Snapshot:
    """Everything needed to continue training exactly where it was: a resumable checkpoint.

    ``epoch`` epochs are complete and ``step`` steps of the next one; ``partial`` holds that
    epoch's running sums (loss, weight, hits, total), so its logs come out the same too.
    """

    epoch: int
    step: int
    weights: list[np.ndarray]
    optimizer: list[np.ndarray]
    history: dict[str, list[float]]
    partial: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    best_epoch: int = 0


@dataclass
class TrainResult:
    epochs_run: int
    history: dict[str, list[float]] = field(default_factory=dict)
    stopped_early: bool = False
    interrupted: bool = False
    best_epoch: int = 0


def seed_everything(seed: int) -> None:
    """Same seed, same weights and notes on the same machine."""
    from melodynet.tfenv import tensorflow

    tf = tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


class Trainer:
    """Owns the optimizer and the compiled steps for one model."""

    def __init__(
        self,
        model,
        codec: Codec,
        options: TrainOptions,
        sequence: bool,
        strategy=None,
        stop_at: float | None = None,
        checkpoint_every: int | None = None,
    ) -> None:
        """``sequence``: the model reads whole songs, not windows; ``strategy``: a
        tf.distribute strategy whose scope built ``model``, or None. ``stop_at``: stop once
        one-step accuracy on the training songs reaches it (None: run every epoch).
        ``checkpoint_every``: offer a checkpoint every this many steps; None: at the end of
        an epoch, at most every ``CHECKPOINT_SECONDS`` (saving costs more than an epoch of a
        short song)."""
        import keras

        from melodynet.tfenv import tensorflow

        tf = tensorflow()
        self.model, self.codec, self.options = model, codec, options
        self.window, self.sequence = options.window, sequence
        self.stop_at, self.checkpoint_every = stop_at, checkpoint_every
        self._measured: dict[int, tuple] = {}
        """Evaluation datasets by store (kept with it): built once, iterated every epoch."""
        self.strategy = strategy
        if strategy is None:
            self.optimizer = FusedAdam(options.learning_rate, model.trainable_variables)
            apply = self.optimizer.apply
        else:  # Keras's Adam knows how to update mirrored variables
            with strategy.scope():
                self.optimizer = keras.optimizers.Adam(options.learning_rate)
                self.optimizer.build(model.trainable_variables)

            def apply(grads):
                pairs = zip(grads, model.trainable_variables, strict=True)
                self.optimizer.apply_gradients(pairs)

        sizes, heads = network.input_sizes(codec, options.bar_inputs), codec.heads
        replicas = strategy.num_replicas_in_sync if strategy else 1

        def inputs(classes):
            return network.network_input(model, classes, sizes)

        def losses(outputs, y):
            """Each target's loss, summed over the heads."""
            return tf.add_n(
                [sparse_cross_entropy(y[..., j], outputs[head]) for j, head in enumerate(heads)]
            )

        def rights(outputs, y):
            """Whether each head's most likely class is the target's."""
            return [
                tf.equal(tf.argmax(outputs[head], axis=-1, output_type=tf.int32), y[..., j])
                for j, head in enumerate(heads)
            ]

        def weighted(mask, weight):
            return tf.reduce_sum(tf.cast(mask, tf.float32) * weight)

        def scores(outputs, y, weight):
            """Summed loss, hits (every head right) and per-head hits, weighted."""
            right = rights(outputs, y)
            return (
                tf.reduce_sum(losses(outputs, y) * weight),
                weighted(tf.reduce_all(tf.stack(right), axis=0), weight),
                tf.stack([weighted(r, weight) for r in right]),
                tf.reduce_sum(weight),
            )

        def step(x, y, loss_weight, score_weight, batch_weight):
            """One optimizer step. ``batch_weight`` (per example) is the loss weight of the
            whole global batch, so replicas that each see part of it scale their gradients
            to add up to the gradient of the batch mean. Weight penalties (a model's ``l2``)
            are added once per global batch."""
            with tf.GradientTape() as tape:
                outputs = model(inputs(x), training=True)
                loss_sum = tf.reduce_sum(losses(outputs, y) * loss_weight)
                loss = loss_sum / tf.maximum(tf.reduce_max(batch_weight), 1.0)
                if model.losses:
                    loss += tf.add_n(model.losses) / replicas
            grads = tape.gradient(loss, model.trainable_variables)
            # looked-up kernel rows give sparse gradients; Adam's dense update is faster
            grads = [tf.convert_to_tensor(g) if g is not None else g for g in grads]
            apply(grads)
            hits = weighted(tf.reduce_all(tf.stack(rights(outputs, y)), axis=0), score_weight)
            return tf.stack(
                [loss_sum, tf.reduce_sum(loss_weight), hits, tf.reduce_sum(score_weight)]
            )

        train_step = tf.function(step, reduce_retracing=True)

        @tf.function(reduce_retracing=True)
        def train_steps(x, y, loss_weight, score_weight, batch_weight):
            """One step per leading row, in one call: a window model's step costs less
            than a call into TensorFlow."""
            values = tf.TensorArray(tf.float32, size=tf.shape(x)[0])
            for k in tf.range(tf.shape(x)[0]):
                columns = x[k], y[k], loss_weight[k], score_weight[k], batch_weight[k]
                values = values.write(k, step(*columns))
            return values.stack()

        if strategy is not None:

            @tf.function(reduce_retracing=True)
            def train_step(*batch):
                per_replica = strategy.run(step, args=batch)
                return strategy.reduce("SUM", per_replica, axis=None)

        @tf.function(reduce_retracing=True)
        def evaluate(x, y, score_weight):
            return scores(model(inputs(x), training=False), y, score_weight)

        self._train_step, self._train_steps, self._evaluate = train_step, train_steps, evaluate

    def snapshot(self, epoch: int, step: int, history, partial=(0.0, 0.0, 0.0, 0.0), best=0):
        return Snapshot(
            epoch,
            step,
            [w.copy() for w in self.model.get_weights()],
            [v.numpy().copy() for v in self.optimizer.variables],
            {k: list(v) for k, v in history.items()},
            list(partial),
            best,
        )

    def restore(self, snapshot: Snapshot) -> None:
        self.model.set_weights(snapshot.weights)
        if snapshot.optimizer:
            for variable, value in zip(self.optimizer.variables, snapshot.optimizer, strict=True):
                variable.assign(value)

    def measure(self, store: Store) -> dict[str, float]:
        """Loss per note, perplexity and accuracies on the scored notes of ``store`` (from
        note ``window`` on, as the baselines are scored), with the current weights."""
        loss_sum, hits, total = 0.0, 0.0, 0.0
        per_head = np.zeros(len(self.codec.heads))
        if id(store) not in self._measured:
            data = dataset.eval_batches(store, self.window, self.sequence)
            self._measured[id(store)] = (store, data)
        for x, y, _, score_weight, _ in self._measured[id(store)][1]:
            values = self._evaluate(x, y, score_weight)
            loss_sum += float(values[0])
            hits += float(values[1])
            per_head += np.asarray(values[2])
            total += float(values[3])
        nll = loss_sum / max(total, 1.0)
        out = {
            "loss": nll,
            "perplexity": math.exp(min(nll, 50.0)),
            "accuracy": float(hits) / max(float(total), 1.0),
        }
        if len(self.codec.heads) > 1:
            for head, h in zip(self.codec.heads, per_head, strict=True):
                out[f"{head}_accuracy"] = float(h) / max(float(total), 1.0)
        return out

    def run(
        self,
        store: Store,
        validation: Store | None = None,
        start: Snapshot | None = None,
        on_epoch: Callable[[int, dict[str, float]], None] | None = None,
        checkpoint: Callable[[Snapshot], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> TrainResult:
        """Train from ``start`` (or from scratch) to ``options.epochs``.

        ``checkpoint(snapshot)`` is offered snapshots as the settings say, and one more when
        ``should_stop()`` turns true (checked between calls, every ``STEPS_PER_CALL`` steps
        at most): the run then returns at once,
        marked interrupted, with the model holding the weights of its last completed step.
        """
        options = self.options
        history: dict[str, list[float]] = {"loss": [], "accuracy": []}
        first, skip, partial, best_epoch = 1, 0, [0.0, 0.0, 0.0, 0.0], 0
        if start is not None:
            self.restore(start)
            history, best_epoch = start.history, start.best_epoch
            first, skip, partial = start.epoch + 1, start.step, list(start.partial)
        result = TrainResult(first - 1, history, best_epoch=best_epoch)
        best_weights = None
        steps = dataset.steps(store, self.window, self.sequence, options.batch_size)
        saved_at = time.monotonic()
        # Window models read their batches straight from the store, several per call;
        # sequence models (batches of different lengths) and strategies stream them.
        stream = None
        if self.sequence or self.strategy is not None:
            stream = self._batches(store, range(first, options.epochs + 1), skip)
        for epoch in range(first, options.epochs + 1):
            step = skip
            while step < steps:
                if should_stop():
                    result.interrupted = True
                    if checkpoint:
                        checkpoint(self.snapshot(epoch - 1, step, history, partial, best_epoch))
                    return result
                if stream is not None:
                    values = self._train_step(*next(stream)).numpy()[None]
                else:
                    count = self._count(store, step, steps, (epoch - 1) * steps + step)
                    columns = dataset.window_steps(
                        store,
                        self.window,
                        options.batch_size,
                        options.random_seed,
                        epoch,
                        step,
                        count,
                    )
                    values = self._train_steps(*columns).numpy()
                for row in values:
                    partial = [a + float(b) for a, b in zip(partial, row, strict=True)]
                    step += 1
                    done = (epoch - 1) * steps + step
                    if checkpoint and self.checkpoint_every and done % self.checkpoint_every == 0:
                        checkpoint(self.snapshot(epoch - 1, step, history, partial, best_epoch))
                        saved_at = time.monotonic()
            skip = 0
            loss_sum, weight, hits, total = partial
            partial = [0.0, 0.0, 0.0, 0.0]
            logs = {"loss": loss_sum / max(weight, 1.0), "accuracy": hits / max(total, 1.0)}
            if validation is not None:
                logs.update({f"val_{k}": v for k, v in self.measure(validation).items()})
            for key, value in logs.items():
                history.setdefault(key, []).append(value)
            result.epochs_run = epoch
            if validation is not None and (
                best_epoch == 0 or logs["val_loss"] < history["val_loss"][best_epoch - 1]
            ):
                best_epoch = result.best_epoch = epoch
                if options.patience is not None:
                    best_weights = [w.copy() for w in self.model.get_weights()]
            if on_epoch:
                on_epoch(epoch, logs)
            finished = self._done(store, logs, epoch, best_epoch)
            if (
                checkpoint
                and not self.checkpoint_every
                and not finished
                and (time.monotonic() - saved_at >= CHECKPOINT_SECONDS)
            ):
                checkpoint(self.snapshot(epoch, 0, history, partial, best_epoch))
                saved_at = time.monotonic()
            if finished:
                result.stopped_early = True
                break
        if best_weights is not None:
            self.model.set_weights(best_weights)  # early stopping keeps the best weights
        return result

    def _count(self, store: Store, step: int, steps: int, done: int) -> int:
        """How many of a window model's steps to take in one call from ``step`` (``done``
        in the whole run): up to ``STEPS_PER_CALL``, ending at the next checkpoint, and
        an epoch's short last batch alone."""
        count = min(STEPS_PER_CALL, steps - step)
        windows = int(store.window_starts(self.window)[-1])
        if count > 1 and step + count == steps and windows % self.options.batch_size:
            count -= 1
        if self.checkpoint_every:
            count = min(count, self.checkpoint_every - done % self.checkpoint_every)
        return count

    def _batches(self, store: Store, epochs: range, skip: int):
        """The global batches of ``epochs`` from step ``skip`` of the first on; split across
        replicas when training under a strategy."""
        options, strategy = self.options, self.strategy
        replicas = strategy.num_replicas_in_sync if strategy else 1
        if options.batch_size < replicas:
            raise OptionError(
                f"batch_size {options.batch_size} is below the {replicas} replicas",
                option="batch_size",
            )
        data = dataset.batches(
            store,
            self.window,
            self.sequence,
            options.batch_size,
            options.random_seed,
            epochs,
            skip=skip,
            replicas=replicas,
        )
        if strategy is not None:
            import tensorflow as tf

            sharding = tf.data.Options()
            sharding.experimental_distribute.auto_shard_policy = (
                tf.data.experimental.AutoShardPolicy.DATA
            )
            data = strategy.experimental_distribute_dataset(data.with_options(sharding))
        return iter(data)

    def _done(self, store: Store, logs: dict[str, float], epoch: int, best: int) -> bool:
        options = self.options
        if options.patience is not None and "val_loss" in logs:
            return epoch - best >= options.patience
        if self.stop_at is None or logs["accuracy"] < self.stop_at - 1e-9:
            return False
        # The epoch's accuracy was measured while the weights moved; confirm with the final ones.
        return self.measure(store)["accuracy"] >= self.stop_at - 1e-9
