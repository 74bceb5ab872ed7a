"""Musical statistics of melodies, as muspy defines them, and generated against training.

Per song, over its pitched notes (rests are not notes here, as in muspy):

- ``pitch_range``: highest minus lowest MIDI pitch (semitones).
- ``n_pitches_used``: distinct MIDI pitches; ``n_pitch_classes_used``: distinct pitch classes.
- ``pitch_class_entropy``: Shannon entropy in bits of the histogram of pitch classes,
  counting notes (not durations): 0 for one pitch class, log2(12) = 3.585 for all twelve
  equally often.
- ``scale_consistency``: the largest fraction of notes that fall in one major or minor
  scale, over all 24 (muspy's ``scale_consistency``, the C-RNN-GAN metric).
- ``repeated_note_rate``: of each two consecutive notes (rests skipped), the fraction
  with the same pitch (not a muspy metric).

A song without notes has no value (NaN), and is left out of a collection's averages.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from melodynet.songs.song import Song

METRICS = (
    "pitch_range",
    "n_pitches_used",
    "n_pitch_classes_used",
    "pitch_class_entropy",
    "scale_consistency",
    "repeated_note_rate",
)
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)  # natural minor
_SCALES = [
    frozenset((root + step) % 12 for step in scale)
    for scale in (_MAJOR, _MINOR)
    for root in range(12)
]


def _pitches(song: Song) -> list[int]:
    return [n.pitch for n in song.notes if n.pitch is not None]


def pitch_range(song: Song) -> float:
    pitches = _pitches(song)
    return float(max(pitches) - min(pitches)) if pitches else math.nan


def n_pitches_used(song: Song) -> float:
    pitches = _pitches(song)
    return float(len(set(pitches))) if pitches else math.nan


def n_pitch_classes_used(song: Song) -> float:
    pitches = _pitches(song)
    return float(len({p % 12 for p in pitches})) if pitches else math.nan


def pitch_class_entropy(song: Song) -> float:
    pitches = _pitches(song)
    if not pitches:
        return math.nan
    counts = Counter(p % 12 for p in pitches)
    total = len(pitches)
    return -sum(c / total * math.log2(c / total) for c in counts.values()) + 0.0


def scale_consistency(song: Song) -> float:
    pitches = _pitches(song)
    if not pitches:
        return math.nan
    classes = Counter(p % 12 for p in pitches)
    best = max(sum(c for pc, c in classes.items() if pc in scale) for scale in _SCALES)
    return best / len(pitches)


def repeated_note_rate(song: Song) -> float:
    pitches = _pitches(song)
    if len(pitches) < 2:
        return math.nan
    repeats = sum(1 for a, b in zip(pitches, pitches[1:], strict=False) if a == b)
    return repeats / (len(pitches) - 1)


_FUNCTIONS = {
    "pitch_range": pitch_range,
    "n_pitches_used": n_pitches_used,
    "n_pitch_classes_used": n_pitch_classes_used,
    "pitch_class_entropy": pitch_class_entropy,
    "scale_consistency": scale_consistency,
    "repeated_note_rate": repeated_note_rate,
}


def song_stats(song: Song) -> dict[str, float]:
    """Every metric of one song."""
    return {name: _FUNCTIONS[name](song) for name in METRICS}


@dataclass
class Summary:
    """One metric over a set of songs: mean and standard deviation over the songs that
    have a value (``songs`` of them)."""

    mean: float
    std: float
    songs: int


def collection_stats(songs: Sequence[Song]) -> dict[str, Summary]:
    """Per metric, the mean and (population) standard deviation over the songs."""
    per_song = [song_stats(s) for s in songs]
    out = {}
    for name in METRICS:
        values = [v[name] for v in per_song if not math.isnan(v[name])]
        if not values:
            out[name] = Summary(math.nan, math.nan, 0)
            continue
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        out[name] = Summary(mean, std, len(values))
    return out


@dataclass
class Comparison:
    """A metric of generated melodies beside the same metric of the training songs.

    ``z`` is the difference of the means in training standard deviations: within about
    1 the generated melodies look like the training set on this metric.
    """

    metric: str
    generated: Summary
    training: Summary

    @property
    def difference(self) -> float:
        return self.generated.mean - self.training.mean

    @property
    def z(self) -> float:
        if self.training.std > 0:
            return self.difference / self.training.std
        return 0.0 if self.difference == 0 else math.copysign(math.inf, self.difference)

    def to_json(self) -> dict:
        def clean(x: float) -> float | None:
            return None if math.isnan(x) or math.isinf(x) else round(x, 6)

        return {
            "metric": self.metric,
            "generated": {
                k: clean(v) if isinstance(v, float) else v
                for k, v in asdict(self.generated).items()
            },
            "training": {
                k: clean(v) if isinstance(v, float) else v for k, v in asdict(self.training).items()
            },
            "difference": clean(self.difference),
            "z": clean(self.z),
        }


def compare(generated: Sequence[Song], training: Sequence[Song]) -> list[Comparison]:
    """Each metric of the generated melodies against the training songs."""
    gen, train = collection_stats(generated), collection_stats(training)
    return [Comparison(name, gen[name], train[name]) for name in METRICS]


def format_comparison(rows: Sequence[Comparison | dict]) -> str:
    """A small table: metric, generated mean ± std, training mean ± std, z (of Comparisons
    or their JSON, as ``Model.evaluate`` gives them)."""

    def number(x: float | None) -> float:
        return math.nan if x is None else x

    lines = [f"{'metric':22} {'generated':>16} {'training':>16} {'z':>6}"]
    for row in rows:
        row = row.to_json() if isinstance(row, Comparison) else row
        g, t = row["generated"], row["training"]
        lines.append(
            f"{row['metric']:22} {number(g['mean']):9.3f} ±{number(g['std']):6.3f} "
            f"{number(t['mean']):9.3f} ±{number(t['std']):6.3f} {number(row['z']):6.2f}"
        )
    return "\n".join(lines)
