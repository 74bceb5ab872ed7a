"""``melodynet.tune``: search hyperparameters by validation loss, with Optuna.

Each trial trains through ``melodynet.train`` on the same songs, the same validation songs
and the same seed, so trials differ only in the values searched. Optuna's TPE sampler picks
the values, a median pruner stops trials that are doing worse than the median of finished
ones at the same epoch, and with ``out`` the study lives in ``OUT/study.db`` (SQLite), so
the same call again resumes it. Only the best trial's bundle is written (``OUT/best``).

Optuna is imported only when a study runs, so ``import melodynet`` and ``melodynet --help``
stay fast. See docs/tuning.md.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from melodynet.errors import MelodynetError, OptionError, TrainingInterrupted
from melodynet.songs.song import Song

TRAINING_OPTIONS = {
    "window": "int",
    "units": "int",
    "epochs": "int",
    "batch-size": "int",
    "learning-rate": "float",
    "patience": "int",
    "augment": "int",
    "encoding": "str",
    "stop-when-perfect": "bool",
}
"""The training options a search may vary (``TrainOptions`` fields, named as ``--param``
names them); any other name is a parameter of the model (``ModelSpec.params``)."""

NOT_SEARCHED = {
    "model": "a study tunes one model; it is not a parameter",
    "random-seed": "every trial trains with the study's random_seed (and holds out the "
    "same songs), so it is not searched",
    "validation-split": "every trial holds out the same songs (the study's "
    "validation_split), so it is not searched",
    "strategy": "how to train, not what; it is not searched",
    "params": "name the model's parameters themselves",
}

STUDY_FILE = "study.db"
BEST_DIR = "best"
STUDY_NAME = "melodynet"
SAMPLER_STARTUP = 5
"""Trials sampled at random before TPE models the results (Optuna's default, 10, leaves
small budgets almost all random)."""
PRUNER_STARTUP = 3
"""Finished trials before any trial is pruned: a median needs a few curves."""
PRUNER_WARMUP = 5
"""Epochs every trial runs before it can be pruned: early validation losses are noisy
(the same as the default early-stopping patience)."""
PRUNER_MIN_TRIALS = 2
"""Finished trials that must have reached an epoch for the median there to count."""

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_READING = ("part", "jobs")
"""Options for reading song sources, used once before the study (not passed to train)."""
_TRAIN_KWARGS = ("strict", "transpose", "quantize", "params")
"""``melodynet.train`` arguments besides ``TrainOptions`` that a study may fix."""


# --- the search space --------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """One searched (or fixed) value: a categorical list, an int or float range, or one
    value."""

    name: str
    """As ``--param`` spells it: ``learning-rate``, ``recurrent-dropout``."""
    spec: str
    """The text it was parsed from (``64,128,256``, ``1e-4:1e-2:log``)."""
    kind: str
    """``choice``, ``int``, ``float`` or ``fixed``."""
    choices: tuple[Any, ...] = ()
    """The values of a ``choice``; the one value of a ``fixed``."""
    low: float = 0
    high: float = 0
    log: bool = False
    training: bool = True
    """A training option (a ``TrainOptions`` field) rather than a model parameter."""

    def suggest(self, trial) -> Any:
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log)
        return trial.suggest_categorical(self.name, list(self.choices))

    @property
    def keyword(self) -> str:
        """The ``melodynet.train`` keyword (training options) or ``params`` key."""
        return self.name.replace("-", "_") if self.training else self.name


def canonical(name: str) -> str:
    return str(name).strip().lower().replace("_", "-")


def parse_params(items: Sequence[str]) -> dict[str, str]:
    """``["units=64,128", "dropout=0:0.5"]`` (``--param``) -> ``{"units": "64,128", ...}``."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, spec = str(item).partition("=")
        if not sep or not name.strip():
            raise OptionError(
                f"param {item!r}: expected NAME=SPEC, such as units=64,128,256 or dropout=0:0.5",
                option="param",
            )
        key = canonical(name)
        if key in out:
            raise OptionError(f"param {key} is given twice", option="param")
        out[key] = spec.strip()
    return out


def _spec_text(value: Any) -> str:
    """A Python value of ``search`` as the command line's text: lists are choices."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list | tuple):
        return ",".join(_spec_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_search(
    search: Mapping[str, Any],
    spec,
    *,
    encodings: Sequence[str] = (),
) -> list[Dimension]:
    """The search space from ``{NAME: SPEC}``, every name and value checked against the
    training options and the model's declared parameters (``spec``, a ``ModelSpec``).
    Raises a one-line ``OptionError`` (option ``param``) for the first problem."""
    declared = {p.name: p for p in getattr(spec, "params", ())}
    dims: list[Dimension] = []
    seen: set[str] = set()
    for raw, value in search.items():
        name = canonical(raw)
        if name in seen:
            raise OptionError(f"param {name} is given twice", option="param")
        seen.add(name)
        if name in NOT_SEARCHED:
            raise OptionError(f"param {name}: {NOT_SEARCHED[name]}", option="param")
        if name not in TRAINING_OPTIONS and name not in declared:
            known = [*TRAINING_OPTIONS, *declared]
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            params = ", ".join(declared) or "none"
            raise OptionError(
                f"param {name!r} is neither a training option ({', '.join(TRAINING_OPTIONS)}) "
                f"nor a parameter of model {spec.name} ({params}){hint}",
                option="param",
            )
        dims.append(_dimension(name, _spec_text(value), spec.name, declared.get(name), encodings))
    return dims


def _dimension(name: str, text: str, model: str, param, encodings: Sequence[str]) -> Dimension:
    training = name in TRAINING_OPTIONS

    def fail(problem: str) -> OptionError:
        return OptionError(f"param {name}={text}: {problem}", option="param")

    kind = TRAINING_OPTIONS[name] if training else param.type

    def value(item: str) -> Any:
        """One value as the option's or parameter's type, or an error saying what it takes."""
        if not training:
            from melodynet.params import convert, describe_allowed

            try:
                return convert(param, item, model)
            except MelodynetError:
                raise fail(
                    f"model {model}'s {name} takes {describe_allowed(param)}, not {item}"
                ) from None
        if kind == "str":  # encoding
            from melodynet.plugins import registry

            try:
                return registry().encoding(item).name
            except MelodynetError:
                raise fail(f"{name} is one of {', '.join(encodings)}, not {item}") from None
        if kind == "bool":
            if item.lower() not in _TRUE | _FALSE:
                raise fail(f"{name} is true or false, not {item}")
            return item.lower() in _TRUE
        number = _number(item)
        if kind == "int":
            if isinstance(number, float) and number.is_integer():
                number = int(number)
            if not isinstance(number, int):
                raise fail(f"{name} takes whole numbers, not {item}")
            return number
        if number is None:
            raise fail(f"{name} takes numbers, not {item}")
        return float(number)

    if not text:
        raise fail("give a value, a comma list (64,128) or a range (LOW:HIGH or LOW:HIGH:log)")
    if "," in text:
        items = [item.strip() for item in text.split(",")]
        if not all(items):
            raise fail("an empty value in the list")
        choices = tuple(value(item) for item in items)
        for i, choice in enumerate(choices):
            if choice in choices[:i]:
                raise fail(f"{items[i]} is given twice")
        dim = Dimension(name, text, "choice", choices, training=training)
    elif ":" in text:
        parts = [part.strip() for part in text.split(":")]
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2].lower() != "log"):
            raise fail("a range is LOW:HIGH, or LOW:HIGH:log for a log scale")
        if kind in ("str", "bool", "choice"):
            raise fail(f"{name} is not a number; give a comma list of values")
        low, high = _number(parts[0]), _number(parts[1])
        if low is None or high is None:
            raise fail("a range's LOW and HIGH must be numbers")
        whole = isinstance(low, int) and isinstance(high, int)
        if kind == "int" and not whole:
            raise fail(f"{name} takes whole numbers: LOW and HIGH must be whole")
        if not low < high:
            raise fail("LOW must be below HIGH (a single value fixes it)")
        log = len(parts) == 3
        if log and low <= 0:
            raise fail("a log-scale range must start above 0")
        value(parts[0]), value(parts[1])  # both ends allowed, so the whole range is
        numeric = "int" if kind == "int" else "float"
        dim = Dimension(name, text, numeric, (), low, high, log, training=training)
    else:
        dim = Dimension(name, text, "fixed", (value(text),), training=training)
    return dim


def _edge_values(dim: Dimension) -> list[Any]:
    """The values to check against ``TrainOptions``: every choice, or both ends."""
    if dim.kind == "int":
        return [int(dim.low), int(dim.high)]
    if dim.kind == "float":
        return [float(dim.low), float(dim.high)]
    return list(dim.choices)


def _check_training_values(dims: list[Dimension], base: dict[str, Any]) -> None:
    """Every searched training value accepted by ``TrainOptions`` (window >= 1 ...)."""
    from melodynet.training.options import TrainOptions

    for dim in dims:
        if not dim.training:
            continue
        for candidate in _edge_values(dim):
            try:
                TrainOptions(**{**base, dim.keyword: candidate})
            except OptionError as exc:
                message = exc.message.replace(dim.keyword, dim.name)
                raise OptionError(f"param {dim.name}={dim.spec}: {message}", "param") from None


# --- results ---------------------------------------------------------------------------


@dataclass
class TrialRow:
    """One trial of a study, as the results table shows it."""

    number: int
    state: str
    """complete, pruned, failed, interrupted or running."""
    value: float | None
    """The best validation loss the trial reached (a pruned trial: before it stopped)."""
    params: dict[str, Any]
    """Every searched (and fixed) value, by ``--param`` name."""
    epochs: int | None = None
    """Epochs trained (a pruned trial: the epoch it was pruned at)."""
    best_epoch: int | None = None
    seconds: float | None = None
    note: str = ""
    """Why it ended so, when that needs saying: ``diverged``, an error."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """``val loss 1.2345 (best epoch 9 of 14)``, ``pruned at epoch 6``..."""
        note = f" ({self.note})" if self.note and self.note != "diverged" else ""
        if self.state == "complete":
            where = f" (best epoch {self.best_epoch} of {self.epochs})" if self.epochs else ""
            return f"val loss {self.value:.4f}{where}{note}"
        if self.state == "pruned":
            why = "diverged" if self.note == "diverged" else "pruned"
            best = f", val loss {self.value:.4f}" if self.value is not None else ""
            return f"{why} at epoch {self.epochs}{best}{note}"
        return self.state + (f": {self.note}" if self.note else "")


@dataclass
class TuneResult:
    """What ``melodynet.tune`` found: every trial of the study and the best one's bundle."""

    trials: list[TrialRow]
    best: TrialRow | None
    """The finished trial with the lowest validation loss (None if none finished)."""
    path: Path | None
    """The best trial's bundle (``OUT/best``); None without ``out``."""
    study: Path | None
    """The Optuna study (``OUT/study.db``); None without ``out``."""
    _model: Any = field(default=None, repr=False)

    @property
    def model(self):
        """The best trial's ``melodynet.Model`` (loaded from ``path`` on first use)."""
        if self._model is None and self.path is not None:
            import melodynet

            self._model = melodynet.load(self.path)
        return self._model

    def to_json(self) -> dict[str, Any]:
        return {
            "best": self.best.to_json() if self.best else None,
            "path": str(self.path) if self.path else None,
            "study": str(self.study) if self.study else None,
            "trials": [row.to_json() for row in self.trials],
        }


@dataclass
class TuneProgress:
    """What a ``tune(progress=...)`` callback hears."""

    message: str = ""
    """When set, a report: the study started or resumed, the best bundle saved."""
    trial: TrialRow | None = None
    """The trial this is about: finished (its final row), or running (with ``epoch``)."""
    epoch: Any = None
    """A ``melodynet.Progress`` from the running trial's training."""
    trials: int = 0
    """Trials the study runs to."""
    finished: int = 0
    """Trials finished (complete or pruned) so far."""


# --- the study ---------------------------------------------------------------------------


def tune(
    songs: Sequence[Song | str | Path] | Song | str | Path,
    *,
    model: str,
    search: Mapping[str, Any],
    trials: int = 20,
    validation_split: float | None = None,
    out: str | Path | None = None,
    random_seed: int = 0,
    epochs: int = 100,
    progress: Callable[[TuneProgress], None] | None = None,
    **fixed_options: Any,
) -> TuneResult:
    """Search ``search`` for the values of the lowest validation loss, training ``model``
    on ``songs`` (Songs, or sources as ``melodynet.read`` takes them) once per trial.

    ``search`` maps names (training options such as ``units``, ``learning_rate``,
    ``window``, or the model's parameters such as ``dropout``) to a list of values (a
    choice), a string in the command line's syntax (``"64,128,256"``, ``"0:0.5"``,
    ``"1e-4:1e-2:log"``) or one value (fixed). ``fixed_options`` are further
    ``melodynet.train`` arguments every trial shares (``encoding``, ``window``, ``params``,
    ``transpose``...; ``part`` and ``jobs`` for reading sources).

    Every trial trains with ``random_seed`` and holds out the same ``validation_split`` of
    the songs, for at most ``epochs`` epochs (early stopping with patience ends most
    sooner). With ``out`` the study is kept in ``out/study.db`` and the best trial's bundle
    in ``out/best``; calling again with the same arguments resumes the study up to
    ``trials`` finished trials. Ctrl-C stops the running trial, records it as interrupted
    and raises ``TrainingInterrupted``.
    """
    from melodynet.plugins import registry
    from melodynet.training.options import check_whole

    if not validation_split:
        raise OptionError(
            "tuning compares trials by their validation loss: give validation_split, such as 0.2",
            option="validation_split",
        )
    check_whole("trials", trials)
    check_whole("epochs", epochs)
    check_whole("random_seed", random_seed, None)
    reg = registry()
    try:
        spec = reg.model(model)
        encodings = list(reg.encodings)
    except MelodynetError as exc:
        from melodynet.errors import ModelError

        raise ModelError(exc.message, option=exc.option) from None
    dims = parse_search(search, spec, encodings=encodings)
    reading = {k: fixed_options.pop(k) for k in _READING if k in fixed_options}
    base, passed = _fixed(fixed_options, spec, dims, model, validation_split, random_seed, epochs)
    _check_training_values(dims, base)
    study_dir = Path(out) if out is not None else None
    if study_dir is not None:
        _check_out(study_dir)
    songs = _read(songs, dims, base, {**reading, "strict": fixed_options.get("strict", False)})
    setup = {
        "model": spec.name,
        "search": {d.name: d.spec for d in dims},
        "fixed": json.loads(json.dumps(passed, sort_keys=True, default=str)),
        "validation_split": validation_split,
        "random_seed": random_seed,
        "epochs": epochs,
        "songs": _fingerprint(songs),
    }
    run = _Study(
        songs, spec.name, dims, passed, setup, trials, study_dir, progress or (lambda _p: None)
    )
    with _locked(study_dir), _quiet_optuna():
        return run.run()


def _fixed(fixed, spec, dims, model, validation_split, random_seed, epochs):
    """(the ``TrainOptions`` every trial starts from, the train() arguments every trial
    shares), both checked."""
    from melodynet.training.options import TrainOptions

    names = {f.name for f in fields(TrainOptions)} - {"model", "random_seed", "validation_split"}
    known = sorted(names | set(_TRAIN_KWARGS) | set(_READING))
    for name in fixed:
        if name not in names and name not in _TRAIN_KWARGS:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise OptionError(f"unknown training option {name!r}{hint}", option="options")
    searched = {d.keyword for d in dims if d.training}
    params = {canonical(k): v for k, v in dict(fixed.get("params") or {}).items()}
    for name in sorted(searched & set(fixed)) + sorted({d.name for d in dims} & set(params)):
        raise OptionError(f"param {canonical(name)} is both searched and fixed", option="param")
    if params:
        from melodynet.params import resolve

        resolve(spec, params)  # unknown names and bad values, before anything heavy
    base = {k: v for k, v in fixed.items() if k in names}
    base.update(
        model=model, validation_split=validation_split, random_seed=random_seed, epochs=epochs
    )
    TrainOptions(**base)
    passed = dict(fixed)
    if params:
        passed["params"] = params
    else:
        passed.pop("params", None)
    return base, passed


def _read(songs, dims, base, reading) -> list[Song]:
    """The songs, sources read once (each long enough for the largest window searched).
    Transposing and quantising are left to each trial's ``melodynet.train``."""
    from melodynet.training.run import collect_songs

    window = max(
        [base.get("window", 4)] + [max(_edge_values(d)) for d in dims if d.name == "window"]
    )
    return collect_songs(songs, window, purpose="tune", **reading)


def _fingerprint(songs: list[Song]) -> str:
    digest = hashlib.sha256()
    for song in songs:
        digest.update((" ".join(n.key for n in song.notes) + "\n").encode())
    return f"{len(songs)} songs, sha256 {digest.hexdigest()[:16]}"


def _check_out(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise OptionError(f"out {directory} is a file, not a directory", option="out")
    if (
        directory.is_dir()
        and not (directory / STUDY_FILE).exists()
        and any(p for p in directory.iterdir() if p.name != ".lock")
    ):
        raise OptionError(
            f"out {directory} exists and holds no study ({STUDY_FILE}); choose another",
            option="out",
        )


@contextlib.contextmanager
def _locked(directory: Path | None) -> Iterator[None]:
    """One process at a time per study: a second would fail the first's running trial."""
    if directory is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    with open(directory / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OptionError(
                f"out {directory} is being tuned by another process; wait for it, or choose "
                "another",
                option="out",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial at INFO level; melodynet reports trials itself."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def _sampler_seed(random_seed: int, finished: int) -> int:
    """The sampler's seed for the trial after ``finished`` finished ones: a resumed study
    asks for the same values as one never interrupted."""
    return (random_seed * 1_000_003 + finished) % 2**32


class _Study:
    def __init__(self, songs, model, dims, passed, setup, trials, directory, progress):
        self.songs, self.model, self.dims, self.passed = songs, model, dims, passed
        self.setup, self.trials, self.directory, self.progress = setup, trials, directory, progress
        self.best_model = None

    def say(self, message: str) -> None:
        self.progress(TuneProgress(message=message, trials=self.trials))

    def open(self):
        import optuna

        storage = None
        if self.directory is not None:
            url = f"sqlite:///{(self.directory / STUDY_FILE).resolve()}"
            storage = optuna.storages.RDBStorage(
                url, engine_kwargs={"connect_args": {"timeout": 60}}
            )
        existed = storage is not None and bool(optuna.get_all_study_names(storage))
        study = optuna.create_study(
            storage=storage,
            study_name=STUDY_NAME,
            direction="minimize",
            load_if_exists=True,
            pruner=optuna.pruners.MedianPruner(
                n_startup_trials=PRUNER_STARTUP,
                n_warmup_steps=PRUNER_WARMUP,
                n_min_trials=PRUNER_MIN_TRIALS,
            ),
        )
        if existed:
            self._check_setup(study.user_attrs.get("setup", {}))
        else:
            study.set_user_attr("setup", self.setup)
        for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            # a run that ended without a word (killed): its trial will not finish
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        return study, existed

    def _check_setup(self, saved: dict[str, Any]) -> None:
        for key, value in self.setup.items():
            if saved.get(key) != value:
                what = {"songs": "other songs", "fixed": "other fixed options"}.get(
                    key, f"{key} {_show(saved.get(key))}, not {_show(value)}"
                )
                raise OptionError(
                    f"out {self.directory} holds a study of {what}; run it with its own "
                    "settings to resume it, or choose another out",
                    option="out",
                )

    def run(self) -> TuneResult:
        study, existed = self.open()
        finished = _finished(study)
        where = self.directory / STUDY_FILE if self.directory is not None else "memory"
        if existed:
            self.say(f"Resuming the study in {where}: {finished} of {self.trials} trials finished")
        else:
            searched = ", ".join(f"{d.name}={d.spec}" for d in self.dims)
            self.say(
                f"Tuning {self.model} on {len(self.songs)} songs: {self.trials} trials of "
                f"{searched} (study in {where})"
            )
        try:
            self._repair_best(study)
            while (finished := _finished(study)) < self.trials:
                self._trial(study, finished)
        except (TrainingInterrupted, KeyboardInterrupt) as exc:
            if getattr(exc, "finished", None) is not None:
                raise
            raise self.interrupted(None, _finished(study), 0) from None  # between trials
        return self._result(study)

    def interrupted(self, trial: int | None, finished: int, epochs: int) -> TrainingInterrupted:
        """The error for Ctrl-C: what is kept and how to go on; ``.trial`` (None between
        trials) and ``.finished`` say where it stopped."""
        where = f"during trial {trial}" if trial is not None else "between trials"
        if self.directory is not None:
            kept = (
                f"{finished} of {self.trials} trials finished, kept in "
                f"{self.directory / STUDY_FILE}; run the same tune again to resume"
            )
        else:
            kept = f"{finished} of {self.trials} trials finished (no out directory: nothing kept)"
        error = TrainingInterrupted(
            f"interrupted {where}: {kept}", directory=self.directory, epochs=epochs
        )
        error.trial, error.finished = trial, finished
        return error

    def _train(self, values: dict[str, Any], trial_progress, stop):
        import melodynet

        options = {**self.passed}
        params = dict(options.pop("params", {}))
        for dim in self.dims:
            if dim.training:
                options[dim.keyword] = values[dim.name]
            else:
                params[dim.name] = values[dim.name]
        if params:
            options["params"] = params
        return melodynet.train(
            self.songs,
            model=self.model,
            validation_split=self.setup["validation_split"],
            epochs=options.pop("epochs", self.setup["epochs"]),
            random_seed=self.setup["random_seed"],
            progress=trial_progress,
            stop=stop,
            **options,
        )

    def _trial(self, study, finished: int) -> None:
        import optuna

        study.sampler = optuna.samplers.TPESampler(
            seed=_sampler_seed(self.setup["random_seed"], finished),
            n_startup_trials=SAMPLER_STARTUP,
        )
        trial = study.ask()
        values = {dim.name: dim.suggest(trial) for dim in self.dims}
        row = TrialRow(trial.number, "running", None, values)
        status = {"best": math.inf, "epoch": 0, "prune": False, "diverged": False}
        start = time.monotonic()

        def on_progress(event) -> None:
            if not event.message:
                status["epoch"] = event.epoch
                loss = event.logs.get("val_loss")
                if loss is None or not math.isfinite(loss):
                    status["prune"] = status["diverged"] = True
                else:
                    status["best"] = min(status["best"], loss)
                    trial.report(status["best"], event.epoch)
                    if trial.should_prune():
                        status["prune"] = True
            self.progress(
                TuneProgress(trial=row, epoch=event, trials=self.trials, finished=finished)
            )

        def finish(state, value=None, **attrs) -> None:
            row.seconds = round(time.monotonic() - start, 2)
            row.epochs = row.epochs or status["epoch"]
            for key, attr in {"seconds": row.seconds, "epochs": row.epochs, **attrs}.items():
                trial.set_user_attr(key, attr)
            study.tell(trial, value, state=state)

        same = _same_values(study, values)
        if same is not None:  # training is deterministic: the same values, the same result
            for step, value in sorted(same.intermediate_values.items()):
                trial.report(value, step)
            row.state, row.value = same.state.name.lower(), same.value
            row.epochs = same.user_attrs.get("epochs")
            row.best_epoch = same.user_attrs.get("best_epoch")
            row.note = f"same values as trial {same.number}"
            finish(
                same.state,
                same.value if row.state == "complete" else None,
                note=row.note,
                best_epoch=row.best_epoch,
                repeats=same.number,
            )
            self.progress(TuneProgress(trial=row, trials=self.trials, finished=finished + 1))
            return
        trained = None
        try:
            try:
                trained = self._train(values, on_progress, lambda: status["prune"])
            except TrainingInterrupted:
                if not status["prune"]:
                    raise
        except (TrainingInterrupted, KeyboardInterrupt):
            finish(optuna.trial.TrialState.FAIL, interrupted=True)
            raise self.interrupted(trial.number, finished, status["epoch"]) from None
        except BaseException as exc:
            finish(optuna.trial.TrialState.FAIL, error=str(exc)[:300])
            raise
        if trained is None or not math.isfinite(status["best"]):
            note = "diverged" if status["diverged"] else ""
            finish(optuna.trial.TrialState.PRUNED, note=note)
            row.state, row.note = "pruned", note
            if math.isfinite(status["best"]):
                row.value = status["best"]
        else:
            row.epochs = trained.meta.epochs_run
            row.best_epoch = trained.meta.metrics.get("best_epoch")
            row.state, row.value = "complete", status["best"]
            finish(optuna.trial.TrialState.COMPLETE, status["best"], best_epoch=row.best_epoch)
        self.progress(TuneProgress(trial=row, trials=self.trials, finished=finished + 1))
        if row.state == "complete" and _best(study).number == trial.number:
            self._keep(trained, row)

    def _keep(self, trained, row: TrialRow) -> None:
        """The best trial so far: its model kept in memory, its bundle in ``OUT/best``."""
        trained.meta.metrics["tuning"] = {
            "trial": row.number,
            "val_loss": row.value,
            "params": row.params,
        }
        self.best_model = trained
        if self.directory is not None:
            trained.save(self.directory / BEST_DIR)

    def _repair_best(self, study) -> None:
        """A resumed study whose best bundle is missing or stale (the last run stopped
        between finishing its best trial and saving it): train that trial again. Training
        is deterministic, so it is the same model."""
        best = _best(study)
        if self.directory is None or best is None:
            return
        from melodynet import bundle

        try:
            meta = bundle.read_meta(self.directory / BEST_DIR)
            if meta.metrics.get("tuning", {}).get("trial") == best.number:
                return
        except MelodynetError:
            pass
        self.say(f"Training trial {best.number} again: its bundle ({BEST_DIR}) is missing")
        values = {dim.name: best.params[dim.name] for dim in self.dims}
        trained = self._train(values, None, None)
        self._keep(trained, _row(best))

    def _result(self, study) -> TuneResult:
        rows = [_row(t) for t in study.get_trials(deepcopy=False)]
        best = _best(study)
        if best is not None:
            best = next(r for r in rows if r.number == best.number)
        path = self.directory / BEST_DIR if self.directory is not None and best else None
        model = self.best_model
        if (
            model is not None
            and best is not None
            and model.meta.metrics.get("tuning", {}).get("trial") != best.number
        ):
            model = None
        return TuneResult(
            rows,
            best,
            path,
            self.directory / STUDY_FILE if self.directory is not None else None,
            model,
        )


def _finished(study) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def _best(study):
    """The complete trial with the lowest validation loss; of equals, the first."""
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return min(complete, key=lambda t: (t.value, t.number), default=None)


def _same_values(study, values: dict[str, Any]):
    """A finished trial that trained with exactly ``values``, if any."""
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.PRUNED)
    return next(
        (t for t in study.get_trials(deepcopy=False, states=states) if t.params == values), None
    )


def _row(trial) -> TrialRow:
    attrs = trial.user_attrs
    state = trial.state.name.lower()
    if state == "fail":
        state = "interrupted" if attrs.get("interrupted") else "failed"
    return TrialRow(
        number=trial.number,
        state=state,
        value=trial.value if state in ("complete", "pruned") else None,
        params=dict(trial.params),
        epochs=attrs.get("epochs"),
        best_epoch=attrs.get("best_epoch"),
        seconds=attrs.get("seconds"),
        note=attrs.get("note") or attrs.get("error") or "",
    )


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)


def default_out(sources: Sequence[str | Path], model: str) -> Path:
    """``models/tune-SONG-MODEL`` (``tune-kinder0-lstm``, ``tune-songs-mlp``): after the one
    source given (a file, a directory, a glob's directory, a corpus reference), the
    directory of several files in one, else the first of several and how many more."""
    from melodynet.bundle import models_dir

    def stem(source: str) -> str:
        path = Path(str(source).removeprefix("corpus:").rstrip("/"))
        while path.name and any(c in path.name for c in "*?["):
            path = path.parent
        return path.stem if path.suffix else path.name or "songs"

    names = [stem(s) for s in sources] or ["songs"]
    files = [Path(str(s)) for s in sources if not str(s).startswith("corpus:")]
    parents = {f.parent for f in files}
    if len(names) == 1:
        name = names[0]
    elif len(files) == len(names) and len(parents) == 1 and all(f.suffix for f in files):
        name = stem(str(parents.pop().resolve()))  # songs/*.txt as the shell expands it
    else:
        name = f"{names[0]}+{len(names) - 1}"
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    return models_dir() / f"tune-{safe}-{model}"
