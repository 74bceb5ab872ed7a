"""Training examples cut from encoded songs: sliding windows, or whole songs."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class Examples:
    """Inputs, targets and weights, all as class indices (one-hot is applied later).

    Window models: x (N, window, heads), y (N, heads), loss_weight/score_weight (N,).
    Sequence models: x (S, T, heads), y (S, T, heads), weights (S, T): padding has
    weight 0, and score_weight also leaves out targets inside the first window,
    so scores count the same notes for every model.
    """

    x: np.ndarray
    y: np.ndarray
    loss_weight: np.ndarray
    score_weight: np.ndarray


def windows(songs: Sequence[np.ndarray], window: int) -> Examples:
    xs, ys = [], []
    for classes in songs:
        for start in range(len(classes) - window):
            xs.append(classes[start : start + window])
            ys.append(classes[start + window])
    x, y = np.stack(xs), np.stack(ys)
    ones = np.ones(len(x), dtype=np.float32)
    return Examples(x, y, ones, ones)


def sequences(songs: Sequence[np.ndarray], window: int) -> Examples:
    length = max(len(c) for c in songs) - 1
    heads = songs[0].shape[1]
    x = np.zeros((len(songs), length, heads), dtype=np.int32)
    y = np.zeros_like(x)
    loss_weight = np.zeros((len(songs), length), dtype=np.float32)
    for i, classes in enumerate(songs):
        n = len(classes) - 1
        x[i, :n], y[i, :n] = classes[:-1], classes[1:]
        loss_weight[i, :n] = 1.0
    score_weight = loss_weight.copy()
    score_weight[:, : window - 1] = 0.0
    return Examples(x, y, loss_weight, score_weight)


def ceiling(songs: Sequence[np.ndarray], window: int, whole_history: bool = False) -> float:
    """Best one-step accuracy reachable by a model that sees ``window`` notes, or
    (``whole_history``) everything before the note; scored from note ``window`` on.

    Contexts followed by different notes in different places can only be
    right as often as their most common continuation.
    """
    followers: dict[tuple, Counter] = defaultdict(Counter)
    total = 0
    for classes in songs:
        rows = [tuple(r) for r in classes.tolist()]
        for t in range(window, len(rows)):
            context = tuple(rows[:t] if whole_history else rows[t - window : t])
            followers[context][rows[t]] += 1
            total += 1
    return sum(max(c.values()) for c in followers.values()) / total
