"""Mixing a network's predictions with IDyOM's PPM models, as IDyOM mixes its own.

IDyOM predicts each note with a long-term model (LTM, trained on a corpus) and a
short-term model (STM, built over the melody being predicted, as it goes), and combines
their distributions note by note with weights that favour the more certain model
(Pearce 2005, §6.2.4). A network is one more long-term model, and it errs differently:
it generalises across keys and contexts, while the PPM models count exact repeats, and
the STM knows the melody's own motifs, which no model trained on other melodies can.
``mix`` combines the network's distribution with the PPM models named, by the same
entropy-weighted mean ``ppm.combine`` computes:

- ``stm``: the network with the STM (a fresh PPM over the melody so far);
- ``ltm``: with a PPM LTM trained on the same melodies as the network;
- ``ltm+``: with the LTM+ (the LTM also learns each predicted melody as it goes, and
  keeps it for the next ones: IDyOM's ``:ltm+``);
- ``both`` / ``both+``: with the LTM (LTM+) and the STM;
- ``interval-ltm``, ``interval-ltm+``, ``interval-stm``: the same models over the
  intervals between successive pitches (IDyOM's ``cpint`` viewpoint), which carry a
  pattern into every key (``predict="pitch"`` only).

``mix`` names one model or several with commas (``"ltm+,stm,interval-ltm+"``).
All the models are combined at once: per note the weight of model ``m`` is
``(H(p_m) / log2 |A|) ** -bias`` (normalised over the models), and the distributions are
averaged with these weights, geometrically (``Π p_m ** w_m``, renormalised; the default)
or arithmetically (``Σ w_m p_m``). The PPM models are Pearce's C*I (escape method C,
unbounded order, interpolated smoothing, exclusion), IDyOM's defaults.

``PPMMixer`` holds the long-term PPM for one training set; ``mix(network, melody)``
returns the mixed distribution before each symbol of a melody. It needs only the symbols
before each note, so generation can use it the same way (the STM over the notes
generated so far).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from melodynet.errors import OptionError
from melodynet.evaluation import ppm

MIX_MODELS = ("ltm", "ltm+", "stm", "interval-ltm", "interval-ltm+", "interval-stm")
"""The PPM models a network can be mixed with; ``mix`` names one or several, with commas."""
MIX_ALIASES = {"none": (), "both": ("ltm", "stm"), "both+": ("ltm+", "stm")}
"""Names for sets of models (``ppm``'s names for its own systems)."""
MIXES = ("none", "stm", "ltm", "ltm+", "both", "both+")
"""The mixes ``ppm`` itself has (the command line offers these first)."""
DEFAULT_MIX_COMBINATION = "geometric"
DEFAULT_MIX_BIAS = 1.0


def parse_mix(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """The models of a mix: ``"both+"``, ``"ltm+,stm,interval-ltm+"`` or a sequence of
    names, as a tuple in ``MIX_MODELS`` order; ``()`` for none."""
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise OptionError(f"mix: expected model names, not {part!r}", option="mix")
        name = part.strip().lower()
        if name in MIX_ALIASES:
            names += MIX_ALIASES[name]
        elif name in MIX_MODELS:
            names.append(name)
        else:
            raise OptionError(
                f"mix: {name!r} is not a model to mix with; expected none, both, both+ or "
                f"models from {', '.join(MIX_MODELS)}, with commas",
                option="mix",
            )
    for kind in ("ltm", "interval-ltm"):
        if kind in names and kind + "+" in names:
            raise OptionError(f"mix: {kind} or {kind}+, not both", option="mix")
    return tuple(m for m in MIX_MODELS if m in names)


@dataclass(frozen=True)
class MixOptions:
    """Which PPM models to mix a network with, and how (checked on creation):
    ``models`` as ``parse_mix`` takes them."""

    models: str | tuple[str, ...] = "none"
    combination: str = DEFAULT_MIX_COMBINATION
    bias: float = DEFAULT_MIX_BIAS

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", parse_mix(self.models))
        if self.combination not in ppm.COMBINATIONS:
            raise OptionError(
                f"mix_combination must be one of {', '.join(ppm.COMBINATIONS)}, not "
                f"{self.combination!r}",
                option="mix_combination",
            )
        bias = self.bias
        if isinstance(bias, bool) or not isinstance(bias, int | float) or not 0 <= bias < 1e6:
            raise OptionError(
                f"mix_bias must be a number of at least 0, not {bias!r}", option="mix_bias"
            )
        object.__setattr__(self, "bias", float(bias))

    @property
    def active(self) -> bool:
        return bool(self.models)

    @property
    def intervals(self) -> bool:
        """Some of the models are over pitch intervals."""
        return any(m.startswith("interval-") for m in self.models)

    @property
    def name(self) -> str:
        """The models as ``mix`` takes them: ``ltm+,stm``, or ``none``."""
        return ",".join(self.models) or "none"

    def describe(self) -> str:
        """``mixed with PPM LTM+, STM (geometric, b=1)``, or "" for none."""
        if not self.active:
            return ""
        names = ", ".join(m.upper().replace("INTERVAL-", "interval ") for m in self.models)
        return f"mixed with PPM {names} ({self.combination}, b={self.bias:g})"

    def to_json(self) -> dict:
        return {"mix": self.name, "mix_combination": self.combination, "mix_bias": self.bias}


class PPMMixer:
    """The PPM models of ``options`` for one training set of melodies (symbols
    ``0 .. alphabet_size - 1``); ``mix`` combines a network's distributions with them.

    Interval models (IDyOM's ``cpint`` viewpoint) need ``pitches``, the MIDI pitch of
    each symbol: they are PPM models over the intervals between successive pitches (an
    alphabet of every difference of two pitches of the alphabet), and predict a pitch by
    the probability of its interval from the pitch before, renormalised over the
    alphabet. A melody's first note has no interval: it is mixed without them.

    With an LTM+ the melodies must be mixed in the order they are predicted: each is
    learnt after it is predicted and kept for the next (as IDyOM's ``:ltm+`` does)."""

    def __init__(
        self,
        training: Sequence[Sequence[int]],
        alphabet_size: int,
        options: MixOptions,
        pitches: Sequence[int] | None = None,
    ) -> None:
        self.options = options
        self.size = alphabet_size
        params = ppm.resolve_params(None)  # C*I for every model: IDyOM's defaults
        self.long_options = ppm.model_options(params)
        self.short_options = ppm.model_options(params, "stm-")
        if options.intervals:
            if pitches is None or len(pitches) != alphabet_size:
                raise OptionError(
                    "mix: interval models need the pitch of every symbol (predict pitch)",
                    option="mix",
                )
            self.pitches = np.asarray(pitches, dtype=int)
            self.span = int(self.pitches.max() - self.pitches.min())
        self.ltm = self._long("ltm", training, alphabet_size, self._same)
        self.interval_ltm = None
        if options.intervals:
            self.interval_ltm = self._long(
                "interval-ltm", training, 2 * self.span + 1, self._intervals
            )

    def _long(self, kind: str, training, size: int, view):
        if kind not in self.options.models and kind + "+" not in self.options.models:
            return None
        model = ppm.PPM(size, self.long_options)
        for melody in training:
            model.learn(view(melody))
        return model

    @staticmethod
    def _same(melody: Sequence[int]) -> list[int]:
        return list(melody)

    def _intervals(self, melody: Sequence[int]) -> list[int]:
        return [int(d) + self.span for d in np.diff(self.pitches[list(melody)])]

    def _as_pitches(self, dist: np.ndarray, melody: Sequence[int]) -> np.ndarray:
        """Interval distributions before notes 1.. as pitch distributions before notes
        0.. (row 0, which has no interval, uniform: the caller leaves it out)."""
        out = np.full((len(melody), self.size), 1.0 / self.size)
        before = self.pitches[list(melody)]
        for t in range(1, len(melody)):
            q = dist[t - 1][self.pitches - before[t - 1] + self.span]
            total = q.sum()
            out[t] = q / total if total > 0 else 1.0 / self.size
        return out

    def parts(self, melody: Sequence[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The PPM models' distributions before each symbol of ``melody`` (an LTM+
        then learns it): those over pitches, and those over intervals (as pitches)."""
        models = self.options.models
        pitch, interval = [], []
        if self.ltm is not None:
            pitch.append(self.ltm.predict(melody, learn="ltm+" in models))
        if "stm" in models:
            pitch.append(ppm.PPM(self.size, self.short_options).predict(melody, learn=True))
        if self.options.intervals:
            steps = self._intervals(melody)
            size = 2 * self.span + 1
            if self.interval_ltm is not None:
                learn = "interval-ltm+" in models
                dist = self.interval_ltm.predict(steps, learn=learn)
                interval.append(self._as_pitches(dist, melody))
            if "interval-stm" in models:
                dist = ppm.PPM(size, self.short_options).predict(steps, learn=True)
                interval.append(self._as_pitches(dist, melody))
        return pitch, interval

    def mix(self, network: np.ndarray, melody: Sequence[int]) -> np.ndarray:
        """The network's distributions ``(len(melody), alphabet)`` before each symbol,
        combined with the PPM models'."""
        network = np.asarray(network, dtype=float)
        if network.shape != (len(melody), self.size):
            raise ValueError(
                f"network distributions of shape {network.shape}; expected "
                f"{(len(melody), self.size)}"
            )
        if not self.options.active or not len(melody):
            return network
        how = (self.options.combination, self.options.bias)
        pitch, interval = self.parts(melody)
        mixed = ppm.combine([network, *pitch, *interval], *how)
        if interval:  # the first note has no interval
            mixed[:1] = ppm.combine([network[:1], *(p[:1] for p in pitch)], *how)
        return mixed


def mix_fold(
    network: Sequence[np.ndarray],
    training: Sequence[Sequence[int]],
    test: Sequence[Sequence[int]],
    alphabet_size: int,
    options: MixOptions,
    pitches: Sequence[int] | None = None,
) -> list[np.ndarray]:
    """A fold's network distributions (one array per test melody) mixed with the PPM
    models trained on ``training``; test melodies in the order they are predicted."""
    if not options.active:
        return list(network)
    mixer = PPMMixer(training, alphabet_size, options, pitches)
    return [mixer.mix(dist, melody) for dist, melody in zip(network, test, strict=True)]


__all__ = [
    "DEFAULT_MIX_BIAS",
    "DEFAULT_MIX_COMBINATION",
    "MIXES",
    "MIX_ALIASES",
    "MIX_MODELS",
    "MixOptions",
    "PPMMixer",
    "mix_fold",
    "parse_mix",
]
