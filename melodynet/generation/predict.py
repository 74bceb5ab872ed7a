"""One-step and full-song prediction, compiled so no note pays Python or predict() overhead.

Full songs are generated inside one TensorFlow graph: a ``tf.while_loop`` that predicts a
note, turns it into features and feeds it back, ``length`` times, for all streams at once.

- Sequence (stateful) models run a stateful copy of the trained model built for one note per
  call and ``streams`` songs per batch (``network.stepper``): the recurrent state stays in
  the layers between notes, so no note re-reads the song so far.
- Window models run the trained model (a copy of it, if it has recurrent layers) with the
  window slid inside the loop.

In both copies the recurrent layers are unrolled (``unroll=True``) where their time axis is
fixed and short (1 note, or the window): Keras then applies the cell directly instead of
running an inner ``while_loop`` for every note. The cell's arithmetic is the same, and so
are the notes; the loop runs several times faster. The graphs are built without AutoGraph (plain
``tf.while_loop``), which halves the time to build them, and with fixed input signatures,
so primers of any length reuse one graph.
"""

from __future__ import annotations

import numpy as np

from melodynet import network
from melodynet.codec import Codec
from melodynet.errors import MelodynetError, OptionError
from melodynet.generation.sampling import Sampling, choose
from melodynet.hookspecs import ModelConfig, ModelSpec
from melodynet.network import recurrent_layers, reset_states, stepper

MAX_UNROLLED_STEPS = 32
"""Longer time axes keep Keras's inner loop: an unrolled graph grows with every step."""


def _unroll_recurrent_layers(model) -> bool:
    """Unroll the recurrent layers of a freshly built copy (never of the trained model, which
    is saved as it was trained) whose time axis is fixed and short. True if any were."""
    unrolled = False
    for layer in recurrent_layers(model):
        try:
            steps = layer.input.shape[1]
        except Exception:  # not called exactly once in a functional graph: leave it as built
            continue
        if steps is not None and steps <= MAX_UNROLLED_STEPS:
            layer.unroll = True
            unrolled = True
    return unrolled


class Predictor:
    """Greedy predictions from a trained model, for window and sequence models alike.

    ``jit_compile=True`` compiles the generation loops with XLA: each new graph (a new
    number of streams) then costs 0.3-1 s more to build, and every note after that is
    15-100× cheaper on 2 CPU cores, which pays off from some ten thousand notes on.
    XLA computes the same functions with its own kernels, so in principle a near-tie between
    two notes could break the other way; on the built-in models it gives the same notes.
    """

    def __init__(
        self, spec: ModelSpec, config: ModelConfig, codec: Codec, model, jit_compile: bool = False
    ) -> None:
        from melodynet.tfenv import tensorflow

        tf = tensorflow()

        self.spec, self.config, self.codec, self.model = spec, config, codec, model
        self.jit_compile = jit_compile
        self._steppers: dict[int, tuple] = {}
        self._window_fns: dict = {}
        sizes = codec.sizes

        def features(classes):
            return network.features(classes, sizes)

        def argmax(outputs):
            return tf.stack(
                [tf.argmax(outputs[h], axis=-1, output_type=tf.int32) for h in codec.heads],
                axis=-1,
            )

        self._features, self._argmax = features, argmax

        def picker(sampling: Sampling | None):
            """pick(outputs, step) -> classes: greedy, or drawn as ``sampling`` says, with a
            stateless seed per step and head, so the same seed gives the same notes."""
            if sampling is None or sampling.greedy:
                return lambda outputs, _step: argmax(outputs)
            heads = codec.heads

            def pick(outputs, step):
                chosen = []
                for j, head in enumerate(heads):
                    probs = outputs[head]
                    flat = tf.reshape(probs, [-1, tf.shape(probs)[-1]])
                    seed = tf.stack([tf.constant(sampling.seed), step * len(heads) + j])
                    chosen.append(tf.reshape(choose(flat, sampling, seed), tf.shape(probs)[:-1]))
                return tf.stack(chosen, axis=-1)

            return pick

        self._picker = picker

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

    def continue_song(
        self, primer: np.ndarray, length: int, streams: int = 1, sampling: Sampling | None = None
    ) -> np.ndarray:
        """Feed predictions back: ``length`` notes after ``primer``.

        ``primer`` is (notes, heads) classes; the result is (streams, length, heads). Greedy
        unless ``sampling`` says otherwise (then each stream draws its own notes).
        """
        from melodynet.tfenv import tensorflow

        tf = tensorflow()

        if len(primer) < (1 if self.spec.sequence else self.window):
            raise MelodynetError(
                f"the primer has {len(primer)} notes; model {self.spec.name} needs at least "
                f"{self.window} (its window)"
            )
        if streams < 1:
            raise MelodynetError(f"streams must be at least 1, not {streams}")
        if length <= 0:
            return np.zeros((streams, 0, len(self.codec.heads)), dtype=np.int32)
        batch = np.repeat(np.asarray(primer, dtype=np.int32)[None], streams, axis=0)
        if self.spec.sequence:
            step, run = self._stepper(streams, sampling)
            reset_states(step)
            out = run(tf.constant(batch), tf.constant(length, dtype=tf.int32))
        else:
            run = self._window_runner(sampling)
            out = run(tf.constant(batch[:, -self.window :]), tf.constant(length, dtype=tf.int32))
        return out.numpy()

    def beam_search(self, primer: np.ndarray, length: int, beam: int) -> np.ndarray:
        """The likeliest continuation found by keeping the ``beam`` best partial melodies
        (scored by the sum of their notes' log-probabilities): (length, heads) classes."""
        from melodynet.tfenv import tensorflow

        tf = tensorflow()
        if beam < 1:
            raise OptionError(f"beam_size must be at least 1, not {beam}", option="beam_size")
        if len(primer) < (1 if self.spec.sequence else self.window):
            raise MelodynetError(
                f"the primer has {len(primer)} notes; model {self.spec.name} needs at least "
                f"{self.window} (its window)"
            )
        heads, sizes = self.codec.heads, self.codec.sizes
        joint = int(np.prod(sizes))
        feats = self._features(tf.constant(np.repeat(primer[None], beam, axis=0)))
        if self.spec.sequence:
            step, _ = self._stepper(beam)
            reset_states(step)
            for t in range(len(primer) - 1):
                step(feats[:, t : t + 1], training=False)
            x = feats[:, -1:]
            states = [v for layer in recurrent_layers(step) for v in layer.states]
        else:
            x = feats[:, -self.window :]
        scores = np.full(beam, -np.inf)
        scores[0] = 0.0  # every beam starts as the same melody: expand one of them
        history = np.zeros((beam, 0, len(heads)), dtype=np.int32)
        for _ in range(length):
            outputs = (step if self.spec.sequence else self.model)(x, training=False)
            logp = np.zeros((beam, *sizes))
            for j, head in enumerate(heads):
                probs = np.asarray(outputs[head]).reshape(beam, -1)
                shape = [beam] + [1] * len(heads)
                shape[j + 1] = sizes[j]
                logp = logp + np.log(np.maximum(probs, 1e-30)).reshape(shape)
            total = (scores[:, None] + logp.reshape(beam, joint)).ravel()
            best = np.argsort(-total, kind="stable")[:beam]
            parents, flat = np.divmod(best, joint)
            classes = np.stack(np.unravel_index(flat, sizes), axis=-1).astype(np.int32)
            scores = total[best]
            history = np.concatenate([history[parents], classes[:, None]], axis=1)
            new = self._features(tf.constant(classes[:, None]))
            if self.spec.sequence:
                for variable in states:
                    variable.assign(tf.gather(variable, parents))
                x = new
            else:
                x = tf.concat([tf.gather(x, parents)[:, 1:], new], axis=1)
        return history[0]

    def _stepper(self, streams: int, sampling: Sampling | None = None):
        """(stateful one-note model, compiled generation loop) for a batch of ``streams``."""
        from melodynet.tfenv import tensorflow

        tf = tensorflow()

        if (streams, sampling) not in self._steppers:
            step = stepper(self.spec, self.config, self.codec, self.model, streams)
            _unroll_recurrent_layers(step)
            features, pick = self._features, self._picker(sampling)
            heads = len(self.codec.heads)

            def note(x, i):
                return pick(step(features(x), training=False), i)

            def run(primer, length):
                # Feed the primer but its last note (whose prediction is the first new note)...
                def feed(t):
                    step(features(tf.gather(primer, [t], axis=1)), training=False)
                    return (t + 1,)

                notes = tf.shape(primer)[1]
                (fed,) = tf.while_loop(lambda t: t < notes - 1, feed, (tf.constant(0),))
                with tf.control_dependencies([fed]):
                    x = tf.identity(primer[:, -1][:, None])

                # ...then predict, feed back, repeat.
                def generate(i, x, out):
                    x = note(x, i)
                    return i + 1, x, out.write(i, x[:, 0])

                out = tf.TensorArray(tf.int32, size=length, element_shape=[streams, heads])
                _, _, out = tf.while_loop(
                    lambda i, x, out: i < length, generate, (tf.constant(0), x, out)
                )
                return tf.transpose(out.stack(), [1, 0, 2])

            compiled = tf.function(
                run,
                autograph=False,
                jit_compile=self.jit_compile,
                input_signature=[
                    tf.TensorSpec([streams, None, heads], tf.int32),
                    tf.TensorSpec([], tf.int32),
                ],
            )
            self._steppers[streams, sampling] = (step, compiled)
        return self._steppers[streams, sampling]

    def _window_runner(self, sampling: Sampling | None = None):
        """The compiled generation loop of a window model, for any number of streams."""
        from melodynet.tfenv import tensorflow

        tf = tensorflow()

        if sampling not in self._window_fns:
            model = self.model
            if recurrent_layers(model):
                copy = network.build(self.spec, self.config, self.codec)
                copy.set_weights(self.model.get_weights())
                if _unroll_recurrent_layers(copy):
                    model = copy
            features, pick = self._features, self._picker(sampling)
            heads, w = len(self.codec.heads), self.window

            def run(window, length):
                def generate(i, feats, out):
                    x = pick(model(feats, training=False), i)
                    feats = tf.concat([feats[:, 1:], features(x)[:, None]], axis=1)
                    return i + 1, feats, out.write(i, x)

                out = tf.TensorArray(tf.int32, size=length, element_shape=[None, heads])
                _, _, out = tf.while_loop(
                    lambda i, feats, out: i < length,
                    generate,
                    (tf.constant(0), features(window), out),
                )
                return tf.transpose(out.stack(), [1, 0, 2])

            self._window_fns[sampling] = tf.function(
                run,
                autograph=False,
                jit_compile=self.jit_compile,
                input_signature=[
                    tf.TensorSpec([None, w, heads], tf.int32),
                    tf.TensorSpec([], tf.int32),
                ],
            )
        return self._window_fns[sampling]
