"""``melodynet.train``: from songs (or sources) and options to a saved, scored model.

Around the training loop it adds what a long run needs: the songs read and prepared,
checkpoints into the bundle, Ctrl-C or SIGTERM saving the bundle as it stands (resumed
exactly with ``resume=``), TensorBoard logs, and a progress callback for people and
programs watching.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from melodynet import bundle
from melodynet.errors import (
    MelodynetError,
    ModelError,
    OptionError,
    TrainingInterrupted,
    warn,
)
from melodynet.params import resolve
from melodynet.songs.song import Song
from melodynet.training.options import TrainOptions, check_whole

REPORTED_SONGS = 20
"""Training songs scored after training (a corpus is scored by ``Model.evaluate``)."""


@dataclass
class Progress:
    """What a ``progress`` callback hears: an epoch done, or a line for people."""

    epoch: int
    """Epochs complete."""
    epochs: int
    """Most epochs this run may take."""
    logs: dict[str, float] = field(default_factory=dict)
    """The epoch's loss, accuracy and, with a validation split, val_loss, val_accuracy..."""
    message: str = ""
    """When set, a report rather than an epoch: songs read, training stopped, bundle saved."""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[Callable[[], bool]]:
    """SIGINT or SIGTERM asks training to stop at the next step; a second one is immediate.

    Only the main thread can take signals; elsewhere nothing is installed."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = {}

    def handler(signum, _frame):
        received.append(signum)
        for sig, old in previous.items():
            signal.signal(sig, old)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield lambda: bool(received)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _tensorboard(directory: Path | None):
    if directory is None:
        return None
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        raise OptionError(
            "tensorboard needs the tensorboard package: pip install 'melodynet[tensorboard]'",
            option="tensorboard",
        )
    from melodynet.tfenv import tensorflow

    writer = tensorflow().summary.create_file_writer(str(directory))

    def log(epoch: int, logs: dict[str, float]) -> None:
        import tensorflow as tf

        with writer.as_default(step=epoch):
            for key, value in logs.items():
                tf.summary.scalar(key, value)
        writer.flush()

    return log


def collect_songs(
    songs: Sequence[Song | str | Path] | Song | str | Path,
    window: int,
    *,
    part: int | None = None,
    strict: bool = False,
    jobs: int = 1,
    purpose: str = "train",
) -> list[Song]:
    """The Songs given, then the sources given read (tunes of ``window`` notes or fewer
    skipped, with warnings, as ``read`` does); nothing transposed or quantised. ``purpose``
    names the job in the error for no songs at all (``train``, ``tune``)."""
    from melodynet.songs.files import read

    if isinstance(songs, str | Path | Song):
        songs = [songs]
    if not songs:
        raise OptionError(f"songs: give at least one song to {purpose} on", option="songs")
    given = [s for s in songs if isinstance(s, Song)]
    sources = [str(s) for s in songs if not isinstance(s, Song)]
    if sources:
        given += read(sources, part=part, strict=strict, jobs=jobs, min_notes=window + 1)
    return given


def prepare_songs(
    songs: Sequence[Song | str | Path],
    window: int,
    *,
    part: int | None = None,
    strict: bool = False,
    jobs: int = 1,
    transpose: str | int | None = None,
    quantize: str | None = None,
) -> list[Song]:
    """The songs to train on: sources read (too-short tunes skipped), quantised and
    transposed; what was skipped and why is reported as warnings, as ``read`` does."""
    from melodynet.songs import preprocess

    how = preprocess.parse_transpose(transpose) if transpose is not None else None
    grid = preprocess.parse_grid(quantize) if quantize is not None else None
    given = collect_songs(songs, window, part=part, strict=strict, jobs=jobs)
    if grid is not None:
        given = preprocess.quantize_all(given, grid, say=warn, strict=strict)
    if how is not None:
        given = preprocess.transpose_all(given, how, say=warn, strict=strict)
    return given


def train(
    songs: Sequence[Song | str | Path] | Song | str | Path = (),
    *,
    model: str = "stateful-lstm",
    encoding: str = "single",
    out: str | Path | None = None,
    force: bool = False,
    resume: str | Path | None = None,
    part: int | None = None,
    strict: bool = False,
    jobs: int = 1,
    transpose: str | int | None = None,
    quantize: str | None = None,
    checkpoint_every: int | None = None,
    tensorboard: str | Path | None = None,
    progress: Callable[[Progress], None] | None = None,
    stop: Callable[[], bool] | None = None,
    **options: Any,
):
    """Train a model on ``songs`` (Songs, or files, directories, globs and ``corpus:``
    references) and return it as a ``melodynet.Model``.

    ``options`` are ``TrainOptions`` fields: ``window``, ``epochs``, ``units``,
    ``batch_size``, ``learning_rate``, ``random_seed``, ``validation_split``,
    ``patience``, ``augment``, ``stop_when_perfect``, ``strategy``, and ``params``: the
    model's own parameters (``{"layers": 2, "dropout": 0.1}``; see
    ``melodynet.describe_model``). With ``out`` the
    bundle is written there, checkpointed as training goes (``checkpoint_every`` steps,
    else after each epoch), and Ctrl-C saves it as it stands and raises
    ``TrainingInterrupted``; ``resume=DIR`` continues such a bundle exactly (give no songs;
    ``epochs`` may raise its limit). ``progress`` hears every epoch and report;
    ``stop()`` returning True stops training as Ctrl-C does.
    """
    from melodynet.plugins import registry

    say = _sayer(progress)
    check_whole("checkpoint_every", checkpoint_every)
    tensorboard_path = Path(tensorboard) if tensorboard is not None else None
    if resume is not None:
        from melodynet.model import load_for_resume

        if songs:
            raise OptionError(
                "resume continues a bundle with its own songs; give no songs", option="resume"
            )
        unknown = set(options) - {"epochs"}
        if unknown or model != "stateful-lstm" or encoding != "single":
            raise OptionError(
                "resume continues with the bundle's own options; only epochs may change",
                option="resume",
            )
        bundle.read_meta(Path(resume))
        previous = load_for_resume(Path(resume))
        train_options = _resume_options(previous, options.get("epochs"))
        say(f"Resuming {resume} at epoch {previous.meta.epochs_run} of {train_options.epochs}")
        prepared, target = previous.songs, Path(resume)
    else:
        try:
            train_options = TrainOptions(model=model, encoding=encoding, **options)
        except TypeError as exc:
            raise OptionError(_unknown_option(exc, options), option="options") from None
        reg = registry()
        try:
            spec = reg.model(model)
            reg.encoding(encoding)
        except MelodynetError as exc:
            raise ModelError(exc.message, option=exc.option) from None
        train_options = replace(train_options, params=resolve(spec, train_options.params))
        target = Path(out) if out is not None else None
        if target is not None and target.exists() and not force:
            raise OptionError(
                f"out {target} already exists; replace it with force=True, or choose another",
                option="out",
            )
        prepared = prepare_songs(
            songs,
            train_options.window,
            part=part,
            strict=strict,
            jobs=jobs,
            transpose=transpose,
            quantize=quantize,
        )
        previous = None
        described = ", ".join(f"{s.name} ({len(s)} notes)" for s in prepared[:5])
        more = f" and {len(prepared) - 5} more" if len(prepared) > 5 else ""
        say(
            f"Training {train_options.model} ({train_options.encoding} encoding, window "
            f"{train_options.window}) on {described}{more}"
        )
    return _run(
        prepared,
        train_options,
        target,
        say,
        progress,
        stop,
        previous,
        checkpoint_every,
        _tensorboard(tensorboard_path),
    )


def _sayer(progress: Callable[[Progress], None] | None) -> Callable[[str], None]:
    """Reports of a run go to ``progress`` as messages; without one, a run is quiet."""
    if progress is None:
        return lambda _message: None
    return lambda message: progress(Progress(0, 0, message=message))


def _unknown_option(exc: TypeError, options: dict[str, Any]) -> str:
    import difflib
    from dataclasses import fields

    known = [f.name for f in fields(TrainOptions)] + [
        "out",
        "force",
        "resume",
        "part",
        "strict",
        "jobs",
        "transpose",
        "quantize",
        "checkpoint_every",
        "tensorboard",
        "progress",
        "stop",
    ]
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"unknown training option {name!r}{hint}"
    return str(exc)


def _resume_options(previous, epochs: int | None) -> TrainOptions:
    options = TrainOptions.from_json(previous.meta.options)
    if epochs is not None:
        options = replace(options, epochs=epochs)
    if previous.meta.status == "complete" and previous.meta.epochs_run >= options.epochs:
        raise OptionError(
            f"{previous.directory}: training finished after {previous.meta.epochs_run} epochs; "
            "to train longer, pass epochs N with N above that",
            option="epochs",
        )
    return options


def _run(songs, options, target, say, progress, stop, previous, checkpoint_every, log):
    from melodynet.training.distribute import is_chief
    from melodynet.training.learn import learn

    def save(trained, snapshot) -> None:
        if target is not None:
            trained.save(target)  # learn() gave it the snapshot as its state

    def on_epoch(epoch: int, logs: dict[str, float]) -> None:
        if progress is not None:
            progress(Progress(epoch, options.epochs, dict(logs)))
        if log:
            log(epoch, logs)

    with stop_on_signals() as signalled:

        def should_stop() -> bool:
            return signalled() or bool(stop and stop())

        trained, result = learn(
            songs, options, on_epoch, save, should_stop, previous, checkpoint_every
        )
    if result.interrupted:
        where = f"saved {target}" if target is not None else "nothing saved (no out directory)"
        raise TrainingInterrupted(
            f"interrupted: {where} after {result.epochs_run} complete epochs"
            + (f"; continue with resume={str(target)!r}" if target is not None else ""),
            directory=target,
            epochs=result.epochs_run,
        )
    stopped = ""
    if result.stopped_early:
        stopped = (
            f" (stopped: no better validation loss since epoch {result.best_epoch}; "
            "kept its weights)"
            if options.patience
            else " (stopped: nothing left to learn)"
        )
    say(f"Trained {result.epochs_run} epochs{stopped}")
    trained.directory = target
    _score(trained, say)
    if target is None:
        return trained
    if not is_chief():
        say("Not the chief worker: the chief writes the bundle")
        return trained
    # Checkpoints may have created the bundle already; the caller checked it was ours to write.
    trained.save(target)
    say(f"Saved {target}")
    return trained


def _score(trained, say: Callable[[str], None]) -> None:
    """Score the training songs (the first few of a corpus) and keep the figures."""
    from melodynet.evaluation.scores import score_song

    songs = trained.songs[:REPORTED_SONGS]
    scores = [score_song(trained, song) for song in songs]
    trained.meta.metrics["songs"] = [s.to_json() for s in scores]
    for s in scores:
        say(
            f"  {s.song}: one-step {s.one_step_correct}/{s.one_step_total} "
            f"({s.one_step_accuracy:.0%}), full song {s.full_song_matches}/{s.full_song_length}"
        )
    if len(trained.songs) > REPORTED_SONGS:
        say(
            f"  (first {REPORTED_SONGS} of {len(trained.songs)} songs; "
            "Model.evaluate scores them all)"
        )
