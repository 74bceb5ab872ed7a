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
- ``VIEWPOINT-ltm``, ``VIEWPOINT-ltm+``, ``VIEWPOINT-stm``: the same models over a
  viewpoint (``melodynet.evaluation.viewpoints``; ``predict="pitch"`` only): the
  intervals between successive pitches (``interval-ltm+``, IDyOM's ``cpint``), which
  carry a pattern into every key, the scale degree (``degree``), linked viewpoints
  such as ``interval-degree`` (IDyOM's ``(cpint cpintfref)``) and links with where the
  note falls in time (``degree-fib``, ``interval-ioi``, ``degree-beat``).

``mix`` names one model or several with commas (``"ltm+,stm,interval-degree-ltm+"``).
All the models are combined at once: per note the weight of model ``m`` is
``(H(p_m) / log2 |A|) ** -bias`` (normalised over the models), and the distributions are
averaged with these weights, geometrically (``Π p_m ** w_m``, renormalised; the default)
or arithmetically (``Σ w_m p_m``). The PPM models are Pearce's C*I (escape method C,
unbounded order, interpolated smoothing, exclusion), IDyOM's defaults.

``PPMMixer`` holds the long-term PPM for one training set; ``mix(network, melody)``
returns the mixed distribution before each note of a melody. It needs only the notes
before each note (and the key and onsets), so generation can use it the same way (the
STM over the notes generated so far).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from melodynet.errors import OptionError
from melodynet.evaluation import ppm
from melodynet.evaluation.viewpoints import (
    ATTRIBUTES,
    PITCHED,
    Melody,
    Viewpoint,
    as_melody,
    parse_viewpoint,
)

KINDS = ("ltm", "ltm+", "stm")
"""The kinds of PPM model: long-term, long-term learning each predicted melody, short-term."""
MIX_MODELS = ("ltm", "ltm+", "stm", "interval-ltm", "interval-ltm+", "interval-stm")
"""Some of the PPM models a network can be mixed with (any ``VIEWPOINT-KIND`` is one:
``melodynet.evaluation.viewpoints``); ``mix`` names one or several, with commas."""
MIX_ALIASES = {"none": (), "both": ("ltm", "stm"), "both+": ("ltm+", "stm")}
"""Names for sets of models (``ppm``'s names for its own systems)."""
MIXES = ("none", "stm", "ltm", "ltm+", "both", "both+")
"""The mixes ``ppm`` itself has (the command line offers these first)."""
DEFAULT_MIX_COMBINATION = "geometric"
DEFAULT_MIX_BIAS = 1.0


def split_model(name: str) -> tuple[Viewpoint, str] | None:
    """``interval-degree-ltm+`` as (its viewpoint, its kind); ``ltm+`` is over pitch.
    None when the name is no model."""
    viewpoint, _, kind = name.rpartition("-")
    if kind not in KINDS:
        return None
    found = parse_viewpoint(viewpoint or "pitch")
    return None if found is None else (found, kind)


def _model_name(viewpoint: Viewpoint, kind: str) -> str:
    return kind if viewpoint.attributes == ("pitch",) else f"{viewpoint.name}-{kind}"


def parse_mix(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """The models of a mix: ``"both+"``, ``"ltm+,stm,interval-degree-ltm+"`` or a sequence
    of names, as a tuple of canonical names (pitch models first, then by viewpoint, each
    viewpoint's kinds in ``KINDS`` order); ``()`` for none."""
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    found: dict[tuple[Viewpoint, str], None] = {}
    for part in parts:
        if not isinstance(part, str):
            raise OptionError(f"mix: expected model names, not {part!r}", option="mix")
        name = part.strip().lower()
        if name in MIX_ALIASES:
            found.update((split_model(n), None) for n in MIX_ALIASES[name])
            continue
        model = split_model(name)
        if model is None:
            raise OptionError(
                f"mix: {name!r} is not a model to mix with; expected none, both, both+ or "
                f"models such as {', '.join(MIX_MODELS)}: [VIEWPOINT-]ltm, ltm+ or stm, the "
                f"viewpoint one or more of {', '.join(ATTRIBUTES)} joined by - (at least one "
                f"of {', '.join(PITCHED)}), with commas",
                option="mix",
            )
        found[model] = None
    for viewpoint, kind in found:
        if kind == "ltm" and (viewpoint, "ltm+") in found:
            name = _model_name(viewpoint, "ltm")
            raise OptionError(f"mix: {name} or {name}+, not both", option="mix")

    def order(model: tuple[Viewpoint, str]):
        viewpoint, kind = model
        return [ATTRIBUTES.index(a) for a in viewpoint.attributes], KINDS.index(kind)

    return tuple(_model_name(*m) for m in sorted(found, key=order))


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
    def derived(self) -> bool:
        """Some of the models are over viewpoints other than the pitch itself."""
        return any(split_model(m)[0].attributes != ("pitch",) for m in self.models)

    @property
    def name(self) -> str:
        """The models as ``mix`` takes them: ``ltm+,stm``, or ``none``."""
        return ",".join(self.models) or "none"

    def describe(self) -> str:
        """``mixed with PPM LTM+, STM (geometric, b=1)``, or "" for none."""
        if not self.active:
            return ""
        names = ", ".join(
            f"{v.name} {k.upper()}" if v.attributes != ("pitch",) else k.upper()
            for v, k in map(split_model, self.models)
        )
        return f"mixed with PPM {names} ({self.combination}, b={self.bias:g})"

    def to_json(self) -> dict:
        return {"mix": self.name, "mix_combination": self.combination, "mix_bias": self.bias}


class PPMMixer:
    """The PPM models of ``options`` for one training set of melodies (symbols
    ``0 .. alphabet_size - 1``, or ``viewpoints.Melody`` that also give the key and
    onsets); ``mix`` combines a network's distributions with them.

    Models over viewpoints other than the pitch need ``pitches``, the MIDI pitch of each
    symbol; each predicts a pitch by the probability of the symbol it would have
    (``viewpoints.Viewpoint.as_pitches``). A model leaves out the notes it cannot
    predict (an interval model the first) and the melodies that lack what its viewpoint
    needs (a degree model those of no declared key): they are mixed without it.

    With an LTM+ the melodies must be mixed in the order they are predicted: each is
    learnt after it is predicted and kept for the next (as IDyOM's ``:ltm+`` does)."""

    def __init__(
        self,
        training: Sequence[Melody | Sequence[int]],
        alphabet_size: int,
        options: MixOptions,
        pitches: Sequence[int] | None = None,
    ) -> None:
        self.options = options
        self.size = alphabet_size
        params = ppm.resolve_params(None)  # C*I for every model: IDyOM's defaults
        self.long_options = ppm.model_options(params)
        self.short_options = ppm.model_options(params, "stm-")
        self.models = [split_model(m) for m in options.models]
        if options.derived and (pitches is None or len(pitches) != alphabet_size):
            raise OptionError(
                "mix: models over intervals, degrees or time need the pitch of every "
                "symbol (predict pitch)",
                option="mix",
            )
        self.pitches = np.arange(alphabet_size) if pitches is None else np.asarray(pitches)
        training = [as_melody(m) for m in training]
        self.long: dict[Viewpoint, ppm.PPM] = {}
        for viewpoint, kind in self.models:
            if kind != "stm":
                model = ppm.PPM(viewpoint.size(self.pitches), self.long_options)
                for melody in training:
                    if viewpoint.applies(melody):
                        model.learn(viewpoint.sequence(melody, self.pitches))
                self.long[viewpoint] = model

    def parts(self, melody: Melody | Sequence[int]) -> list[tuple[np.ndarray, int]]:
        """Each model's distributions over pitches before each note of ``melody``, and
        the first note it predicts; an LTM+ then learns the melody. Models that cannot
        predict the melody are left out."""
        melody = as_melody(melody)
        found = []
        for viewpoint, kind in self.models:
            if not viewpoint.applies(melody) or len(melody) <= viewpoint.first:
                continue
            sequence = viewpoint.sequence(melody, self.pitches)
            if kind == "stm":
                model = ppm.PPM(viewpoint.size(self.pitches), self.short_options)
                dist = model.predict(sequence, learn=True)
            else:
                dist = self.long[viewpoint].predict(sequence, learn=kind == "ltm+")
            found.append((viewpoint.as_pitches(dist, melody, self.pitches), viewpoint.first))
        return found

    def last_parts(self, melody: Melody) -> list[np.ndarray]:
        """Each model's distribution over pitches before the melody's last note, the
        melody still being written (generation: its last symbol is never looked at, its
        onset is the next note's). The long-term models are left as they were: an LTM+
        is an LTM."""
        found = []
        for viewpoint, kind in self.models:
            if not viewpoint.applies(melody) or len(melody) <= viewpoint.first:
                continue
            before = viewpoint.sequence(melody, self.pitches)[:-1]
            if kind == "stm":
                model = ppm.PPM(viewpoint.size(self.pitches), self.short_options)
                row = model.next_distribution(before, learn=True)
            else:
                row = self.long[viewpoint].next_distribution(before)
            found.append(viewpoint.last_as_pitches(row, melody, self.pitches))
        return found

    def mix(self, network: np.ndarray, melody: Melody | Sequence[int]) -> np.ndarray:
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
        return self._combine([(network, 0), *self.parts(melody)], len(melody))

    def predict(self, melody: Melody | Sequence[int]) -> np.ndarray:
        """The PPM models' own distributions before each symbol, combined (no network:
        ``ppm`` with a mix, IDyOM's multiple-viewpoint systems). A note no model predicts
        gets the uniform distribution."""
        return self._combine(self.parts(melody), len(melody))

    def _combine(self, parts: list[tuple[np.ndarray, int]], notes: int) -> np.ndarray:
        """Combine distributions (each with the first note it predicts) before each note;
        uniform where none predicts."""
        how = (self.options.combination, self.options.bias)
        mixed = np.full((notes, self.size), 1.0 / self.size)
        starts = sorted({0, notes} | {min(first, notes) for _, first in parts})
        for start, stop in itertools.pairwise(starts):
            rows = [p[start:stop] for p, first in parts if first <= start]
            if rows:
                mixed[start:stop] = ppm.combine(rows, *how)
        return mixed


def mix_fold(
    network: Sequence[np.ndarray],
    training: Sequence[Melody | Sequence[int]],
    test: Sequence[Melody | Sequence[int]],
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
    "KINDS",
    "MIXES",
    "MIX_ALIASES",
    "MIX_MODELS",
    "MixOptions",
    "PPMMixer",
    "mix_fold",
    "parse_mix",
    "split_model",
]
