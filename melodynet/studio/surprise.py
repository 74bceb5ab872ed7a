"""How surprising the model found each note: its information content, in bits.

A note's information content is ``-log2 p(note | the notes before it)`` under the model
(summed over the encoding's heads: pitch and duration apart for ``split``), measured with
the model's own distribution, before any constraint or sampling shaped the choice. Notes
the model cannot predict (the first ``window`` of a window model, the first of a sequence
model) have none. The page colours the score by it, in bands from expected to surprising.

A model trained with bar inputs also reads where each note falls in its bar: the notes are
counted in the song's own meter (its time signature and pickup), as the library scores
songs, not in the meter of the model's first training song.
"""

from __future__ import annotations

import math

import numpy as np

import melodynet
from melodynet.positions import Meter

BANDS = [
    (1.0, "#2a7a2a", "under 1 bit"),
    (2.0, "#8fb339", "1–2 bits"),
    (4.0, "#e0a800", "2–4 bits"),
    (6.0, "#e8590c", "4–6 bits"),
    (math.inf, "#9c36b5", "6 bits or more"),
]
"""(upper bound in bits, colour, label), from expected to surprising."""


def information_content(
    model: melodynet.Model, song: melodynet.Song, meter: Meter | None = None
) -> list[float | None]:
    """Each note's information content in bits under ``model`` (None where it has none).
    ``meter``: the bars the song's notes fall in, for a model with bar inputs (default the
    song's own: ``Meter.of_song``)."""
    classes = model.codec.classes(song.notes, song.name)
    predictor = model.predictor.with_meter(meter or Meter.of_song(song))
    first = 1 if model.spec.sequence else model.config.window
    out: list[float | None] = [None] * len(song.notes)
    if len(song.notes) <= first:
        return out
    probs = predictor.probabilities(classes)
    bits = np.zeros(len(song.notes) - first)
    for head, p in enumerate(probs):
        chosen = p[np.arange(len(bits)), classes[first:, head]]
        bits += -np.log2(np.maximum(chosen, 1e-12))
    for i, value in enumerate(bits):
        out[first + i] = round(float(value), 3)
    return out


def colors(bits: list[float | None]) -> dict[int, str]:
    found = {}
    for i, value in enumerate(bits):
        if value is not None:
            found[i] = next(color for top, color, _ in BANDS if value < top)
    return found


def legend() -> list[dict]:
    return [{"color": color, "label": label} for _, color, label in BANDS]
