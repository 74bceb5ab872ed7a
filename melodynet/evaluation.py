"""How close a model comes to its training songs: one note ahead, and the whole song."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from melodynet.song import Song


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
