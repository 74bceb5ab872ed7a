"""How close a model comes to its training songs: one note ahead, and the whole song; and
how well it predicts songs it did not train on (NLL per note, in nats and in bits)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from melodynet.positions import Meter
from melodynet.songs.song import Song


@dataclass
class SongScore:
    song: str
    one_step_correct: int
    one_step_total: int
    full_song_matches: int
    full_song_length: int

    @property
    def one_step_accuracy(self) -> float:
        return self.one_step_correct / self.one_step_total if self.one_step_total else 0.0

    def to_json(self) -> dict:
        return {**asdict(self), "one_step_accuracy": round(self.one_step_accuracy, 6)}


def matches(predicted: np.ndarray, truth: np.ndarray) -> int:
    """Positions where every head agrees."""
    n = min(len(predicted), len(truth))
    return int(np.all(predicted[:n] == truth[:n], axis=-1).sum())


def score_song(trained, song: Song) -> SongScore:
    """One-step accuracy from note ``window`` on; full song from the first ``window`` notes."""
    predictor = trained.predictor.with_meter(Meter.of_song(song))
    window = trained.config.window
    classes = trained.codec.classes(song.notes, song.path or song.name)
    truth = classes[window:]
    one_step = predictor.one_step(classes)
    full = predictor.continue_song(classes[:window], len(truth))[0]
    return SongScore(
        song.name, matches(one_step, truth), len(truth), matches(full, truth), len(truth)
    )


def score_all(trained) -> list[SongScore]:
    return [score_song(trained, song) for song in trained.songs]


def heldout_score(trained, songs: list[Song]):
    """The model's NLL per note and accuracies on songs it did not train on, scored on the
    same notes as the baselines (from note ``window`` on), a batch at a time."""
    from melodynet import network
    from melodynet.evaluation.baselines import BaselineScore
    from melodynet.training import dataset

    codec, window, sequence = trained.codec, trained.config.window, trained.spec.sequence
    store = dataset.encode(codec, songs, bar_inputs=trained.bar_inputs)
    sizes = network.input_sizes(codec, trained.bar_inputs)
    nll, correct, pitch, duration, total = 0.0, 0, 0, 0, 0
    for x, y, _, weight, _ in dataset.eval_batches(store, window, sequence):
        outputs = trained.network(network.network_input(trained.network, x, sizes), training=False)
        scored = weight.numpy().reshape(-1) > 0
        truth = y.numpy().reshape(len(scored), -1)[scored]
        predicted = []
        for j, head in enumerate(codec.heads):
            probs = np.asarray(outputs[head]).reshape(len(scored), -1)[scored]
            nll -= np.log(np.maximum(probs[np.arange(len(truth)), truth[:, j]], 1e-30)).sum()
            predicted.append(probs.argmax(axis=-1))
        guess = codec.notes(np.stack(predicted, axis=-1))
        true = codec.notes(truth)
        correct += sum(g == t for g, t in zip(guess, true, strict=True))
        pitch += sum(g.pitch == t.pitch for g, t in zip(guess, true, strict=True))
        duration += sum(g.duration == t.duration for g, t in zip(guess, true, strict=True))
        total += len(truth)
    return BaselineScore(
        name=f"melodynet {trained.meta.model}",
        nll=float(nll / max(total, 1)),
        correct=correct,
        pitch_correct=pitch,
        duration_correct=duration,
        total=total,
        unknown=0,
    )


LN2 = math.log(2)
"""Nats per bit: an NLL in nats per note over ``LN2`` is in bits per note."""


def bits(nats: float) -> float:
    """A negative log-likelihood in nats (natural log) as bits (log base 2): nats / ln 2."""
    return nats / LN2


def with_bits(score: dict) -> dict:
    """A held-out score (``BaselineScore.to_json()``) with ``bits_per_note`` after ``nll``."""
    out = {}
    for key, value in score.items():
        out[key] = value
        if key == "nll":
            out["bits_per_note"] = round(bits(value), 6)
    return out


def heldout_line(score: dict, show_bits: bool = False) -> str:
    """One held-out score as a line for people; with ``show_bits`` the NLL also in bits per
    note, beside the nats."""
    from melodynet.evaluation.baselines import score_line

    line = score_line(score)
    if not show_bits:
        return line
    per_note = score.get("bits_per_note")
    per_note = bits(score["nll"]) if per_note is None else per_note
    return line.replace("nats/note", f"nats/note ({per_note:.4f} bits/note)", 1)


def evaluate(model, stats: int | Sequence[Song] = 0) -> dict:
    """Everything ``Model.evaluate`` reports, as one JSON-ready dict: ``songs`` (per
    training song), ``heldout`` (the model and two baselines, with a validation split:
    ``nll`` in nats per note and the same as ``bits_per_note``, nats / ln 2) and ``stats``
    (the musical statistics of ``stats`` sampled melodies, or of the melodies ``stats``
    lists, against the training songs)."""
    melodies = _stats_melodies(stats)
    report = {
        "model_dir": str(model.directory) if model.directory else None,
        "model": model.meta.model,
        "encoding": model.meta.encoding,
        "window": model.meta.window,
        "units": model.meta.units,
        "params": dict(model.meta.model_options),
        "songs": [s.to_json() for s in score_all(model)],
    }
    held = model.heldout_songs
    if held:
        from melodynet.evaluation.baselines import evaluate_baselines

        baselines = evaluate_baselines(
            model.songs, held, model.meta.window, 3, vocabulary_songs=model.songs + held
        )
        report["heldout"] = [
            with_bits(c.to_json()) for c in [heldout_score(model, held), *baselines]
        ]
    if melodies is None and stats:
        from melodynet.generation.generate import generate_songs
        from melodynet.generation.sampling import Sampling

        # Sampled from the first training song's opening, as long as it.
        melodies = generate_songs(model, None, None, "full", None, stats, Sampling(1.0))
    if melodies:
        from melodynet.evaluation.stats import compare

        report["stats"] = [row.to_json() for row in compare(melodies, model.songs)]
    return report


def _stats_melodies(stats) -> list[Song] | None:
    """The melodies ``stats`` lists (None when it is a number to sample); a bad ``stats``
    is an OptionError."""
    from melodynet.errors import OptionError

    if isinstance(stats, int) and not isinstance(stats, bool):
        if stats < 0:
            raise OptionError(f"stats must be 0 or more, not {stats}", option="stats")
        return None
    if isinstance(stats, Song) or not isinstance(stats, Sequence):
        raise OptionError(
            f"stats must be a number of melodies to sample or a list of Songs, not {stats!r}",
            option="stats",
        )
    melodies = list(stats)
    wrong = next((m for m in melodies if not isinstance(m, Song)), None)
    if wrong is not None:
        raise OptionError(f"stats lists a {type(wrong).__name__}, not a Song", option="stats")
    if not melodies:
        raise OptionError("stats: an empty list of melodies to compare", option="stats")
    return melodies
