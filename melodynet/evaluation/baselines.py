"""Two baselines a network must beat: repeat the previous note, and an n-gram model.

Both are fitted on the notes of the training songs (a note is its pitch and duration,
``Note.key``, what the ``single`` encoding predicts) and scored on held-out songs at the
positions melodynet's one-step accuracy scores: from note ``window`` on, each note
predicted from the notes before it. The scores are

- ``nll``: mean negative log-likelihood of the true note, in nats per note (the
  network's cross-entropy loss, which for the ``split`` encoding is the sum of the
  pitch and duration losses, the same joint probability);
- ``perplexity``: exp(nll);
- ``accuracy``: how often the most likely note is the true note, and how often its pitch
  and its duration are right.

Held-out notes never seen in training (``unknown``) count as one shared unknown class
with a little probability, so every NLL is finite.

- ``RepeatPrevious`` predicts the previous note. As a distribution it gives the previous
  note the probability that a note repeats the one before it in training (add-one
  smoothed), and shares the rest among the other notes by their training frequency
  (add-one smoothed over the vocabulary and the unknown class).
- ``NGram(order)`` predicts from the ``order - 1`` notes before (order 3: a trigram),
  with Witten-Bell interpolated smoothing down to a uniform distribution over the
  vocabulary and the unknown class:
  P(w | h) = (c(h, w) + T(h) P(w | h')) / (c(h) + T(h)), where h' is h without its
  oldest note, c counts training events and T(h) is the number of distinct notes seen
  after h; an unseen context backs off to h'. Contexts at the start of a song are padded
  with a start symbol. Ties in the most likely note go to the first in vocabulary order.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from melodynet.errors import MelodynetError, OptionError
from melodynet.songs.song import Note, Song

_START = -1


@dataclass
class BaselineScore:
    name: str
    nll: float
    """Mean negative log-likelihood of the true note, nats per note."""
    correct: int
    pitch_correct: int
    duration_correct: int
    total: int
    """Notes scored."""
    unknown: int
    """Scored notes never seen in training."""

    @property
    def perplexity(self) -> float:
        return math.exp(self.nll)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def pitch_accuracy(self) -> float:
        return self.pitch_correct / self.total if self.total else 0.0

    @property
    def duration_accuracy(self) -> float:
        return self.duration_correct / self.total if self.total else 0.0

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "nll": round(self.nll, 6),
            "perplexity": round(self.perplexity, 6),
            "accuracy": round(self.accuracy, 6),
            "pitch_accuracy": round(self.pitch_accuracy, 6),
            "duration_accuracy": round(self.duration_accuracy, 6),
            "correct": self.correct,
            "total": self.total,
            "unknown": self.unknown,
        }


def score_line(score: dict) -> str:
    """One held-out score (``BaselineScore.to_json()``) as a line for people."""
    return (
        f"{score['name']}: NLL {score['nll']:.4f} nats/note, perplexity "
        f"{score['perplexity']:.2f}, accuracy {score['accuracy']:.1%} (pitch "
        f"{score['pitch_accuracy']:.1%}, duration {score['duration_accuracy']:.1%}) on "
        f"{score['total']} notes"
    )


class Vocabulary:
    """The training notes in a fixed order; index ``size`` is the unknown class."""

    def __init__(self, songs: Sequence[Song]) -> None:
        self.keys = sorted({n.key for s in songs for n in s.notes})
        if not self.keys:
            raise MelodynetError("baselines: no training notes")
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.notes = [Note.from_key(k) for k in self.keys]
        self.size = len(self.keys)
        self.unknown = self.size

    def ids(self, song: Song) -> list[int]:
        return [self.index.get(n.key, self.unknown) for n in song.notes]


class RepeatPrevious:
    name = "repeat previous note"

    def __init__(self, songs: Sequence[Song], vocabulary: Vocabulary | None = None) -> None:
        self.vocabulary = vocabulary or Vocabulary(songs)
        v = self.vocabulary
        counts = np.zeros(v.size + 1)
        repeats = transitions = 0
        for song in songs:
            ids = v.ids(song)
            for i in ids:
                counts[i] += 1
            transitions += max(0, len(ids) - 1)
            repeats += sum(1 for a, b in zip(song.notes, song.notes[1:], strict=False) if a == b)
        self.repeat = (repeats + 1) / (transitions + 2)
        self.unigram = (counts + 1) / (counts.sum() + v.size + 1)

    def log_prob(self, notes: Sequence[Note], ids: Sequence[int], t: int) -> float:
        if notes[t] == notes[t - 1]:
            return math.log(self.repeat)
        q = self.unigram
        return math.log((1 - self.repeat) * q[ids[t]] / (1 - q[ids[t - 1]]))

    def predict(self, notes: Sequence[Note], ids: Sequence[int], t: int) -> Note:
        return notes[t - 1]


class NGram:
    def __init__(
        self, songs: Sequence[Song], order: int = 3, vocabulary: Vocabulary | None = None
    ) -> None:
        if order < 1:
            raise MelodynetError(f"n-gram order must be at least 1, not {order}")
        self.order = order
        self.name = f"order-{order} n-gram"
        self.vocabulary = vocabulary or Vocabulary(songs)
        self._counts: list[dict[tuple, Counter]] = [defaultdict(Counter) for _ in range(order)]
        for song in songs:
            ids = self.vocabulary.ids(song)
            padded = [_START] * (order - 1) + ids
            for t, token in enumerate(ids):
                for k in range(order):
                    context = tuple(padded[t + order - 1 - k : t + order - 1])
                    self._counts[k][context][token] += 1
        self._memo: dict[tuple, np.ndarray] = {}
        self._uniform = np.full(self.vocabulary.size + 1, 1.0 / (self.vocabulary.size + 1))

    def distribution(self, context: Sequence[int]) -> np.ndarray:
        """P(next note | the notes in ``context``, oldest first), over the vocabulary and
        the unknown class (the last entry)."""
        context = tuple(context)[-(self.order - 1) :] if self.order > 1 else ()
        found = self._memo.get(context)
        if found is not None:
            return found
        if len(self._memo) > 200_000:
            self._memo.clear()
        lower = self.distribution(context[1:]) if context else self._uniform
        counter = self._counts[len(context)].get(context)
        if not counter:
            probs = lower
        else:
            seen = np.zeros_like(self._uniform)
            for token, count in counter.items():
                seen[token] = count
            total, types = float(seen.sum()), float(len(counter))
            probs = (seen + types * lower) / (total + types)
        self._memo[context] = probs
        return probs

    def _context(self, ids: Sequence[int], t: int) -> list[int]:
        start = t - (self.order - 1)
        return [_START] * max(0, -start) + list(ids[max(0, start) : t])

    def log_prob(self, notes: Sequence[Note], ids: Sequence[int], t: int) -> float:
        return math.log(self.distribution(self._context(ids, t))[ids[t]])

    def predict(self, notes: Sequence[Note], ids: Sequence[int], t: int) -> Note:
        probs = self.distribution(self._context(ids, t))
        return self.vocabulary.notes[int(np.argmax(probs[:-1]))]


def score(model, songs: Sequence[Song], window: int) -> BaselineScore:
    """``model`` on every note of ``songs`` from note ``window`` (0-based) on."""
    if window < 1:
        raise OptionError(f"window must be at least 1, not {window}", option="window")
    nll = 0.0
    correct = pitch = duration = total = unknown = 0
    vocabulary = model.vocabulary
    for song in songs:
        notes = song.notes
        ids = vocabulary.ids(song)
        for t in range(window, len(notes)):
            nll -= model.log_prob(notes, ids, t)
            guess, truth = model.predict(notes, ids, t), notes[t]
            correct += guess == truth
            pitch += guess.pitch == truth.pitch
            duration += guess.duration == truth.duration
            unknown += ids[t] == vocabulary.unknown
            total += 1
    if not total:
        raise MelodynetError(
            f"baselines: no held-out notes to score (every song has at most {window} notes)"
        )
    return BaselineScore(model.name, nll / total, correct, pitch, duration, total, unknown)


def evaluate_baselines(
    training: Sequence[Song],
    heldout: Sequence[Song],
    window: int,
    order: int = 3,
    vocabulary_songs: Sequence[Song] | None = None,
) -> list[BaselineScore]:
    """Repeat-previous and the order-``order`` n-gram, fitted on ``training``, scored on
    ``heldout``.

    The vocabulary is the training notes, unless ``vocabulary_songs`` gives the songs a
    network's codec was fitted on (melodynet fits it on training and held-out songs
    together): then the baselines spread their smoothing over the same classes.
    """
    vocabulary = Vocabulary(vocabulary_songs if vocabulary_songs is not None else training)
    models = [RepeatPrevious(training, vocabulary), NGram(training, order, vocabulary)]
    return [score(m, heldout, window) for m in models]


def baselines(
    training: Sequence[Song], heldout: Sequence[Song], *, window: int = 4, orders=(3,)
) -> list[dict]:
    """Repeat-previous and an n-gram of each order, fitted on ``training`` and scored on
    ``heldout`` from note ``window`` on (as ``Model.score`` scores a network): NLL per note,
    perplexity and accuracies, as JSON-ready dicts."""
    vocabulary = Vocabulary(training)
    models = [RepeatPrevious(training, vocabulary)]
    models += [NGram(training, order, vocabulary) for order in orders]
    return [score(m, heldout, window).to_json() for m in models]
