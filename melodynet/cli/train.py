"""`melodynet train`: songs in, a bundle out, with a progress bar and Ctrl-C saving."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from melodynet.cli.errors import Command
from melodynet.cli.options import model_option, param_option, reading_options
from melodynet.training.options import DEFAULT_PATIENCE, STRATEGIES


@click.command(cls=Command)
@click.argument("songs", nargs=-1)
@model_option("train")
@click.option(
    "--encoding",
    default="single",
    show_default=True,
    help="single: one token per note; split: pitch and duration apart.",
)
@click.option("--window", default=4, show_default=True, help="Notes of context per prediction.")
@click.option("--epochs", type=int, default=None, help="Most epochs to train [default: 500].")
@click.option(
    "--batch-size",
    default=32,
    show_default=True,
    help="Windows per step (sequence models: songs per step).",
)
@click.option("--learning-rate", default=0.003, show_default=True, help="Adam learning rate.")
@click.option("--units", default=128, show_default=True, help="Width of the main layers.")
@param_option
@click.option(
    "--random-seed",
    default=0,
    show_default=True,
    help="Seed for weights and data order; the same seed gives the same notes.",
)
@click.option(
    "--stop-when-perfect/--all-epochs",
    default=True,
    show_default=True,
    help="Stop once the training songs are reproduced as well as the model can "
    "(every note for sequence models, the window ceiling for window models).",
)
@click.option(
    "--validation-split",
    type=float,
    default=0.0,
    show_default=True,
    help="Hold out this fraction of the songs (whole songs) to measure each epoch.",
)
@click.option(
    "--patience",
    type=int,
    default=None,
    help="With --validation-split: stop after N epochs without a better validation "
    f"loss and keep the best weights.  [default: {DEFAULT_PATIENCE} with --validation-split]",
)
@reading_options
@click.option(
    "--augment",
    default=0,
    show_default=True,
    help="Also train on each song transposed by -N..+N semitones.",
)
@click.option(
    "--bar-inputs",
    is_flag=True,
    help="Also give the model where each note falls in its bar and the bar number "
    "(docs/constraints.md).",
)
@click.option(
    "--strategy",
    type=click.Choice(STRATEGIES),
    default="none",
    show_default=True,
    help="Train on every local device (mirrored) or on the workers TF_CONFIG names "
    "(multi-worker); see docs/scaling.md.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Bundle directory [default: models/SONG-MODEL].",
)
@click.option("--force", is_flag=True, help="Replace an existing bundle.")
@click.option(
    "--resume",
    type=click.Path(path_type=Path),
    default=None,
    help="Continue an interrupted (or finished, with a larger --epochs) bundle.",
)
@click.option(
    "--checkpoint-every",
    type=int,
    default=None,
    help="Checkpoint every N steps [default: after each epoch, at most every second].",
)
@click.option(
    "--tensorboard",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write TensorBoard logs to this directory.",
)
@click.option(
    "--plot",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the learning curves (loss and accuracy per epoch): .png, .svg or .pdf.",
)
def train(songs, model_name, out_dir, force, resume, epochs, plot, **options) -> None:
    """Train a model on SONGS: files, directories, globs, or music21's bundled corpus
    (corpus:essenFolksong, corpus:essenFolksong/kinder0).

    Ctrl-C saves the bundle as it stands; `--resume DIR` continues it exactly.
    """
    import melodynet
    from melodynet import bundle
    from melodynet.cli import info
    from melodynet.errors import MelodynetError, OptionError, TrainingInterrupted
    from melodynet.params import parse_assignments, resolve
    from melodynet.plugins import registry
    from melodynet.render.curves import check_path, write_curves
    from melodynet.training.options import TrainOptions

    if plot:
        check_path(plot)
    run = {
        "checkpoint_every": options.pop("checkpoint_every"),
        "tensorboard": options.pop("tensorboard"),
    }
    if resume is not None:
        if songs:
            raise OptionError(
                "resume continues a bundle with its own songs; give no SONGS", option="resume"
            )
        if options["params"]:
            raise OptionError("param: a resumed bundle keeps its own parameters", option="param")
        target, read = resume, []
        run.update(resume=resume, epochs=epochs)
    else:
        if not songs:
            raise MelodynetError("give at least one SONG to train on (or --resume DIR)")
        reading = {k: options.pop(k) for k in ("part", "strict", "jobs", "transpose", "quantize")}
        options["epochs"] = epochs or 500
        options["params"] = resolve(
            registry().model(model_name), parse_assignments(options["params"])
        )
        TrainOptions(model=model_name, **options)  # check every value before reading songs
        registry().encoding(options["encoding"])
        read = melodynet.read(
            songs,
            part=reading["part"],
            strict=reading["strict"],
            jobs=reading["jobs"],
            min_notes=options["window"] + 1,
        )
        target = out_dir or bundle.default_dir(read, registry().model(model_name).name)
        if target.exists() and not force:
            raise MelodynetError(
                f"{target} already exists; add --force to replace it, or --out DIR"
            )
        run.update(
            model=model_name,
            out=target,
            force=True,
            strict=reading["strict"],
            transpose=reading["transpose"],
            quantize=reading["quantize"],
            **options,
        )
    with _ProgressBar() as progress:
        try:
            model = melodynet.train(read, progress=progress, **run)
        except TrainingInterrupted as exc:
            progress.close()
            info(
                f"Interrupted: saved {exc.directory} after {exc.epochs} complete epochs; "
                f"continue with: melodynet train --resume {exc.directory}"
            )
            sys.exit(130)
    if plot:
        write_curves(model.meta.history, plot, title=target.name)
        info(f"Wrote {plot}")


class _ProgressBar:
    """An epochs bar on stderr fed by ``train(progress=...)``; reports print above it."""

    def __init__(self) -> None:
        self.bar, self.status = None, ""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None

    def __call__(self, event) -> None:
        from melodynet.cli import info

        if event.message:
            if self.bar is not None and not event.message.startswith(("Resuming", "Training")):
                self.close()
            info(event.message)
            return
        if self.bar is None:
            self.bar = click.progressbar(
                length=event.epochs,
                label="epochs",
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda _: self.status,
            )
            self.bar.__enter__()
            self.bar.update(event.epoch - 1)
        self.status = "  ".join(
            f"{k.replace('accuracy', 'acc')} {v:.4f}"
            for k, v in event.logs.items()
            if k in ("loss", "accuracy", "val_loss", "val_accuracy")
        )
        self.bar.update(1)


COMMANDS = [train]
