"""One-step and full-song prediction, greedy, sampled or by beam search, a note at a time.

The decoding loop is numpy, whatever runs the network: the exported numpy network
(``numpy_network``) when the model has one, else the Keras network (a plugin's own
layers). Both give the same probabilities to float32 precision, and the choice of each
note is made here, the same way for both, so the same seed gives the same notes.

Sequence (stateful) models carry their recurrent state from note to note: the primer is
fed once, then each new note costs one step. Window models re-read the last ``window``
notes for each new note.

Sampling draws one uniform number per stream, step and head from numpy's PCG64 seeded
with the random seed, and picks the note whose cumulative probability first exceeds it
(after temperature, top-k and top-p), so a seed gives the same melodies on every path.
"""

from __future__ import annotations

import copy

import numpy as np

from melodynet.codec import Codec
from melodynet.errors import MelodynetError, OptionError
from melodynet.generation.sampling import Sampling, choose
from melodynet.hookspecs import ModelConfig, ModelSpec
from melodynet.network import input_sizes
from melodynet.positions import TICKS, Meter, durations, joint


def one_hot(classes: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Each head's class one-hot, concatenated: (..., heads) -> (..., sum(sizes)), float32.
    The same features as ``melodynet.network.features``, without TensorFlow."""
    classes = np.asarray(classes)
    out = np.zeros((*classes.shape[:-1], sum(sizes)), dtype=np.float32)
    offset = 0
    for j, size in enumerate(sizes):
        index = classes[..., j]
        valid = index >= 0
        np.put_along_axis(
            out, (offset + np.where(valid, index, 0))[..., None], valid[..., None], axis=-1
        )
        offset += size
    return out


class Predictor:
    """Predictions from a trained model: ``numpy`` (a NumpyNetwork) when there is one,
    else ``network`` (the Keras model, imported and run through TensorFlow).

    A model trained with bar inputs also reads where each next note falls in its bar
    (``melodynet.positions``), counted in ``meter`` from the first note given: set it per
    song with ``with_meter``. Its recurrent state then carries a clock per stream (ticks
    from the downbeat of bar 0) as the state's last item."""

    def __init__(
        self,
        spec: ModelSpec,
        config: ModelConfig,
        codec: Codec,
        network=None,
        numpy=None,
        bar_inputs: bool = False,
        meter: Meter | None = None,
    ) -> None:
        assert network is not None or numpy is not None, "something to run"
        self.spec, self.config, self.codec = spec, config, codec
        self.network, self.numpy = network, numpy
        self.sizes = codec.sizes
        self.bar_inputs = bar_inputs
        self.input_sizes = input_sizes(codec, bar_inputs)
        self.meter = meter or Meter(4 * TICKS)
        self._keras_steppers: dict[int, object] = {}
        self._ticks: np.ndarray | None = None
        self.mix = None  # a generation.mixing.GenerationMix: PPM models mixed in

    def with_mix(self, mix) -> Predictor:
        """This predictor with PPM models mixed into its predictions (a copy)."""
        other = copy.copy(self)
        other.mix = mix
        return other

    def mixed(self, probs: list[np.ndarray], histories) -> list[np.ndarray]:
        """Each head's probabilities before the next note, mixed with the PPM models when
        there are any; ``histories``: each stream's notes so far, joint classes or
        (notes, heads) classes."""
        if self.mix is None:
            return probs
        histories = [h if np.ndim(h) == 1 else joint(h, self.sizes) for h in histories]
        return self.mix.apply(probs, histories)

    def with_meter(self, meter: Meter | None) -> Predictor:
        """This predictor counting bars in ``meter`` (a copy: callers may run at once)."""
        if not self.bar_inputs or meter is None or meter == self.meter:
            return self
        other = copy.copy(self)
        other.meter = meter
        return other

    @property
    def window(self) -> int:
        return self.config.window

    @property
    def uses_tensorflow(self) -> bool:
        return self.numpy is None

    # ------------------------------------------------------------ bar inputs

    def note_ticks(self, classes: np.ndarray) -> np.ndarray:
        """Each note's duration in ticks: (..., heads) -> (...)."""
        if self._ticks is None:
            self._ticks = durations(self.codec)
        return self._ticks[joint(classes, self.sizes)]

    def rows(self, classes: np.ndarray) -> np.ndarray:
        """The network's input rows for whole melodies (..., notes, heads) that start at the
        meter's beginning: the classes, and with bar inputs their columns after them."""
        classes = np.asarray(classes, dtype=np.int32)
        if not self.bar_inputs:
            return classes
        after = -self.meter.pickup + np.cumsum(self.note_ticks(classes), axis=-1)
        return np.concatenate([classes, self.meter.columns(after)], axis=-1)

    def _next_rows(self, classes: np.ndarray, clock: np.ndarray):
        """Rows for one new note per stream whose onsets are ``clock``; (rows, new clock)."""
        if not self.bar_inputs:
            return classes, clock
        clock = clock + self.note_ticks(classes)
        return np.concatenate([classes, self.meter.columns(clock)], axis=-1), clock

    # ------------------------------------------------------------ the network, one way or other

    def _forward(self, rows: np.ndarray) -> list[np.ndarray]:
        """Every head's probabilities for whole inputs (batch, time, columns) of rows."""
        assert rows.shape[-1] == len(self.input_sizes), "rows, not bare classes"
        if self.numpy is not None:
            return self.numpy.forward(one_hot(rows, self.input_sizes))
        out = self.network(self._keras_input(self.network, rows), training=False)
        return [np.asarray(out[h]) for h in self.codec.heads]

    def _start(self, primer: np.ndarray, streams: int):
        """Feed a sequence model the primer (notes, heads); (probabilities after it, state)."""
        rows = self.rows(primer)
        batch = np.repeat(rows[None], streams, axis=0)
        if self.numpy is not None:
            state = self.numpy.zero_state(streams)
            for t in range(batch.shape[1]):
                probs, state = self.numpy.step(None, state, (batch[:, t], self.input_sizes))
        else:
            state = self._keras_stepper(streams)
            for variable in self._state_variables(state):
                variable.assign(np.zeros(variable.shape, dtype=np.float32))
            for t in range(batch.shape[1]):
                probs = self._keras_step(state, batch[:, t])
        clock = None
        if self.bar_inputs:
            clock = self.meter.start(streams) + int(self.note_ticks(primer).sum())
        return probs, self._join(state, clock)

    def _step(self, classes: np.ndarray, state):
        """Feed a sequence model one note per stream; (probabilities, state)."""
        net, clock = self._split(state)
        rows, clock = self._next_rows(classes, clock)
        if self.numpy is not None:
            probs, net = self.numpy.step(None, net, (rows, self.input_sizes))
        else:
            probs = self._keras_step(net, rows)
        return probs, self._join(net, clock)

    def _split(self, state):
        """(the network's state: numpy arrays or the Keras stepper, the clock or None)."""
        if not self.bar_inputs:
            return state, None
        return (state[:-1] if self.numpy is not None else state[0]), state[-1]

    def _join(self, net, clock):
        if not self.bar_inputs:
            return net
        return [*net, clock] if self.numpy is not None else [net, clock]

    def _reorder(self, state, parents: np.ndarray):
        """The recurrent state of each stream's parent (beam search)."""
        if self.numpy is not None:
            return [
                tuple(s[parents] for s in layer) if isinstance(layer, tuple) else layer[parents]
                for layer in state
            ]
        stepper, clock = self._split(state)
        for variable in self._state_variables(stepper):
            variable.assign(np.asarray(variable)[parents])
        return self._join(stepper, None if clock is None else clock[parents])

    def _keras_stepper(self, streams: int):
        from melodynet.network import stepper

        if streams not in self._keras_steppers:
            self._keras_steppers[streams] = stepper(
                self.spec, self.config, self.codec, self.network, streams, self.input_sizes
            )
        return self._keras_steppers[streams]

    def _keras_step(self, stepper, rows: np.ndarray) -> list[np.ndarray]:
        out = stepper(self._keras_input(stepper, rows[:, None]), training=False)
        return [np.asarray(out[h])[:, 0] for h in self.codec.heads]

    def _keras_input(self, network, rows: np.ndarray):
        from melodynet.network import network_input

        return network_input(network, np.asarray(rows, dtype=np.int32), self.input_sizes)

    @staticmethod
    def _state_variables(stepper) -> list:
        from melodynet.network import recurrent_layers

        return [v for layer in recurrent_layers(stepper) for v in layer.states]

    # ------------------------------------------------------------ what callers ask for

    def _check_primer(self, primer: np.ndarray) -> None:
        if len(primer) < (1 if self.spec.sequence else self.window):
            raise MelodynetError(
                f"the primer has {len(primer)} notes; model {self.spec.name} needs at least "
                f"{self.window} (its window)"
            )

    def probabilities(self, classes: np.ndarray) -> list[np.ndarray]:
        """For each note of a song (notes, heads) from the first the model can predict
        (note 1 for sequence models, ``window`` for window models), each head's
        distribution given the true notes before it."""
        w = self.window
        rows = self.rows(classes)
        if self.spec.sequence:
            return [p[0] for p in self._forward(rows[None, :-1])]
        windows = np.stack([rows[i - w : i] for i in range(w, len(rows))])
        return self._forward(windows)

    def one_step(self, classes: np.ndarray, start: int | None = None) -> np.ndarray:
        """For each note from ``start`` (default: the window) on, the note predicted from the
        true notes before it."""
        w = self.window
        start = w if start is None else start
        if start < (1 if self.spec.sequence else w):
            raise MelodynetError(f"one-step prediction needs at least {w} true notes to start")
        if start >= len(classes):
            return np.zeros((0, len(self.sizes)), dtype=np.int32)
        first = 1 if self.spec.sequence else w
        probs = self.probabilities(np.asarray(classes))
        chosen = np.stack([p.argmax(axis=-1) for p in probs], axis=-1).astype(np.int32)
        return chosen[start - first :]

    def continue_song(
        self, primer: np.ndarray, length: int, streams: int = 1, sampling: Sampling | None = None
    ) -> np.ndarray:
        """Feed predictions back: ``length`` notes after ``primer`` (notes, heads), as
        (streams, length, heads). Greedy unless ``sampling`` says otherwise (then each stream
        draws its own notes)."""
        self._check_primer(primer)
        if streams < 1:
            raise OptionError(f"streams must be at least 1, not {streams}", option="streams")
        heads = len(self.sizes)
        out = np.zeros((streams, max(length, 0), heads), dtype=np.int32)
        if length <= 0:
            return out
        primer = np.asarray(primer, dtype=np.int32)
        uniforms = None
        if sampling is not None and not sampling.greedy:
            rng = np.random.default_rng(sampling.seed)
            uniforms = rng.random((length, heads, streams))

        def pick(probs: list[np.ndarray], i: int) -> np.ndarray:
            return np.stack(
                [
                    choose(p, sampling, None if uniforms is None else uniforms[i, j])
                    for j, p in enumerate(probs)
                ],
                axis=-1,
            )

        def mixed(probs: list[np.ndarray], i: int) -> list[np.ndarray]:
            if self.mix is None:
                return probs
            return self.mixed(probs, [np.concatenate([primer, out[k, :i]]) for k in range(streams)])

        if self.spec.sequence:
            probs, state = self._start(primer, streams)
            for i in range(length):
                out[:, i] = pick(mixed(probs, i), i)
                if i + 1 < length:
                    probs, state = self._step(out[:, i], state)
            return out
        window, clock = self._window_start(primer, streams)
        for i in range(length):
            out[:, i] = pick(mixed(self._forward(window), i), i)
            rows, clock = self._next_rows(out[:, i], clock)
            window = np.concatenate([window[:, 1:], rows[:, None]], axis=1)
        return out

    def _window_start(self, primer: np.ndarray, streams: int):
        """A window model's first input rows per stream, and the clock after the primer."""
        rows = self.rows(primer)[-self.window :]
        clock = None
        if self.bar_inputs:
            clock = self.meter.start(streams) + int(self.note_ticks(primer).sum())
        return np.repeat(rows[None], streams, axis=0), clock

    def beam_search(self, primer: np.ndarray, length: int, beam: int) -> np.ndarray:
        """The likeliest continuation found by keeping the ``beam`` best partial melodies
        (scored by the sum of their notes' log-probabilities): (length, heads) classes."""
        if beam < 1:
            raise OptionError(f"beam_size must be at least 1, not {beam}", option="beam_size")
        self._check_primer(primer)
        sizes, heads = self.sizes, len(self.sizes)
        joint = int(np.prod(sizes))
        primer = np.asarray(primer, dtype=np.int32)
        if self.spec.sequence:
            probs, state = self._start(primer, beam)
        else:
            window, clock = self._window_start(primer, beam)
        scores = np.full(beam, -np.inf)
        scores[0] = 0.0  # every beam starts as the same melody: expand one of them
        history = np.zeros((beam, 0, heads), dtype=np.int32)
        for i in range(length):
            if not self.spec.sequence:
                probs = self._forward(window)
            if self.mix is not None:
                probs = self.mixed(probs, [np.concatenate([primer, h]) for h in history])
            logp = np.zeros((beam, *sizes))
            for j, p in enumerate(probs):
                shape = [beam] + [1] * heads
                shape[j + 1] = sizes[j]
                logp = logp + np.log(np.maximum(p, 1e-30)).reshape(shape)
            total = (scores[:, None] + logp.reshape(beam, joint)).ravel()
            best = np.argsort(-total, kind="stable")[:beam]
            parents, flat = np.divmod(best, joint)
            classes = np.stack(np.unravel_index(flat, sizes), axis=-1).astype(np.int32)
            scores = total[best]
            history = np.concatenate([history[parents], classes[:, None]], axis=1)
            if i + 1 == length:
                break
            if self.spec.sequence:
                probs, state = self._step(classes, self._reorder(state, parents))
            else:
                rows, clock = self._next_rows(classes, None if clock is None else clock[parents])
                window = np.concatenate([window[parents][:, 1:], rows[:, None]], axis=1)
        return history[0]
