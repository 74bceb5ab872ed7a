"""`melodynet tune`: search hyperparameters by validation loss (Optuna), resumable."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click

from melodynet.cli.errors import Command
from melodynet.cli.options import model_option, reading_options

PARAM_HELP = (
    "NAME=SPEC to search: a comma list is a choice (units=64,128,256), LOW:HIGH a range "
    "(dropout=0:0.5; LOW:HIGH:log for a log scale, learning-rate=1e-4:1e-2:log), one value "
    "fixes it. NAME is a training option (units, learning-rate, batch-size, window, "
    "epochs, patience, augment, encoding) or a parameter of the model (`melodynet models "
    "--describe MODEL`). Repeat for several."
)


@click.command(cls=Command)
@click.argument("songs", nargs=-1)
@model_option("tune")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=SPEC", help=PARAM_HELP)
@click.option(
    "--trials",
    default=20,
    show_default=True,
    help="Trials in all (complete or pruned); run again with more to continue a study.",
)
@click.option(
    "--validation-split",
    type=float,
    default=None,
    help="Hold out this fraction of the songs (whole songs, the same for every trial); "
    "trials are compared by their loss on them. Required.",
)
@click.option(
    "--epochs",
    default=100,
    show_default=True,
    help="Most epochs per trial (early stopping and pruning end most trials sooner).",
)
@click.option(
    "--random-seed",
    default=0,
    show_default=True,
    help="Seed for the search and for every trial's training: the same seed, the same study.",
)
@reading_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Study directory: study.db and the best trial's bundle (best/) "
    "[default: models/tune-SONG-MODEL]. An existing study there is resumed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
def tune(songs, model_name, params, out_dir, as_json, **options) -> None:
    """Search hyperparameters of a model on SONGS by validation loss.

    \b
    melodynet tune songs/*.txt --model mlp --validation-split 0.2 \\
        -p units=64,128,256 -p dropout=0:0.5 -p learning-rate=1e-4:1e-2:log --trials 20

    Each trial trains a model; the best trial's bundle is saved in OUT/best. The study is
    kept in OUT/study.db: the same command again resumes it (up to --trials in all), and
    Ctrl-C stops the running trial.
    """
    from melodynet.cli import info
    from melodynet.errors import MelodynetError, TrainingInterrupted
    from melodynet.tuning import default_out, parse_params
    from melodynet.tuning import tune as run_tune

    search = parse_params(params)
    if not songs:
        raise MelodynetError("give at least one SONG to tune on")
    out = out_dir or default_out(songs, model_name)
    printer = _Lines()
    try:
        result = run_tune(
            list(songs),
            model=model_name,
            search=search,
            out=out,
            progress=printer,
            **{k: v for k, v in options.items() if v is not None},
        )
    except TrainingInterrupted as exc:
        trial = getattr(exc, "trial", None)
        info(
            f"Interrupted{f' trial {trial}' if trial is not None else ''}: "
            f"{getattr(exc, 'finished', 0)} of {options['trials']} trials finished, kept in "
            f"{Path(out) / 'study.db'}; resume with: {_command_line()}"
        )
        sys.exit(130)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=1))
        return
    click.echo(format_table(result.trials, result.best))
    if result.best is None:
        info("No trial finished without being pruned: no bundle saved")
    else:
        info(f"Best: trial {result.best.number}, {result.best.describe()}; saved {result.path}")


class _Lines:
    """One line per trial on stderr, and the study's reports."""

    def __call__(self, event) -> None:
        from melodynet.cli import info

        if event.message:
            info(event.message)
        elif event.epoch is None and event.trial is not None:
            row = event.trial
            values = " ".join(f"{k}={_value(v)}" for k, v in row.params.items())
            info(
                f"trial {row.number} ({event.finished}/{event.trials}): {values}: "
                f"{row.describe()}, {row.seconds:.1f} s"
            )


def _value(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def format_table(rows, best) -> str:
    """The trials as an aligned table, the best marked with *."""
    names = list(dict.fromkeys(name for row in rows for name in row.params))
    notes = any(row.note and row.note != "diverged" for row in rows)
    header = ["trial", "state", "val loss", "epochs", "seconds", *names] + ["note"] * notes
    lines = []
    for row in rows:
        mark = "*" if best is not None and row.number == best.number else " "
        state = "diverged" if row.note == "diverged" else row.state
        lines.append(
            [
                f"{row.number}{mark}",
                state,
                f"{row.value:.4f}" if row.value is not None else "-",
                str(row.epochs) if row.epochs is not None else "-",
                f"{row.seconds:.1f}" if row.seconds is not None else "-",
                *(_value(row.params[n]) if n in row.params else "-" for n in names),
            ]
            + [row.note[:60] if row.note != "diverged" else ""] * notes
        )
    widths = [max(len(c) for c in column) for column in zip(header, *lines, strict=True)]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 1 or (notes and i == len(r) - 1) else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in [header, *lines]
    )


def _command_line() -> str:
    """The command as typed, to run again (``melodynet tune ...``)."""
    args = sys.argv[1:]
    if "tune" not in args:
        return "the same melodynet tune command"
    return shlex.join(["melodynet", *args])


COMMANDS = [tune]
