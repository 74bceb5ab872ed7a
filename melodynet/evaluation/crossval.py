"""``melodynet.crossval``: k-fold cross-validation over whole melodies, in bits per note.

The protocol of Pearce (2005) and IDyOM, for ``ppm`` and for every melodynet network
alike:

- **Events.** ``predict="pitch"``: each note's chromatic (MIDI) pitch is predicted from
  the pitches before it in its melody; rests are not events (they are dropped; the
  onsets in the IC table still count their time). ``predict="note"``: each event's
  pitch and duration together, rests included (a rest is an event, ``Note.key``).
- **Alphabet.** The symbols of all the melodies given (training and test), as IDyOM
  builds its alphabets from the whole dataset: every distribution is over it.
- **Folds.** ``numpy.random.default_rng(random_seed).permutation(n)`` shuffles the
  melody indices, and the i-th of that order goes to fold ``i % folds`` (IDyOM's
  ``create-resampling-sets`` deals a shuffle round-robin the same way). Within a fold
  the test melodies keep the order they were given in. The same songs and seed give
  the same folds on every machine.
- **Scores.** Every note of every test melody is scored by its information content
  ``-log2 p`` in bits. ``bits_per_note`` is the mean over all the notes of all folds;
  ``melody_mean`` is the mean over melodies of each melody's mean, the figure IDyOM
  reports (``resampling:output-information``) and Pearce's tables give; per fold both
  again. Each note's entropy (bits) is kept too.

Networks (any model name other than ``ppm``) are trained on the nine folds through
``melodynet.train``, by default with ``validation_split=0.1`` (whole training-fold
songs held out for early stopping, never the test fold), and the seed as
``random_seed``. Their distributions over the test melodies come from the Keras network
(``model.network``) on the one-hot features of the notes before each note:

- a sequence model reads the melody from its first note and predicts every note after
  it; a window model predicts each note from the ``window`` notes before it;
- the notes a network cannot predict (the first note; a window model's first
  ``window`` notes) get the training folds' unigram, add-one smoothed over the
  alphabet: ``(c(x) + 1) / (N + |A|)``;
- an input note outside the network's vocabulary (a pitch or duration no training song
  has) has no features, like padding;
- ``predict="pitch"`` sums the ``single`` encoding's note probabilities by pitch, or
  takes the ``split`` encoding's pitch head; ``predict="note"`` takes the note token, or
  the product of the pitch and duration heads;
- the result is mixed with a uniform distribution over the alphabet,
  ``(1 - UNSEEN) p + UNSEEN / |A|``, so a symbol no training song has (which the
  network cannot name) still has a probability: ``UNSEEN`` = 0.001 costs at most
  0.0015 bits per note.

A network's distributions may then be averaged over an ensemble (``ensemble=N``
networks per fold, seeds ``random_seed`` upwards) and mixed with PPM models
(``mix=``, ``melodynet.evaluation.mix``: the LTM(+), the STM and the same over
viewpoints such as intervals and scale degrees, combined with the network by
``ppm.combine``'s entropy-weighted mean).

``ppm`` (``melodynet.evaluation.ppm``) is IDyOM's model; ``params`` are its switches.
``ppm`` with ``mix=`` is the mix's PPM models alone (a multiple-viewpoint system).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from melodynet.errors import MelodynetError, OptionError
from melodynet.evaluation.mix import (
    DEFAULT_MIX_BIAS,
    DEFAULT_MIX_COMBINATION,
    MixOptions,
    PPMMixer,
    mix_fold,
)
from melodynet.songs.song import Note, Song

PREDICT = ("pitch", "note")
UNSEEN = 0.001
"""Weight of the uniform distribution mixed into a network's predictions."""
DEFAULT_VALIDATION_SPLIT = 0.1
"""A network's early-stopping split inside the training folds, unless one is given."""
COLUMNS = (
    "melody.id",
    "melody.name",
    "fold",
    "note.id",
    "cpitch",
    "dur",
    "onset",
    "probability",
    "information.content",
    "entropy",
)
"""The IC table's columns, named as IDyOM names them (``dur`` and ``onset`` in quarter
notes; ``cpitch`` the MIDI pitch, NA for a rest)."""
_NOT_FOR_CROSSVAL = ("transpose", "quantize", "out", "resume", "force")


@dataclass
class FoldScore:
    """One fold: trained on the others, its melodies scored."""

    fold: int
    """0-based (1-based in the JSON, the IC table and the command line)."""
    melodies: int
    notes: int
    bits_per_note: float
    """Mean information content over the fold's notes."""
    melody_mean: float
    """Mean over the fold's melodies of their mean information content."""
    seconds: float

    def to_json(self) -> dict:
        return {
            "fold": self.fold + 1,
            "melodies": self.melodies,
            "notes": self.notes,
            "bits_per_note": round(self.bits_per_note, 6),
            "melody_mean": round(self.melody_mean, 6),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class NoteScore:
    """One scored note: a row of the IC table."""

    melody: int
    """1-based position of its melody among the melodies scored (the songs given, in
    order, less any without an event)."""
    name: str
    fold: int
    index: int
    """1-based position among the melody's events."""
    pitch: int | None
    duration: Fraction
    onset: Fraction
    """Quarter notes from the melody's start (rests included)."""
    probability: float
    information_content: float
    entropy: float

    def row(self) -> list[str]:
        return [
            str(self.melody),
            self.name,
            str(self.fold + 1),
            str(self.index),
            "NA" if self.pitch is None else str(self.pitch),
            _number(self.duration),
            _number(self.onset),
            f"{self.probability:.8g}",
            f"{self.information_content:.8g}",
            f"{self.entropy:.8g}",
        ]


@dataclass
class CrossvalResult:
    """What ``crossval`` measured. ``bits_per_note`` is the mean information content over
    every note of every fold; ``melody_mean`` the mean over melodies (Pearce's and
    IDyOM's figure)."""

    model: str
    description: str
    predict: str
    folds: list[FoldScore]
    melodies: int
    notes: int
    alphabet: list[str]
    bits_per_note: float
    melody_mean: float
    mean_entropy: float
    random_seed: int
    params: dict[str, Any]
    seconds: float
    scores: list[NoteScore] = field(default_factory=list, repr=False)
    """Every note scored, melody by melody in the order given."""
    skipped: list[str] = field(default_factory=list)
    """Melodies left out (no events to predict), by name."""
    train_options: dict[str, Any] = field(default_factory=dict)
    """A network's training options (``melodynet.train``'s), as used in every fold."""
    mix: dict[str, Any] = field(default_factory=dict)
    """A network's mixing with PPM models (``mix``, ``mix_combination``, ``mix_bias``);
    empty for ``ppm`` and for a network alone."""
    ensemble: int = 1
    """Networks trained per fold (seeds ``random_seed`` upwards), their distributions
    averaged."""

    def to_json(self, notes: bool = False) -> dict:
        out = {
            "model": self.model,
            "description": self.description,
            "predict": self.predict,
            "folds": len(self.folds),
            "random_seed": self.random_seed,
            "melodies": self.melodies,
            "notes": self.notes,
            "alphabet_size": len(self.alphabet),
            "bits_per_note": round(self.bits_per_note, 6),
            "melody_mean": round(self.melody_mean, 6),
            "mean_entropy": round(self.mean_entropy, 6),
            "per_fold": [f.to_json() for f in self.folds],
            "params": dict(self.params),
            "train_options": {k: v for k, v in self.train_options.items() if _plain(v)},
            "mix": dict(self.mix),
            "ensemble": self.ensemble,
            "seconds": round(self.seconds, 3),
            "skipped": list(self.skipped),
        }
        if notes:
            out["notes_scored"] = [dict(zip(COLUMNS, s.row(), strict=True)) for s in self.scores]
        return out

    def table(self) -> str:
        """The summary for people: one line per fold, then the totals."""
        lines = [
            f"{self.description}: {self.predict} of {self.notes} notes in {self.melodies} "
            f"melodies, {len(self.folds)}-fold (seed {self.random_seed}), alphabet "
            f"{len(self.alphabet)}",
            f"{'fold':>5} {'melodies':>8} {'notes':>6} {'bits/note':>10} {'melody mean':>12}",
        ]
        for f in self.folds:
            lines.append(
                f"{f.fold + 1:>5} {f.melodies:>8} {f.notes:>6} {f.bits_per_note:>10.4f} "
                f"{f.melody_mean:>12.4f}"
            )
        lines.append(
            f"{'all':>5} {self.melodies:>8} {self.notes:>6} {self.bits_per_note:>10.4f} "
            f"{self.melody_mean:>12.4f}"
        )
        lines.append(
            f"bits per note {self.bits_per_note:.4f} over all notes; {self.melody_mean:.4f} "
            f"as the mean of melodies (IDyOM's and Pearce's figure); mean entropy "
            f"{self.mean_entropy:.4f}; {self.seconds:.1f} s"
        )
        return "\n".join(lines)

    def ic_table(self, separator: str = "\t") -> str:
        """The per-note table (``COLUMNS``), one row per scored note."""
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=separator, lineterminator="\n")
        writer.writerow(COLUMNS)
        for s in self.scores:
            writer.writerow(s.row())
        return buffer.getvalue()


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


def _number(x: Fraction) -> str:
    return str(int(x)) if x.denominator == 1 else f"{float(x):.6g}"


def assign_folds(count: int, folds: int, random_seed: int = 0) -> list[int]:
    """The fold (0-based) of each of ``count`` melodies: a shuffle by
    ``numpy.random.default_rng(random_seed)``, dealt round-robin."""
    _check_folds(count, folds)
    order = np.random.default_rng(random_seed).permutation(count)
    out = [0] * count
    for position, melody in enumerate(order):
        out[int(melody)] = position % folds
    return out


def _check_folds(count: int, folds: int) -> None:
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise OptionError(f"folds must be a whole number of at least 2, not {folds!r}", "folds")
    if count < folds:
        raise OptionError(
            f"folds must be at most the number of melodies ({count}), not {folds}", "folds"
        )


def crossval(
    songs: Sequence[Song | str | Path] | str | Path,
    *,
    model: str = "ppm",
    folds: int = 10,
    predict: str = "pitch",
    random_seed: int = 0,
    params: dict[str, Any] | None = None,
    ic_out: str | Path | None = None,
    on_fold: Callable[[FoldScore], None] | None = None,
    mix: str | Sequence[str] = "none",
    mix_combination: str = DEFAULT_MIX_COMBINATION,
    mix_bias: float = DEFAULT_MIX_BIAS,
    ensemble: int = 1,
    **train_options: Any,
) -> CrossvalResult:
    """Cross-validate ``model`` on ``songs`` (Songs, or sources as ``melodynet.read``
    takes them) in ``folds`` folds and return the bits per note.

    ``model``: ``"ppm"`` (IDyOM's model; ``params`` its switches, see
    ``melodynet.evaluation.ppm.PARAMS``) or any melodynet model, trained per fold by
    ``melodynet.train`` with ``params`` as its parameters and ``train_options``
    (``epochs``, ``units``, ``window``, ``encoding``, ``validation_split``...).
    ``predict``: ``"pitch"`` or ``"note"``. ``ic_out``: also write the per-note table
    there (tab-separated, or comma-separated for ``.csv``), whole or not at all.
    ``on_fold`` hears each fold's score as it is done.

    For a network: ``mix`` (``"stm"``, ``"ltm"``, ``"ltm+"``, ``"both"``, ``"both+"``,
    ``"interval-ltm+"``, ``"interval-degree-ltm+"``..., several with commas; default
    ``"none"``) combines its distribution with those PPM models, over pitches or
    viewpoints (``melodynet.evaluation.viewpoints``), note by note, by the
    entropy-weighted ``mix_combination`` mean (``"geometric"`` or ``"arithmetic"``) with
    bias ``mix_bias`` (``melodynet.evaluation.mix``). ``ppm`` with a ``mix`` is those PPM
    models alone, combined the same way (a multiple-viewpoint system, as IDyOM's).
    ``ensemble=N`` trains N networks per fold (seeds ``random_seed`` .. ``+ N - 1``) and
    averages their distributions (arithmetic mean) before any mixing.
    """
    started = time.perf_counter()
    if predict not in PREDICT:
        raise OptionError(f"predict must be pitch or note, not {predict!r}", option="predict")
    if isinstance(random_seed, bool) or not isinstance(random_seed, int):
        raise OptionError(f"random_seed must be a whole number, not {random_seed!r}", "random_seed")
    if ic_out is not None:
        from melodynet.atomic import check_target

        ic_out = Path(ic_out)
        check_target(ic_out)
    mixing = MixOptions(mix, mix_combination, mix_bias)
    if mixing.derived and predict != "pitch":
        raise OptionError(
            "mix: models over intervals, degrees or time predict pitches (predict pitch)",
            option="mix",
        )
    if isinstance(ensemble, bool) or not isinstance(ensemble, int) or ensemble < 1:
        raise OptionError(
            f"ensemble must be a whole number of at least 1, not {ensemble!r}", "ensemble"
        )
    songs = _songs(songs, train_options)
    if model == "ppm":
        if ensemble != 1:
            raise OptionError("ensemble is for networks: ppm counts", option="ensemble")
        if mixing.active and params:
            raise OptionError(
                f"param {sorted(params)[0]}: ppm with mix is the mix's PPM models, combined "
                "as mix combines them; ppm's own params do not apply",
                option="param",
            )
        if train_options:
            first = sorted(train_options)[0]
            raise OptionError(
                f"ppm takes no training options such as {first}: it counts; its switches "
                "are its params (docs/benchmarks.md)",
                option=first,
            )
        from melodynet.evaluation.ppm import describe, resolve_params

        settings = resolve_params(params)
        description = f"ppm {describe(settings)}"
        if mixing.active:  # a system of PPM models over viewpoints, as IDyOM's
            settings = {}
            description = "ppm " + mixing.describe().removeprefix("mixed with PPM ")
    else:
        settings, description, train_options = _network_settings(
            model, params, random_seed, train_options
        )
        if ensemble > 1:
            description += f", ensemble of {ensemble}"
        if mixing.active:
            description += f", {mixing.describe()}"

    events, skipped = _events(songs, predict)
    alphabet = sorted({key for m in events for key in m.keys}, key=_symbol_order(predict))
    index = {key: i for i, key in enumerate(alphabet)}
    symbols = [[index[key] for key in m.keys] for m in events]
    assignment = assign_folds(len(events), folds, random_seed)
    pitches = [int(a) for a in alphabet] if predict == "pitch" else None
    viewed = []  # what the mix's viewpoints see of each melody
    if mixing.active:
        from melodynet.evaluation.viewpoints import song_melody

        for melody, melody_symbols in zip(events, symbols, strict=True):
            kept = [predict == "note" or n.pitch is not None for n in melody.song.notes]
            viewed.append(song_melody(melody.song, melody_symbols, kept))

    scores: list[list[NoteScore] | None] = [None] * len(events)
    fold_scores = []
    for k in range(folds):
        fold_started = time.perf_counter()
        test = [i for i, f in enumerate(assignment) if f == k]
        train = [i for i, f in enumerate(assignment) if f != k]
        if model == "ppm" and mixing.active:
            mixer = PPMMixer([viewed[i] for i in train], len(alphabet), mixing, pitches)
            dists = [mixer.predict(viewed[i]) for i in test]
        elif model == "ppm":
            from melodynet.evaluation.ppm import predict_fold

            dists = predict_fold(
                [symbols[i] for i in train], [symbols[i] for i in test], len(alphabet), settings
            )
        else:
            dists = _network_fold(
                [events[i] for i in train],
                [events[i] for i in test],
                alphabet,
                index,
                predict,
                model,
                settings,
                train_options,
                ensemble,
            )
            if mixing.active:
                dists = mix_fold(
                    dists,
                    [viewed[i] for i in train],
                    [viewed[i] for i in test],
                    len(alphabet),
                    mixing,
                    pitches,
                )
        for i, dist in zip(test, dists, strict=True):
            scores[i] = _score_melody(events[i], i, k, symbols[i], dist)
        fold_ics = [s.information_content for i in test for s in scores[i]]
        score = FoldScore(
            fold=k,
            melodies=len(test),
            notes=len(fold_ics),
            bits_per_note=float(np.mean(fold_ics)),
            melody_mean=float(np.mean([_mean_ic(scores[i]) for i in test])),
            seconds=time.perf_counter() - fold_started,
        )
        fold_scores.append(score)
        if on_fold is not None:
            on_fold(score)

    every = [s for melody in scores for s in melody]
    result = CrossvalResult(
        model=model,
        description=description,
        predict=predict,
        folds=fold_scores,
        melodies=len(events),
        notes=len(every),
        alphabet=alphabet,
        bits_per_note=float(np.mean([s.information_content for s in every])),
        melody_mean=float(np.mean([_mean_ic(m) for m in scores])),
        mean_entropy=float(np.mean([s.entropy for s in every])),
        random_seed=random_seed,
        params=dict(settings),
        seconds=time.perf_counter() - started,
        scores=every,
        skipped=skipped,
        train_options={} if model == "ppm" else dict(train_options),
        mix=mixing.to_json() if mixing.active else {},
        ensemble=ensemble,
    )
    if ic_out is not None:
        from melodynet.atomic import write_text

        write_text(ic_out, result.ic_table("," if ic_out.suffix.lower() == ".csv" else "\t"))
    return result


def _mean_ic(scores: list[NoteScore]) -> float:
    return float(np.mean([s.information_content for s in scores]))


def _songs(songs, train_options: dict[str, Any]) -> list[Song]:
    reading = {k: train_options.pop(k) for k in ("part", "jobs", "strict") if k in train_options}
    if isinstance(songs, str | Path | Song):
        songs = [songs]
    songs = list(songs)
    sources = [s for s in songs if not isinstance(s, Song)]
    if sources:
        from melodynet.songs.files import read

        songs = [s for s in songs if isinstance(s, Song)] + read(sources, **reading)
    if not songs:
        raise OptionError("songs: give melodies to cross-validate", option="songs")
    return songs


@dataclass
class _Melody:
    """A melody's events: the notes, where each starts in the song, and each one's
    symbol (its pitch, or its ``Note.key``)."""

    song: Song
    notes: list[Note]
    onsets: list[Fraction]
    keys: list[str]


def _events(songs: list[Song], predict: str) -> tuple[list[_Melody], list[str]]:
    melodies, skipped = [], []
    for song in songs:
        onset, notes, onsets = Fraction(0), [], []
        for note in song.notes:
            if predict == "note" or note.pitch is not None:
                notes.append(note)
                onsets.append(onset)
            onset += note.duration
        if notes:
            keys = [n.key if predict == "note" else str(n.pitch) for n in notes]
            melodies.append(_Melody(song, notes, onsets, keys))
        else:
            skipped.append(song.name)
    return melodies, skipped


def _symbol_order(predict: str):
    if predict == "pitch":
        return int

    def order(key: str):
        note = Note.from_key(key)
        return (note.pitch is None, note.pitch or 0, note.duration)

    return order


def _score_melody(melody: _Melody, i: int, fold: int, symbols, dist: np.ndarray):
    dist = np.asarray(dist, dtype=float)
    probabilities = dist[np.arange(len(symbols)), symbols]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropies = np.where(dist > 0, -dist * np.log2(dist), 0.0).sum(axis=-1)
    return [
        NoteScore(
            melody=i + 1,
            name=melody.song.name,
            fold=fold,
            index=t + 1,
            pitch=note.pitch,
            duration=note.duration,
            onset=melody.onsets[t],
            probability=float(p),
            information_content=-math.log2(p) if p > 0 else math.inf,
            entropy=float(h),
        )
        for t, (note, p, h) in enumerate(zip(melody.notes, probabilities, entropies, strict=True))
    ]


# -- networks ----------------------------------------------------------------------------


def _network_settings(model: str, params, random_seed: int, train_options: dict[str, Any]):
    from melodynet.errors import ModelError
    from melodynet.params import resolve
    from melodynet.plugins import registry
    from melodynet.training.options import TrainOptions

    for name in _NOT_FOR_CROSSVAL:
        if name in train_options:
            raise OptionError(
                f"{name} is not for crossval: the test folds are scored as given", option=name
            )
    reg = registry()
    try:
        spec = reg.model(model)
    except MelodynetError as exc:
        raise ModelError(exc.message, option="model") from None
    settings = resolve(spec, params)
    options = dict(train_options)
    options.setdefault("validation_split", DEFAULT_VALIDATION_SPLIT)
    options.setdefault("random_seed", random_seed)
    known = {f for f in TrainOptions.__dataclass_fields__}
    checked = {k: v for k, v in options.items() if k in known and k not in ("model", "params")}
    try:
        checked_options = TrainOptions(model=spec.name, params=settings, **checked)
    except TypeError as exc:
        raise OptionError(str(exc), option="options") from None
    reg.encoding(checked_options.encoding)
    description = (
        f"{spec.name} ({checked_options.encoding} encoding, window {checked_options.window}, "
        f"{checked_options.units} units)"
    )
    return settings, description, options


def _network_fold(
    train: list[_Melody],
    test: list[_Melody],
    alphabet: list[str],
    index: dict[str, int],
    predict: str,
    model: str,
    params: dict[str, Any],
    train_options: dict[str, Any],
    ensemble: int = 1,
) -> list[np.ndarray]:
    """Train on the training melodies (``ensemble`` networks, seeds ``random_seed``
    upwards); the distribution before every test note (the networks' mean)."""
    import melodynet

    options = dict(train_options)
    window = options.get("window", 4)
    songs = [_as_song(m) for m in train]
    long_enough = [s for s in songs if len(s.notes) > window]
    if len(long_enough) < 2:
        raise OptionError(
            f"window {window}: fewer than two training melodies have more than {window} notes",
            option="window",
        )
    unigram = np.ones(len(alphabet))
    for melody in train:
        for key in melody.keys:
            unigram[index[key]] += 1
    unigram /= unigram.sum()
    total: list[np.ndarray] | None = None
    seed = options.get("random_seed", 0)
    for member in range(ensemble):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trained = melodynet.train(
                long_enough,
                model=model,
                params=params,
                **{**options, "random_seed": seed + member},
            )
        mapping = _output_mapping(trained.codec, alphabet, index, predict)
        dists = _network_distributions(trained, test, mapping, unigram)
        total = dists if total is None else [a + b for a, b in zip(total, dists, strict=True)]
        del trained
    return [(1 - UNSEEN) * dist / ensemble + UNSEEN / len(alphabet) for dist in total]


def _as_song(melody: _Melody) -> Song:
    s = melody.song
    return Song(
        notes=list(melody.notes),
        title=s.title,
        tempo=s.tempo,
        time_signature=s.time_signature,
        key=s.key,
        source=s.source,
        path=s.path,
        extra=dict(s.extra),
    )


def _output_mapping(codec, alphabet: list[str], index: dict[str, int], predict: str):
    """How the heads' probabilities become the alphabet's: per single head a (labels,
    alphabet) 0/1 matrix (a label whose symbol is not in the alphabet maps nowhere); for
    notes with pitch and duration heads, the (pitch label, duration label) of each
    symbol."""
    heads = list(codec.heads)
    spec = codec.spec

    def matrix(labels, symbol_of) -> np.ndarray:
        m = np.zeros((len(labels), len(alphabet)))
        for j, label in enumerate(labels):
            symbol = symbol_of(label)
            if symbol is not None:
                m[j, symbol] = 1.0
        return m

    def pitch_symbol(pitch: int | None) -> int | None:
        return None if pitch is None else index.get(str(pitch))

    if len(heads) == 1:
        if predict == "note":
            return {
                "matrix": matrix(
                    codec.vocabulary[heads[0]], lambda lab: index.get(spec.note((lab,)).key)
                ),
                "head": heads[0],
            }
        return {
            "matrix": matrix(
                codec.vocabulary[heads[0]], lambda lab: pitch_symbol(spec.note((lab,)).pitch)
            ),
            "head": heads[0],
        }
    if set(heads) != {"pitch", "duration"}:
        raise MelodynetError(
            f"crossval: encoding {spec.name!r} has heads {', '.join(heads)}; crossval reads "
            "one head, or pitch and duration"
        )
    pitch_labels = codec.vocabulary["pitch"]
    if predict == "pitch":
        return {
            "matrix": matrix(
                pitch_labels, lambda lab: pitch_symbol(None if lab == "rest" else int(lab))
            ),
            "head": "pitch",
        }
    p_index = {(None if lab == "rest" else int(lab)): j for j, lab in enumerate(pitch_labels)}
    d_index = {Fraction(lab): j for j, lab in enumerate(codec.vocabulary["duration"])}
    pairs = []
    for key in alphabet:
        note = Note.from_key(key)
        pairs.append((p_index.get(note.pitch), d_index.get(note.duration)))
    return {"pairs": pairs}


def _input_classes(codec, notes: list[Note]) -> np.ndarray:
    """(len, heads) class indices; -1 (no features) for a label outside the vocabulary."""
    lookup = {h: {label: i for i, label in enumerate(codec.vocabulary[h])} for h in codec.heads}
    out = np.full((len(notes), len(codec.heads)), -1, dtype=np.int32)
    for t, note in enumerate(notes):
        for j, (head, label) in enumerate(zip(codec.heads, codec.spec.labels(note), strict=True)):
            out[t, j] = lookup[head].get(label, -1)
    return out


def _network_distributions(trained, test: list[_Melody], mapping, unigram) -> list[np.ndarray]:
    from melodynet import network
    from melodynet.positions import Meter, song_columns, ticks

    codec = trained.codec
    sizes = network.input_sizes(codec, trained.bar_inputs)
    window = trained.config.window
    sequence = trained.spec.sequence
    outputs: list[np.ndarray] = []
    for melody in test:
        classes = _input_classes(codec, melody.notes)
        if trained.bar_inputs:
            meter = Meter.of_song(melody.song)
            columns = song_columns([ticks(n.duration) for n in melody.notes], meter)
            classes = np.concatenate([classes, columns], axis=1)
        dist = np.tile(unigram, (len(classes), 1))
        if sequence:
            if len(classes) > 1:
                x = network.network_input(trained.network, classes[None, :-1], sizes)
                heads = trained.network(x, training=False)
                probs = {h: np.asarray(heads[h])[0] for h in codec.heads}
                dist[1:] = _to_alphabet(probs, mapping)
        elif len(classes) > window:
            starts = np.arange(len(classes) - window)
            x = classes[starts[:, None] + np.arange(window)]
            parts = []
            for begin in range(0, len(x), 2048):
                part = network.network_input(trained.network, x[begin : begin + 2048], sizes)
                heads = trained.network(part, training=False)
                parts.append({h: np.asarray(heads[h]) for h in codec.heads})
            probs = {h: np.concatenate([p[h] for p in parts]) for h in codec.heads}
            dist[window:] = _to_alphabet(probs, mapping)
        outputs.append(dist)
    return outputs


def _to_alphabet(probs: dict[str, np.ndarray], mapping) -> np.ndarray:
    """The heads' probabilities (steps, labels) as distributions over the alphabet,
    renormalised over the symbols the network can name."""
    if "matrix" in mapping:
        out = probs[mapping["head"]] @ mapping["matrix"]
    else:
        pitch, duration = probs["pitch"], probs["duration"]
        out = np.zeros((len(pitch), len(mapping["pairs"])))
        for i, (p, d) in enumerate(mapping["pairs"]):
            if p is not None and d is not None:
                out[:, i] = pitch[:, p] * duration[:, d]
    total = out.sum(axis=-1, keepdims=True)
    return out / np.where(total > 0, total, 1.0)
