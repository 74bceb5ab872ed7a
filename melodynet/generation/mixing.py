"""Generating with PPM models mixed in (``generate(mix=...)``), as ``crossval`` scores.

Before each note the network's pitch distribution is combined with the PPM models of the
mix (``melodynet.evaluation.mix``): long-term models over the model's training songs and
short-term models over the melody so far, primer included, by the same entropy-weighted
mean. The probability of a rest stays the network's, and so does each pitch's split
between durations: only how likely each pitch is changes. An LTM+ is an LTM here (it
learns a melody once it is finished; a melody being written is not).

Viewpoints over the scale degree read the key the melody is written in (``tonic``), and
those over time count bars in the generation's meter.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from melodynet.errors import OptionError
from melodynet.evaluation import ppm
from melodynet.evaluation.mix import MixOptions, PPMMixer
from melodynet.evaluation.viewpoints import Melody, song_melody
from melodynet.positions import Meter, ticks
from melodynet.songs.song import Note, Song


class GenerationMix:
    """A model's network mixed with PPM models before each generated note.

    ``notes``: the note of every joint class of the model's encoding (``None`` where a
    combination is no note); ``songs``: the training songs. ``with_key`` gives the same
    models for a melody in a key (degree viewpoints) and meter (time viewpoints)."""

    def __init__(
        self,
        notes: Sequence[Note | None],
        sizes: Sequence[int],
        songs: Sequence[Song],
        options: MixOptions,
    ) -> None:
        pitches = sorted({n.pitch for n in notes if n is not None and n.pitch is not None})
        if not pitches:
            raise OptionError("mix: the model knows no pitch to mix", option="mix")
        index = {p: i for i, p in enumerate(pitches)}
        self.symbol = np.array([index.get(getattr(n, "pitch", None), -1) for n in notes])
        self.ticks = np.array([1 if n is None else ticks(n.duration) for n in notes])
        self.head, self.head_symbol = _pitch_head(self.symbol, list(sizes))
        self.options = options
        self.tonic: int | None = None  # with_key sets the melody's key and meter
        self.meter = Meter.of("4/4")
        self.size = len(pitches)
        training = []
        for song in songs:
            events = [n.pitch in index for n in song.notes]
            played = [index[n.pitch] for n, event in zip(song.notes, events, strict=True) if event]
            training.append(song_melody(song, played, events))
        self.mixer = PPMMixer(training, self.size, options, pitches)

    def with_key(self, tonic: int | None, meter: Meter | None) -> GenerationMix:
        """The same models, for a melody in another key or meter."""
        other = copy.copy(self)  # the PPM models are shared, never changed by generating
        other.tonic, other.meter = tonic, meter or self.meter
        return other

    def apply(self, probs: list[np.ndarray], histories: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each head's probabilities (streams, classes) before the next note of each stream,
        whose notes so far are ``histories`` (joint classes, primer first), mixed."""
        head = np.asarray(probs[self.head], dtype=np.float64)
        out = head.copy()
        pitched = self.head_symbol >= 0
        symbols = self.head_symbol[pitched]
        for s, history in enumerate(histories):
            p = head[s]
            network = np.bincount(symbols, weights=p[pitched], minlength=self.size)
            sounding = network.sum()
            if sounding <= 0:
                continue  # a certain rest: nothing to mix
            mixed = self._mix(network / sounding, np.asarray(history))
            scale = sounding * mixed / np.maximum(network, 1e-300)
            out[s, pitched] = p[pitched] * scale[symbols]
        out = out.astype(np.asarray(probs[self.head]).dtype)
        return [out if j == self.head else h for j, h in enumerate(probs)]

    def _mix(self, network: np.ndarray, history: np.ndarray) -> np.ndarray:
        """The network's distribution over pitches before the next note, mixed."""
        symbols = self.symbol[history]
        starts = -self.meter.pickup + np.concatenate([[0], np.cumsum(self.ticks[history])])
        keep = symbols >= 0
        melody = Melody(
            (*symbols[keep].tolist(), 0),  # the next note: any symbol, never looked at
            self.tonic,
            (*starts[:-1][keep].tolist(), int(starts[-1])),
            self.meter.bar,
        )
        rows = self.mixer.last_parts(melody)
        how = (self.options.combination, self.options.bias)
        return ppm.combine(np.stack([network, *rows]), *how)


def _pitch_head(symbol: np.ndarray, sizes: list[int]) -> tuple[int, np.ndarray]:
    """The head whose class alone fixes the pitch (the note of ``single``, the pitch of
    ``split``), and the pitch symbol of each of its classes (-1: a rest)."""
    table = symbol.reshape(sizes)
    for j, size in enumerate(sizes):
        rows = np.moveaxis(table, j, 0).reshape(size, -1)
        if (rows == rows[:, :1]).all():
            return j, rows[:, 0]
    raise OptionError(
        "mix: this encoding has no output that fixes the pitch of a note", option="mix"
    )


__all__ = ["GenerationMix"]
