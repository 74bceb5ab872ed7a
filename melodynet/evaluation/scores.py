"""How close a model comes to its training songs: one note ahead, and the whole song."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

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
    predictor = trained.predictor
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
    store = dataset.encode(codec, songs)
    nll, correct, pitch, duration, total = 0.0, 0, 0, 0, 0
    for x, y, _, weight, _ in dataset.eval_batches(store, window, sequence):
        outputs = trained.network(network.features(x, codec.sizes), training=False)
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


def evaluate(model, stats: int = 0) -> dict:
    """Everything ``Model.evaluate`` reports, as one JSON-ready dict: ``songs`` (per
    training song), ``heldout`` (the model and two baselines, with a validation split)
    and ``stats`` (with ``stats`` sampled melodies)."""
    from melodynet.errors import OptionError

    if not isinstance(stats, int) or stats < 0:
        raise OptionError(f"stats must be 0 or more, not {stats}", option="stats")
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
        report["heldout"] = [c.to_json() for c in [heldout_score(model, held), *baselines]]
    if stats:
        from melodynet.evaluation.stats import compare
        from melodynet.generation.generate import generate_songs
        from melodynet.generation.sampling import Sampling

        # Sampled from the first training song's opening, as long as it.
        sampled = generate_songs(model, None, None, "full", None, stats, Sampling(1.0))
        report["stats"] = [row.to_json() for row in compare(sampled, model.songs)]
    return report
