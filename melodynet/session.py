"""A training run as the command line drives it: progress, checkpoints, Ctrl-C, TensorBoard."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import click

from melodynet import bundle
from melodynet.distribute import is_chief
from melodynet.errors import MelodynetError
from melodynet.learn import LearnOptions, learn
from melodynet.song import Song
from melodynet.trained import Trained


@contextlib.contextmanager
def stop_on_signals() -> Iterator[Callable[[], bool]]:
    """SIGINT or SIGTERM asks training to stop at the next step; a second one is immediate."""
    received: list[int] = []
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
        raise MelodynetError(
            "--tensorboard needs the tensorboard package: pip install 'melodynet[tensorboard]'"
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


def run_training(
    songs: list[Song],
    options: LearnOptions,
    target: Path,
    say: Callable[[str], None],
    resume: Trained | None = None,
    checkpoint_every: int | None = None,
    tensorboard: Path | None = None,
) -> Trained:
    """Train with a progress bar, checkpointing into ``target``; save the final bundle."""
    log = _tensorboard(tensorboard)
    first = resume.meta.epochs_run if resume else 0
    status = {"text": ""}

    def save(trained: Trained, snapshot) -> None:
        bundle.save(target, trained.model, trained.meta, replace=True, state=snapshot)

    with (
        stop_on_signals() as should_stop,
        click.progressbar(
            length=options.epochs,
            label="epochs",
            file=sys.stderr,
            show_pos=True,
            item_show_func=lambda _: status["text"],
        ) as bar,
    ):
        bar.update(first)

        def on_epoch(epoch: int, logs: dict[str, float]) -> None:
            status["text"] = "  ".join(
                f"{k.replace('accuracy', 'acc')} {v:.4f}"
                for k, v in logs.items()
                if k in ("loss", "accuracy", "val_loss", "val_accuracy")
            )
            bar.update(1)
            if log:
                log(epoch, logs)

        trained, result = learn(
            songs, options, on_epoch, save, should_stop, resume, checkpoint_every
        )
    if result.interrupted:
        say(
            f"Interrupted: saved {target} after {result.epochs_run} complete epochs; "
            f"continue with: melodynet train --resume {target}"
        )
        sys.exit(130)
    stop = ""
    if result.stopped_early:
        stop = (
            (
                f" (stopped: no better validation loss since epoch {result.best_epoch}; "
                "kept its weights)"
            )
            if options.patience
            else " (stopped: nothing left to learn)"
        )
    say(f"Trained {result.epochs_run} epochs{stop}")
    trained.directory = target
    _report(trained, say)
    if not is_chief():
        say("Not the chief worker: the chief writes the bundle")
        return trained
    # Checkpoints may have created the bundle already; the caller checked it was ours to write.
    bundle.save(target, trained.model, trained.meta, replace=True, state=trained.state)
    say(f"Saved {target}")
    return trained


def resume_options(trained: Trained, epochs: int | None) -> LearnOptions:
    options = LearnOptions.from_json(trained.meta.options)
    if epochs is not None:
        options = replace(options, epochs=epochs)
    if trained.meta.status == "complete" and trained.meta.epochs_run >= options.epochs:
        raise MelodynetError(
            f"{trained.directory}: training finished after {trained.meta.epochs_run} epochs; "
            "to train longer, pass --epochs N with N above that"
        )
    return options


REPORTED_SONGS = 20


def _report(trained: Trained, say: Callable[[str], None]) -> None:
    """Score the training songs (the first few of a corpus) and keep the figures."""
    from melodynet.evaluation import score_song

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
            "melodynet evaluate scores them all)"
        )
