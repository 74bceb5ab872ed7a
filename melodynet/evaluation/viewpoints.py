"""Viewpoints: what a PPM model of melody counts, derived from the notes.

IDyOM's models predict a note's pitch through *viewpoints* (Conklin & Witten 1995;
Pearce 2005, §5.3): a PPM model counts not the pitches themselves but something derived
from each note and the notes before it, and gives each possible pitch the probability of
the symbol that pitch would have. ``mix`` (``melodynet.evaluation.mix``) names a model as
``VIEWPOINT-KIND``; the viewpoint is one attribute or several joined by ``-`` (a *linked*
viewpoint: its symbol is the tuple, IDyOM's ``(cpint cpintfref)``):

``pitch``
    the chromatic pitch (IDyOM's ``cpitch``; the default: ``ltm+`` is ``pitch-ltm+``)
``interval``
    the interval from the pitch before, in semitones (``cpint``; not for a first note)
``degree``
    the pitch class above the tonic of the melody's declared key (``cpintfref``); a
    melody whose key is not declared (``Song.key`` empty) is left to the other models
``fib``
    whether the note starts a bar (``fib``)
``ioi``
    the time since the note before started, in sixteenths (``ioi``; 32 and longer share
    a class, off the sixteenth grid is a class of its own)
``beat``
    where in the bar the note starts, in sixteenths (bar inputs' slot)

The time attributes are known before the pitch is (a note's onset follows from the notes
and rests before it), so a viewpoint needs at least one of ``pitch``, ``interval`` and
``degree``: the time attributes only choose the contexts. Where several pitches have the
same symbol (a degree in every octave) they share its probability equally, as IDyOM's
conversion to the basic viewpoint does, and the result is renormalised over the pitches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from melodynet.positions import SLOT, SLOTS, TICKS

ATTRIBUTES = ("pitch", "interval", "degree", "fib", "ioi", "beat")
PITCHED = ("pitch", "interval", "degree")
_TIME_SIZES = {"fib": 2, "ioi": 2 * (SLOTS + 1), "beat": 2 * SLOTS}


@dataclass(frozen=True)
class Melody:
    """A melody as the viewpoints see it: each note's symbol in the pitch alphabet and,
    where known, the tonic (pitch class) of its declared key and each note's onset in
    ticks (``positions.TICKS`` a quarter note) from the downbeat of bar 0, in bars of
    ``bar`` ticks (a pickup starts below zero)."""

    symbols: tuple[int, ...]
    tonic: int | None = None
    onsets: tuple[int, ...] | None = None
    bar: int = 4 * TICKS

    def __len__(self) -> int:
        return len(self.symbols)


def declared_tonic(song) -> int | None:
    """The tonic (pitch class) of the key a Song declares; None when it declares none."""
    from melodynet.songs.preprocess import parse_key

    key = parse_key(song.key) if song.key else None
    return None if key is None else key[0]


def song_melody(song, symbols: Sequence[int], events: Sequence[bool]) -> Melody:
    """A Song as the viewpoints see it: ``symbols`` are those of the notes ``events``
    marks (the others, rests, still take their time), each starting where the durations
    before it say, in the song's meter and pickup, as bar inputs count them."""
    from melodynet.positions import Meter, ticks

    meter = Meter.of_song(song)
    starts = -meter.pickup + np.cumsum([0] + [ticks(n.duration) for n in song.notes[:-1]])
    onsets = tuple(int(t) for t, event in zip(starts, events, strict=True) if event)
    return Melody(tuple(int(x) for x in symbols), declared_tonic(song), onsets, meter.bar)


def as_melody(melody: Melody | Sequence[int]) -> Melody:
    """A bare sequence of symbols is a melody of unknown key and time."""
    return melody if isinstance(melody, Melody) else Melody(tuple(int(x) for x in melody))


@dataclass(frozen=True)
class Viewpoint:
    """One attribute or several linked, in ``ATTRIBUTES`` order."""

    attributes: tuple[str, ...]

    @property
    def name(self) -> str:
        return "-".join(self.attributes)

    @property
    def first(self) -> int:
        """The first note it predicts: 1 with an interval (the first note has none)."""
        return 1 if "interval" in self.attributes else 0

    def applies(self, melody: Melody) -> bool:
        """Whether the melody says what the viewpoint needs (a key, onsets)."""
        if "degree" in self.attributes and melody.tonic is None:
            return False
        timed = any(a in _TIME_SIZES for a in self.attributes)
        return not timed or melody.onsets is not None

    def size(self, pitches: np.ndarray) -> int:
        """The number of symbols: the product of the attributes' alphabets."""
        total = 1
        for attribute in self.attributes:
            total *= self._size(attribute, pitches)
        return total

    @staticmethod
    def _size(attribute: str, pitches: np.ndarray) -> int:
        if attribute == "pitch":
            return len(pitches)
        if attribute == "interval":
            return 2 * int(pitches.max() - pitches.min()) + 1
        if attribute == "degree":
            return 12
        return _TIME_SIZES[attribute]

    def candidates(self, melody: Melody, pitches: np.ndarray) -> np.ndarray:
        """(notes - first, alphabet): the symbol every pitch of the alphabet would have
        as each note from ``first`` on."""
        n, size = len(melody), len(pitches)
        played = pitches[list(melody.symbols)]
        rows = np.arange(self.first, n)
        symbol = np.zeros((len(rows), size), dtype=np.int64)
        for attribute in self.attributes:
            radix = self._size(attribute, pitches)
            symbol = symbol * radix + self._component(attribute, melody, pitches, played, rows)
        return symbol

    @staticmethod
    def _component(attribute, melody, pitches, played, rows) -> np.ndarray:
        """(rows, alphabet) or (rows, 1) values of one attribute."""
        if attribute == "pitch":
            return np.arange(len(pitches))[None, :]
        if attribute == "interval":
            low = int(pitches.min() - pitches.max())
            return pitches[None, :] - played[rows - 1][:, None] - low
        if attribute == "degree":
            return ((pitches - melody.tonic) % 12)[None, :]
        onsets = np.asarray(melody.onsets, dtype=np.int64)
        if attribute == "ioi":
            gaps = np.diff(onsets, prepend=onsets[:1])[rows]
            value = np.minimum(gaps // SLOT, SLOTS) + (SLOTS + 1) * (gaps % SLOT != 0)
        else:
            position = onsets[rows] % melody.bar
            if attribute == "fib":
                value = (position == 0).astype(np.int64)
            else:
                value = np.minimum(position // SLOT, SLOTS - 1) + SLOTS * (position % SLOT != 0)
        return value[:, None]

    def sequence(self, melody: Melody, pitches: np.ndarray) -> list[int]:
        """The melody's own symbols, from note ``first`` on."""
        table = self.candidates(melody, pitches)
        own = np.asarray(melody.symbols[self.first :], dtype=np.int64)
        return table[np.arange(len(own)), own].tolist()

    def as_pitches(self, dist: np.ndarray, melody: Melody, pitches: np.ndarray) -> np.ndarray:
        """Distributions over symbols before notes ``first``.. as distributions over the
        pitch alphabet (rows before ``first`` are uniform: the caller leaves them out)."""
        size = len(pitches)
        out = np.full((len(melody), size), 1.0 / size)
        if len(melody) > self.first:
            table = self.candidates(melody, pitches)
            out[self.first :] = self._over_pitches(np.asarray(dist)[: len(table)], table, pitches)
        return out

    def last_as_pitches(self, row: np.ndarray, melody: Melody, pitches: np.ndarray) -> np.ndarray:
        """A distribution over symbols before the melody's last note, over pitches."""
        table = self.candidates(melody, pitches)[-1:]
        return self._over_pitches(np.asarray(row)[None], table, pitches)[0]

    def _over_pitches(self, dist: np.ndarray, table: np.ndarray, pitches: np.ndarray):
        q = np.take_along_axis(dist, table, axis=1)
        if not {"pitch", "interval"} & set(self.attributes):  # a degree in every octave
            shares = np.bincount(pitches % 12, minlength=12)[pitches % 12]
            q = q / shares[None, :]
        totals = q.sum(axis=1, keepdims=True)
        safe = np.where(totals > 0, totals, 1.0)
        return np.where(totals > 0, q / safe, 1.0 / len(pitches))


def parse_viewpoint(text: str) -> Viewpoint | None:
    """``interval-degree`` as a Viewpoint; None when it is not one."""
    parts = text.split("-")
    if (
        not all(p in ATTRIBUTES for p in parts)
        or len(set(parts)) != len(parts)
        or not set(parts) & set(PITCHED)
    ):
        return None
    return Viewpoint(tuple(a for a in ATTRIBUTES if a in parts))


__all__ = [
    "ATTRIBUTES",
    "PITCHED",
    "Melody",
    "Viewpoint",
    "as_melody",
    "declared_tonic",
    "parse_viewpoint",
    "song_melody",
]
