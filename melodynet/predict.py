"""One-step and full-song prediction, compiled so no note pays Python or predict() overhead."""

from __future__ import annotations

import numpy as np

from melodynet.codec import Codec
from melodynet.errors import MelodynetError
from melodynet.hookspecs import ModelConfig, ModelSpec
from melodynet.network import reset_states, stepper


class Predictor:
    """Greedy predictions from a trained model, for window and sequence models alike."""

    def __init__(self, spec: ModelSpec, config: ModelConfig, codec: Codec, model) -> None:
        from melodynet.tfenv import tensorflow

        tf = tensorflow()

        self.spec, self.config, self.codec, self.model = spec, config, codec, model
        self._steppers: dict[int, tuple] = {}
        sizes = codec.sizes

        def features(classes):
            return tf.concat([tf.one_hot(classes[..., j], n) for j, n in enumerate(sizes)], axis=-1)

        def argmax(outputs):
            return tf.stack(
                [tf.argmax(outputs[h], axis=-1, output_type=tf.int32) for h in codec.heads],
                axis=-1,
            )

        self._features, self._argmax = features, argmax

        @tf.function(reduce_retracing=True)
        def predict_classes(classes):
            return argmax(model(features(classes), training=False))

        self._predict_classes = predict_classes

    @property
    def window(self) -> int:
        return self.config.window

    def one_step(self, classes: np.ndarray, start: int | None = None) -> np.ndarray:
        """For each note from ``start`` (default: the window) on, the note predicted from the
        true notes before it."""
        w = self.window
        start = w if start is None else start
        if start < (1 if self.spec.sequence else w):
            raise MelodynetError(f"one-step prediction needs at least {w} true notes to start")
        if start >= len(classes):
            return np.zeros((0, len(self.codec.heads)), dtype=np.int32)
        if self.spec.sequence:
            predicted = self._predict_classes(classes[None, :-1])[0].numpy()
            return predicted[start - 1 :]
        windows = np.stack([classes[i - w : i] for i in range(start, len(classes))])
        return self._predict_classes(windows).numpy()

    def continue_song(self, primer: np.ndarray, length: int, streams: int = 1) -> np.ndarray:
        """Feed predictions back: ``length`` notes after ``primer``.

        ``primer`` is (notes, heads) classes; the result is (streams, length, heads).
        """
        from melodynet.tfenv import tensorflow

        tf = tensorflow()

        if len(primer) < (1 if self.spec.sequence else self.window):
            raise MelodynetError(
                f"the primer has {len(primer)} notes; model {self.spec.name} needs at least "
                f"{self.window} (its window)"
            )
        if length <= 0:
            return np.zeros((streams, 0, len(self.codec.heads)), dtype=np.int32)
        batch = np.repeat(primer[None], streams, axis=0)
        if self.spec.sequence:
            step, run = self._stepper(streams)
            reset_states(step)
            out = run(tf.constant(batch), tf.constant(length))
        else:
            out = self._run_window(tf.constant(batch[:, -self.window :]), tf.constant(length))
        return out.numpy()

    def _stepper(self, streams: int):
        from melodynet.tfenv import tensorflow

        tf = tensorflow()

        if streams not in self._steppers:
            step = stepper(self.spec, self.config, self.codec, self.model, streams)
            features, argmax = self._features, self._argmax

            @tf.function
            def run(primer, length):
                for t in tf.range(tf.shape(primer)[1] - 1):
                    step(features(primer[:, t : t + 1]), training=False)
                x = primer[:, -1:]
                out = tf.TensorArray(tf.int32, size=length)
                for i in tf.range(length):
                    x = argmax(step(features(x), training=False))
                    out = out.write(i, x[:, 0])
                return tf.transpose(out.stack(), [1, 0, 2])

            self._steppers[streams] = (step, run)
        return self._steppers[streams]

    def _run_window(self, window, length):
        from melodynet.tfenv import tensorflow

        tf = tensorflow()

        if not hasattr(self, "_window_fn"):
            model, features, argmax = self.model, self._features, self._argmax

            @tf.function(reduce_retracing=True)
            def run(window, length):
                out = tf.TensorArray(tf.int32, size=length)
                feats = features(window)
                for i in tf.range(length):
                    x = argmax(model(feats, training=False))
                    out = out.write(i, x)
                    feats = tf.concat([feats[:, 1:], features(x)[:, None]], axis=1)
                return tf.transpose(out.stack(), [1, 0, 2])

            self._window_fn = run
        return self._window_fn(window, length)
