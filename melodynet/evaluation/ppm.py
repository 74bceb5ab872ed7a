"""``ppm``: IDyOM's variable-order Markov model of melody (Pearce 2005), in plain Python.

Prediction by Partial Match over a sequence of symbols (chromatic pitches, or whole
notes), as Pearce's thesis (chapter 6) defines it and IDyOM's Lisp code
(``ppm-star/ppm-star.lisp``, ``mvs/``) computes it. A model predicts each symbol from
the symbols before it in the same melody; every choice below follows that code:

Counts
    A context ``s`` (the last ``n`` symbols) has the counts ``c(x|s)``: how often ``s x``
    occurs in what the model has learnt (training melodies, and the melody being
    predicted up to the symbol before when the model learns online). Each melody is
    closed by an end-of-melody mark that is no symbol of the alphabet: it never gets
    probability, but a context followed by it is not *deterministic* (below). Contexts
    never cross melodies. ``c1`` are the update-excluded counts: a new ``s x`` starts at
    1 and only the longest ``s x`` seen before is incremented.

Escape methods (``escape``), with ``k`` added to every count and ``t(s)`` the number of
distinct symbols after ``s``
    ``a``: weight ``λ(s) = N/(N + 1)``; ``b``: ``k = -1``, ``λ = N/(N + t)``;
    ``c``: ``λ = N/(N + t)`` (Moffat); ``d``: ``k = -1/2``, ``λ = N/(N + t/2)``;
    ``x`` (AX): ``λ = N/(N + t1 + 1)`` with ``t1`` the symbols seen exactly once; where
    ``N = Σ (c(x|s) + k)`` over the symbols not excluded.

Interpolated smoothing (``interpolation=True``, Pearce's "I"; else PPM's blending)
    From the selected context down to the empty one, each order adds
    ``escape · λ(s) · (c(x|s) + k) / N(s)`` to every symbol it has seen, and passes
    ``escape · (1 - λ(s))`` down; the order -1 model adds ``escape / (|A| + 1 - t(ε))``
    to every symbol of the alphabet ``A``. With blending an order only sets the symbols
    that no higher order predicted. The result is normalised to sum to one (IDyOM
    leaves a sum within (0.999, 1) as it is, and so does this module).

Exclusion (``exclusion=True``)
    The symbols seen in the order above are left out of ``N(s)`` (not of ``t(s)``), and
    the order -1 model shares its mass over the symbols the empty context has not seen.

Order (``order``): a bound, or None for PPM* (Cleary & Teahan)
    The longest context seen before is used unless it is *deterministic* (one symbol,
    or the end mark, ever followed it); then the shortest deterministic context is
    used. With a bound, the longest context up to that order. The selected context
    uses full counts when PPM* or the bound chose a shorter one than the longest, and
    update-excluded counts otherwise (with ``update_exclusion``); lower orders use
    update-excluded counts whenever ``update_exclusion`` is on (Bunton's rule).

Long- and short-term models (``predict_fold``), Pearce §6.2.4 and IDyOM's ``mvs``
    ``ltm``: trained on the training melodies, fixed while predicting. ``ltm+``: also
    learns each test melody as it predicts it, and keeps it for the next test melodies
    of the fold (IDyOM's ``:ltm+``; Pearce's footnote 3: event by event). ``stm``: a
    fresh model over the melody being predicted. ``both``/``both+``: the LTM (or LTM+)
    and the STM combined, per note, by the entropy-weighted mean with weights
    ``w_m = (H(p_m) / log2 |A|) ** -bias``: ``arithmetic`` (Σ w p / Σ w, the scheme of
    Pearce's chapter 6, eq. 6.9, which his Table 6.6 uses) or ``geometric``
    (Π p ** (w / Σ w), normalised: chapter 7, and IDyOM's default, with bias 7).

IDyOM also marks, after each test melody, that the longest contexts of it the LTM knows
were followed by the end of a melody, even when the LTM does not learn the melody (its
``model-sentinel-event`` runs for every LTM); this module does the same, so its numbers
are IDyOM's (``tests/evaluation/test_ppm.py`` checks distributions against IDyOM's own
test cases).

The model stores a suffix trie in which a string seen once is not expanded until it is
seen again (its one occurrence in the data continues it), so memory grows with the
repeated material, not with the square of melody lengths.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from melodynet.errors import OptionError
from melodynet.hookspecs import Param

END = -1
"""The end-of-melody mark: a continuation in the trie, never a symbol of the alphabet."""
ESCAPES = ("a", "b", "c", "d", "x")
MODELS = ("ltm", "ltm+", "stm", "both", "both+")
COMBINATIONS = ("arithmetic", "geometric")
# (k, d) of each escape method: k is added to every count, the type count is divided by d.
_ESCAPE_KD = {"a": (0.0, 1.0), "b": (-1.0, 1.0), "c": (0.0, 1.0), "d": (-0.5, 2.0), "x": (0.0, 1.0)}


@dataclass(frozen=True)
class PPMOptions:
    """One PPM model's settings; the defaults are Pearce's C*I (IDyOM's LTM default)."""

    escape: str = "c"
    order: int | None = None
    """Order bound; None: unbounded (PPM*)."""
    interpolation: bool = True
    """Interpolated smoothing (Pearce's "I", IDyOM's ``mixtures``); False: blending."""
    exclusion: bool = True
    update_exclusion: bool = False

    def __post_init__(self) -> None:
        if self.escape not in ESCAPES:
            raise OptionError(
                f"param escape={self.escape!r}: expected one of {', '.join(ESCAPES)}", "param"
            )
        if self.order is not None and (
            isinstance(self.order, bool) or not isinstance(self.order, int) or self.order < 0
        ):
            raise OptionError(
                f"param order={self.order!r}: expected a whole number of at least 0, or "
                "'unbounded'",
                "param",
            )

    @property
    def name(self) -> str:
        """Pearce's shorthand: C*I, X*UI, B3..."""
        order = "*" if self.order is None else str(self.order)
        return (
            f"{self.escape.upper()}{order}{'U' if self.update_exclusion else ''}"
            f"{'I' if self.interpolation else ''}"
        )


class _Node:
    """A string of the trie. ``kids`` None: a leaf, seen once, at ``data[seq][end]``, and
    continued by the data after it; else its continuations (``END`` maps to None)."""

    __slots__ = ("kids", "n", "n1", "seq", "end")

    def __init__(self, seq: int, end: int) -> None:
        self.kids: dict[int, _Node | None] | None = None
        self.n = 1
        self.n1 = 1
        self.seq = seq
        self.end = end


class PPM:
    """A PPM model over the symbols ``0 .. alphabet_size - 1``.

    ``learn(melody)`` adds a melody; ``predict(melody, learn=...)`` returns the
    distribution before each symbol, ``(len(melody), alphabet_size)``, learning the
    melody as it goes when asked.
    """

    def __init__(self, alphabet_size: int, options: PPMOptions | None = None) -> None:
        if alphabet_size < 1:
            raise OptionError("ppm: the alphabet is empty", option="songs")
        self.size = alphabet_size
        self.options = options or PPMOptions()
        self.k, self.d = _ESCAPE_KD[self.options.escape]
        self.data: list[list[int]] = []
        self.closed: list[bool] = []
        self.root = _Node(-1, -1)
        self.root.kids = {}
        self.root.n = self.root.n1 = 0

    # -- the trie ----------------------------------------------------------------------

    def _next(self, seq: int, end: int) -> int | None:
        """What follows the occurrence ending at ``data[seq][end]``: a symbol, END, or
        None while the melody is still being read."""
        melody = self.data[seq]
        if end + 1 < len(melody):
            return melody[end + 1]
        return END if self.closed[seq] else None

    def _child(self, handle, x: int):
        """The handle of ``string x``, or None when it was never seen."""
        if type(handle) is _Node:
            if handle.kids is not None:
                return handle.kids.get(x)
            seq, end = handle.seq, handle.end
        else:
            seq, end = handle
        return (seq, end + 1) if self._next(seq, end) == x else None

    def _expand(self, node: _Node) -> None:
        """Give a leaf its continuation as a child: it is about to be seen again."""
        node.kids = {}
        after = self._next(node.seq, node.end)
        if after == END:
            node.kids[END] = None
        elif after is not None:
            node.kids[after] = _Node(node.seq, node.end + 1)

    def _node(self, symbols: Sequence[int]) -> _Node:
        """The expanded node of ``symbols`` (a string the trie holds), leaves on the way
        expanded."""
        node = self.root
        for x in symbols:
            if node.kids is None:
                self._expand(node)
            node = node.kids[x]
        if node.kids is None:
            self._expand(node)
        return node

    def _counts(self, handle, update_excluded: bool) -> tuple[dict[int, int], int]:
        """The counts of the symbols after a string, and how many continuations it has
        (the end mark included)."""
        if type(handle) is _Node:
            kids = handle.kids
            if kids is not None:
                if update_excluded:
                    return {y: k.n1 for y, k in kids.items() if y >= 0}, len(kids)
                return {y: k.n for y, k in kids.items() if y >= 0}, len(kids)
            seq, end = handle.seq, handle.end
        else:
            seq, end = handle
        after = self._next(seq, end)
        if after is None:
            return {}, 0
        return ({} if after == END else {after: 1}), 1

    # -- learning and predicting ---------------------------------------------------------

    def learn(self, melody: Iterable[int]) -> None:
        """Add a whole melody (no predictions)."""
        self._run(melody, learn=True, predict=False)

    def predict(self, melody: Iterable[int], *, learn: bool = False) -> np.ndarray:
        """The distribution over the alphabet before each symbol of ``melody``; with
        ``learn`` the model learns the melody as it goes. Either way the contexts at its
        end are then known to end a melody (IDyOM's end marks)."""
        return self._run(melody, learn=learn, predict=True)

    def next_distribution(self, melody: Iterable[int], *, learn: bool = False) -> np.ndarray:
        """The distribution over the alphabet after ``melody``, a melody still being
        written (no end mark): what ``predict`` gives before a symbol appended to it,
        without the distributions before the others. With ``learn`` the model first
        counts the melody (a short-term model over it), else it is left as it was."""
        symbols = self._symbols(melody)
        ctx: list = [self.root]
        if learn:
            seq = len(self.data)
            self.data.append([])
            self.closed.append(False)
            for t, x in enumerate(symbols):
                self.data[seq].append(x)  # as _run learns: the data so far, no further
                ctx = self._add(ctx, x, seq, t)
        else:
            for x in symbols:
                ctx = self._follow(ctx, x)
        return self.distribution(ctx)

    def _symbols(self, melody: Iterable[int]) -> list[int]:
        symbols = [int(x) for x in melody]
        for x in symbols:
            if not 0 <= x < self.size:
                raise ValueError(f"symbol {x} is outside the alphabet 0..{self.size - 1}")
        return symbols

    def _run(self, melody: Iterable[int], learn: bool, predict: bool) -> np.ndarray:
        symbols = self._symbols(melody)
        out = np.empty((len(symbols) if predict else 0, self.size))
        # ctx[n]: the string of the last n symbols, for every n whose string was seen
        # before (as a continued occurrence).
        ctx: list = [self.root]
        if learn:
            seq = len(self.data)
            self.data.append([])
            self.closed.append(False)
            melody_data = self.data[seq]
        for t, x in enumerate(symbols):
            if predict:
                out[t] = self.distribution(ctx)
            if learn:
                melody_data.append(x)
                ctx = self._add(ctx, x, seq, t)
            else:
                ctx = self._follow(ctx, x)
        self._close(ctx, symbols, learn)
        if learn:
            self.closed[seq] = True
        return out

    def _follow(self, ctx: list, x: int) -> list:
        new = [self.root]
        for handle in ctx:
            child = self._child(handle, x)
            if child is None:
                break
            new.append(child)
        return new

    def _add(self, ctx: list, x: int, seq: int, t: int) -> list:
        """Count ``x`` after every context of the melody; the next contexts."""
        new = [self.root]
        for node in ctx:  # all expanded: each was seen before and again just now
            kid = node.kids.get(x)
            if kid is None:
                node.kids[x] = _Node(seq, t)
                continue
            kid.n += 1
            if kid.kids is None:
                self._expand(kid)
            new.append(kid)
        if len(new) > 1:
            new[-1].n1 += 1  # update exclusion: only the longest context seen before
        return new

    def _close(self, ctx: list, symbols: list[int], learned: bool) -> None:
        """The end mark after every context of a finished melody the model knows (as
        IDyOM does, whether or not the model learnt the melody)."""
        for n, handle in enumerate(ctx):
            if type(handle) is _Node and handle.kids is not None:
                handle.kids.setdefault(END, None)
            elif not learned:  # seen once elsewhere: now also followed by the end
                self._node(symbols[len(symbols) - n :]).kids.setdefault(END, None)
            # learned: a leaf of this melody ends with it; the data says so

    def distribution(self, ctx: Sequence) -> np.ndarray:
        """P(next symbol | the contexts ``ctx``: ctx[n] the string of the last n symbols,
        for n = 0 .. the longest seen before)."""
        opts = self.options
        longest = len(ctx) - 1
        selected, chosen = longest, False
        if opts.order is None:
            if longest > 0 and self._counts(ctx[longest], False)[1] == 1:
                n = 1
                while self._counts(ctx[n], False)[1] != 1:
                    n += 1
                selected, chosen = n, n != longest
        elif longest > opts.order:
            selected, chosen = opts.order, True
        dist = np.zeros(self.size)
        k, d = self.k, self.d
        escape_a, escape_x = opts.escape == "a", opts.escape == "x"
        escape = 1.0
        excluded: dict[int, int] = {}
        root_types = 0
        for n in range(selected, -1, -1):
            update_excluded = opts.update_exclusion and (n != selected or not chosen)
            counts, _ = self._counts(ctx[n], update_excluded)
            # AX counts the symbols seen once, plus one; the others every symbol seen
            types = 1 + sum(c == 1 for c in counts.values()) if escape_x else len(counts)
            if opts.exclusion:
                total = sum(c + k for y, c in counts.items() if y not in excluded)
            else:
                total = sum(c + k for c in counts.values())
            denominator = total + (1.0 if escape_a else types / d)
            weight = total / denominator if denominator else 0.0
            if opts.interpolation:
                if total:
                    scale = escape * weight / total
                    for y, c in counts.items():
                        dist[y] += scale * (c + k)
            elif total:
                scale = escape * weight / total
                for y, c in counts.items():
                    if y not in excluded and c + k > 0:
                        dist[y] = scale * (c + k)
            escape *= 1.0 - weight
            excluded = counts
            if n == 0:
                root_types = len(counts)
        lowest = escape / (self.size + 1 - (root_types if opts.exclusion else 1))
        if opts.interpolation:
            dist += lowest
        else:
            keep = np.zeros(self.size, dtype=bool)
            keep[list(excluded)] = True
            dist += np.where(keep & (dist > 0), 0.0, lowest)
        return normalise(dist)


def normalise(dist: np.ndarray) -> np.ndarray:
    """Scale each distribution (last axis) to sum to one, as IDyOM does: a sum within
    (0.999, 1) is left as it is, and so is a sum of zero."""
    totals = dist.sum(axis=-1, keepdims=True)
    keep = ((totals > 0.999) & (totals < 1.0)) | (totals == 0)
    return dist / np.where(keep, 1.0, totals)


def entropy(dist: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of each distribution (last axis); 0 log 0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(dist > 0, -dist * np.log2(dist), 0.0)
    return terms.sum(axis=-1)


def combine(
    distributions: Sequence[np.ndarray], combination: str = "arithmetic", bias: float = 2.0
) -> np.ndarray:
    """Combine per-note distributions ``(notes, alphabet)`` of several models by the
    entropy-weighted arithmetic or geometric mean (Pearce §6.2.4 and §7.3; IDyOM's
    ``prediction-sets``): weight ``(H / log2 |A|) ** -bias``, then normalise."""
    if combination not in COMBINATIONS:
        raise OptionError(
            f"param combination={combination!r}: expected one of {', '.join(COMBINATIONS)}",
            "param",
        )
    stack = np.stack([np.asarray(d, dtype=float) for d in distributions])
    size = stack.shape[-1]
    top = math.log2(size) if size > 1 else 0.0
    relative = entropy(stack) / top if top > 0 else np.ones(stack.shape[:-1])
    weights = np.maximum(relative, np.finfo(float).tiny) ** -float(bias)
    weights = weights / weights.sum(axis=0, keepdims=True)
    if combination == "arithmetic":
        mixed = (weights[..., None] * stack).sum(axis=0)
    else:
        with np.errstate(divide="ignore"):
            mixed = np.exp((weights[..., None] * np.log(stack)).sum(axis=0))
    return normalise(mixed)


# -- the system: long- and short-term models over cross-validation folds ---------------

PARAMS: tuple[Param, ...] = (
    Param(
        "models",
        "choice",
        "both+",
        "ltm, ltm+ (learns each test melody as it goes), stm (the melody alone), both "
        "(LTM with STM) or both+ (LTM+ with STM)",
        choices=MODELS,
    ),
    Param(
        "combination",
        "choice",
        "arithmetic",
        "LTM-STM combination: entropy-weighted arithmetic (Pearce ch. 6) or geometric mean",
        choices=COMBINATIONS,
    ),
    Param("bias", "float", 2.0, "Entropy weighting bias b of the combination", low=0),
    Param("escape", "choice", "c", "LTM escape method: a, b, c, d or x (AX)", choices=ESCAPES),
    # the orders are a whole number or "unbounded": checked by _order, not by convert
    Param("order", "choice", "unbounded", "LTM order bound: a whole number, or unbounded (PPM*)"),
    Param("interpolation", "bool", True, "LTM interpolated smoothing (else PPM's blending)"),
    Param("exclusion", "bool", True, "LTM exclusion of symbols predicted at higher orders"),
    Param("update-exclusion", "bool", False, "LTM update-excluded counts"),
    Param("stm-escape", "choice", "c", "STM escape method", choices=ESCAPES),
    Param("stm-order", "choice", "unbounded", "STM order bound, or unbounded"),
    Param("stm-interpolation", "bool", True, "STM interpolated smoothing"),
    Param("stm-exclusion", "bool", True, "STM exclusion"),
    Param("stm-update-exclusion", "bool", False, "STM update-excluded counts"),
)
"""``ppm``'s parameters (``--param NAME=VALUE``); the defaults are Pearce's best
single-viewpoint system, LTM+C*I with STMC*I, arithmetic combination, bias 2."""


def resolve_params(given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every ``ppm`` parameter with its value: ``given`` (checked), else the default."""
    import difflib

    from melodynet.params import canonical, convert

    declared = {p.name: p for p in PARAMS}
    values: dict[str, Any] = {p.name: p.default for p in PARAMS}
    for raw, value in (given or {}).items():
        name = canonical(raw)
        if name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise OptionError(
                f"param {name!r} is not a parameter of model ppm{hint}; its parameters: "
                f"{', '.join(declared)}",
                option="param",
            )
        if name in ("order", "stm-order"):
            values[name] = _order(name, value)
        else:
            values[name] = convert(declared[name], value, "ppm")
    return values


def _order(name: str, value: Any) -> str | int:
    text = str(value).strip().lower()
    if value is None or text in ("unbounded", "*", "none", "inf"):
        return "unbounded"
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(text)
    except ValueError:
        number = -1
    if number < 0:
        raise OptionError(
            f"param {name}={value!r} for model ppm: expected a whole number of at least 0, "
            "or unbounded",
            option="param",
        )
    return number


def model_options(params: Mapping[str, Any], prefix: str = "") -> PPMOptions:
    """The LTM's (``prefix=""``) or the STM's (``prefix="stm-"``) PPMOptions."""
    order = params[prefix + "order"]
    return PPMOptions(
        escape=params[prefix + "escape"],
        order=None if order == "unbounded" else int(order),
        interpolation=params[prefix + "interpolation"],
        exclusion=params[prefix + "exclusion"],
        update_exclusion=params[prefix + "update-exclusion"],
    )


def describe(params: Mapping[str, Any]) -> str:
    """Pearce's name of the configuration: ``LTM+C*I-STMC*I (arithmetic, b=2)``."""
    ltm, stm = model_options(params), model_options(params, "stm-")
    models = params["models"]
    if models == "stm":
        return f"STM{stm.name}"
    ltm_name = f"LTM{'+' if models.endswith('+') else ''}{ltm.name}"
    if models in ("ltm", "ltm+"):
        return ltm_name
    return f"{ltm_name}-STM{stm.name} ({params['combination']}, b={params['bias']:g})"


def predict_fold(
    training: Sequence[Sequence[int]],
    test: Sequence[Sequence[int]],
    alphabet_size: int,
    params: Mapping[str, Any] | None = None,
) -> list[np.ndarray]:
    """The distribution before every symbol of every test melody, ``(len, alphabet)``
    each, from models trained on ``training`` (IDyOM's ``mvs:model-dataset`` for one
    resampling set). Test melodies are predicted in the order given; the LTM+ keeps what
    it learnt from one for the next."""
    params = resolve_params(params)
    models = params["models"]
    ltm = None
    if models != "stm":
        ltm = PPM(alphabet_size, model_options(params))
        for melody in training:
            ltm.learn(melody)
    stm_options = model_options(params, "stm-")
    learn_ltm = models in ("ltm+", "both+")
    out = []
    for melody in test:
        long = ltm.predict(melody, learn=learn_ltm) if ltm is not None else None
        if models in ("ltm", "ltm+"):
            out.append(long)
            continue
        short = PPM(alphabet_size, stm_options).predict(melody, learn=True)
        if long is None:
            out.append(short)
        else:
            out.append(combine([long, short], params["combination"], params["bias"]))
    return out


__all__ = [
    "PARAMS",
    "PPM",
    "PPMOptions",
    "combine",
    "describe",
    "entropy",
    "model_options",
    "normalise",
    "predict_fold",
    "resolve_params",
]
