"""Where notes fall in their bars, as model inputs (``train(bar_inputs=True)``).

A model trained with bar inputs reads, beside each note's classes, seven more categorical
columns that say where the *next* note starts, the note it is about to predict (as
Magenta's lookback and attention RNNs add beat counters): its position in the bar on a
sixteenth-note grid (32 slots, bars of up to 8 quarter notes; longer bars share the last
slot), whether it falls between sixteenths (triplets), and the five lowest bits of its bar
number (where it is in phrases of 2, 4, 8, 16 and 32 bars). Bars are counted from the
first full bar (0); a pickup is bar -1. These columns are one-hot features like the note
heads, so every model plugin gets them without knowing: its input is just wider.

Time is kept exactly, in ticks of 1/48 quarter note (sixteenths, triplets of eighths and
sixteenths, thirty-seconds); the meter and pickup come from the song (its time signature
and ``extra['pickup']``), or from the constraints when generating.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

TICKS = 48
"""Ticks per quarter note."""
SLOT = TICKS // 4
"""Ticks per position slot (a sixteenth)."""
SLOTS = 32
BAR_BITS = 5
SIZES = (SLOTS, 2) + (2,) * BAR_BITS
"""The categories of each bar-input column: slot, off the grid, five bits of the bar."""


def ticks(duration: Fraction) -> int:
    """A duration in ticks; a note's is at least one (no note takes no time), only a length
    of nothing (no pickup) is zero."""
    duration = Fraction(duration)
    return 0 if duration == 0 else max(1, round(duration * TICKS))


@dataclass(frozen=True)
class Meter:
    """Bar length and pickup, in ticks."""

    bar: int
    pickup: int = 0

    @classmethod
    def of(cls, time_signature: str, pickup: str | Fraction | None = None) -> Meter:
        """From '3/4' and a pickup in quarter notes; a meter that cannot be read counts as
        4/4, a pickup as long as a bar (or longer) as none."""
        try:
            numerator, denominator = (int(x) for x in str(time_signature).split("/"))
            bar = ticks(Fraction(4 * numerator, denominator))
        except (ValueError, ZeroDivisionError):
            bar = 4 * TICKS
        try:
            up = ticks(Fraction(pickup)) if pickup else 0
        except (ValueError, ZeroDivisionError):
            up = 0
        return cls(bar, up if up < bar else 0)

    @classmethod
    def of_song(cls, song) -> Meter:
        return cls.of(song.time_signature, song.extra.get("pickup"))

    def start(self, streams: int = 1) -> np.ndarray:
        """The clock before the first note: ticks from the downbeat of bar 0, per stream."""
        return np.full(streams, -self.pickup, dtype=np.int64)

    def columns(self, clock: np.ndarray) -> np.ndarray:
        """(..., 7) bar-input classes of the notes starting at ``clock`` (ticks)."""
        clock = np.asarray(clock, dtype=np.int64)
        position, bar = np.divmod(clock, self.bar)[::-1]
        out = np.empty((*clock.shape, len(SIZES)), dtype=np.int32)
        out[..., 0] = np.minimum(position // SLOT, SLOTS - 1)
        out[..., 1] = position % SLOT != 0
        for k in range(BAR_BITS):
            out[..., 2 + k] = (bar >> k) & 1  # two's complement: bar -1 has every bit
        return out


def durations(codec) -> np.ndarray:
    """Ticks of every joint class (the classes of all heads, ``np.ravel_multi_index`` order);
    a combination the encoding cannot turn into a note counts as one tick."""
    table = np.ones(int(np.prod(codec.sizes)), dtype=np.int64)
    for i, row in enumerate(itertools.product(*(range(n) for n in codec.sizes))):
        try:
            table[i] = ticks(codec.notes(np.asarray([row]))[0].duration)
        except Exception:  # a plugin encoding's unseen combination: never a real note
            continue
    return table


def joint(classes: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Joint class index of rows of classes (..., heads)."""
    classes = np.asarray(classes)
    if len(sizes) == 1:
        return classes[..., 0].astype(np.int64)
    return np.ravel_multi_index(np.moveaxis(classes, -1, 0), sizes).astype(np.int64)


def song_columns(note_ticks: np.ndarray, meter: Meter) -> np.ndarray:
    """(notes, 7): for each note of a song, the bar inputs of the note after it."""
    after = -meter.pickup + np.cumsum(np.asarray(note_ticks, dtype=np.int64))
    return meter.columns(after)
