"""Choosing the next note from a softmax head: greedy, or sampled with temperature, top-k
and top-p (nucleus), in numpy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from melodynet.errors import OptionError


@dataclass(frozen=True)
class Sampling:
    """Greedy unless a temperature is set. A fixed seed gives the same notes every run."""

    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.temperature is not None and not self.temperature > 0:
            raise OptionError(
                f"temperature must be above 0, not {self.temperature}", option="temperature"
            )
        if self.top_k is not None and self.top_k < 1:
            raise OptionError(f"top_k must be at least 1, not {self.top_k}", option="top_k")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise OptionError(f"top_p must be in (0, 1], not {self.top_p}", option="top_p")

    @property
    def greedy(self) -> bool:
        return self.temperature is None and self.top_k is None and self.top_p is None


def choose(probs: np.ndarray, sampling: Sampling | None, uniform: np.ndarray | None) -> np.ndarray:
    """Class indices (batch,) from probabilities (batch, classes): the likeliest, or, given
    ``uniform`` (batch,) numbers in [0, 1), the class whose cumulative probability first
    exceeds each one after temperature, top-k and top-p reshape the distribution."""
    if sampling is None or sampling.greedy or uniform is None:
        return probs.argmax(axis=-1)
    logits = np.log(np.maximum(probs.astype(np.float64), 1e-30)) / (sampling.temperature or 1.0)
    if sampling.top_k is not None and sampling.top_k < logits.shape[-1]:
        kth = -np.partition(-logits, sampling.top_k - 1, axis=-1)[
            :, sampling.top_k - 1 : sampling.top_k
        ]
        logits = np.where(logits < kth, -np.inf, logits)
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    if sampling.top_p is not None:
        order = np.argsort(-weights, axis=-1, kind="stable")
        ranked = np.take_along_axis(weights, order, axis=-1)
        before = np.cumsum(ranked, axis=-1) - ranked  # mass of the likelier classes
        keep = np.zeros_like(weights, dtype=bool)
        np.put_along_axis(keep, order, before < sampling.top_p - 1e-6, axis=-1)
        weights = np.where(keep, weights, 0.0)
        weights /= weights.sum(axis=-1, keepdims=True)
    cumulative = np.cumsum(weights, axis=-1)
    picked = (cumulative <= np.asarray(uniform)[:, None]).sum(axis=-1)
    return np.minimum(picked, weights.shape[-1] - 1)
