"""`melodynet crossval`: k-fold cross-validation over whole melodies, in bits per note."""

from __future__ import annotations

import json
from pathlib import Path

import click

from melodynet.cli.errors import Command
from melodynet.cli.options import mix_options, part_option

PARAM_HELP = (
    "NAME=VALUE: a parameter of ppm (models=stm|ltm|ltm+|both|both+, combination, bias, "
    "escape, order, interpolation, exclusion, update-exclusion and the same with stm-; "
    "see docs/benchmarks.md) or of a network model (`melodynet models --describe MODEL`). "
    "Repeat for several."
)
TRAIN_OPTIONS = (
    "epochs",
    "units",
    "window",
    "validation_split",
    "patience",
    "learning_rate",
    "batch_size",
    "encoding",
    "augment",
    "bar_inputs",
)
"""Training options passed to melodynet.train for a network (given only when set)."""


@click.command(cls=Command)
@click.argument("songs", nargs=-1)
@click.option(
    "--model",
    "model_name",
    default="ppm",
    show_default=True,
    help="ppm (IDyOM's PPM* long- and short-term models) or a network (`melodynet models`).",
)
@click.option("--folds", default=10, show_default=True, help="Folds of whole melodies.")
@click.option(
    "--predict",
    type=click.Choice(["pitch", "note"]),
    default="pitch",
    show_default=True,
    help="pitch: each note's MIDI pitch, rests dropped; note: pitch and duration, rests included.",
)
@click.option(
    "--random-seed",
    default=0,
    show_default=True,
    help="Seed of the folds (and of a network's training).",
)
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help=PARAM_HELP)
@click.option(
    "--ic-out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write every note's information content and entropy here (tab-separated, or "
    "comma-separated for .csv): melody.id, melody.name, fold, note.id, cpitch, dur, onset, "
    "probability, information.content, entropy.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--epochs", type=int, default=None, help="Network: most epochs per fold.")
@click.option("--units", type=int, default=None, help="Network: width of the main layers.")
@click.option("--window", type=int, default=None, help="Network: notes of context.")
@click.option(
    "--validation-split",
    type=float,
    default=None,
    help="Network: fraction of the training folds' songs held out for early stopping "
    "[default: 0.1; 0 trains without].",
)
@click.option("--patience", type=int, default=None, help="Network: early-stopping patience.")
@click.option("--learning-rate", type=float, default=None, help="Network: Adam learning rate.")
@click.option("--batch-size", type=int, default=None, help="Network: examples per step.")
@click.option("--encoding", default=None, help="Network: single or split.")
@click.option(
    "--augment", type=int, default=None, help="Network: also train on songs transposed ±N."
)
@click.option(
    "--bar-inputs",
    is_flag=True,
    default=None,
    help="Network: also give it where each note falls in its bar (train --bar-inputs).",
)
@mix_options
@click.option(
    "--ensemble",
    type=int,
    default=1,
    show_default=True,
    help="Network: train N networks per fold (seeds S..S+N-1) and average their predictions.",
)
@click.option(
    "--jobs", default=1, show_default=True, help="Processes that parse songs not yet in the cache."
)
@part_option
def crossval(
    songs,
    model_name,
    folds,
    predict,
    random_seed,
    params,
    ic_out,
    as_json,
    mix,
    mix_combination,
    mix_bias,
    ensemble,
    jobs,
    part,
    **train,
) -> None:
    """Cross-validate a model on SONGS and report bits per note, IDyOM's protocol:
    train on all folds but one, predict every note of the melodies of that one.

    \b
    melodynet crossval corpus:essenFolksong/kinder0
    melodynet crossval corpus:essenFolksong/kinder0 -p models=stm
    melodynet crossval corpus:essenFolksong/kinder0 --model stateful-lstm --epochs 50
    melodynet crossval corpus:essenFolksong/kinder0 --model stateful-lstm --mix both+

    A line per fold goes to stderr, the table to stdout. See docs/benchmarks.md.
    """
    import melodynet
    from melodynet.cli import info
    from melodynet.errors import MelodynetError
    from melodynet.params import parse_assignments

    if not songs:
        raise MelodynetError("give at least one SONG to cross-validate")
    given = parse_assignments(params)
    options = {k: v for k, v in train.items() if k in TRAIN_OPTIONS and v is not None}

    def on_fold(score) -> None:
        info(
            f"fold {score.fold + 1}/{folds}: {score.melodies} melodies, {score.notes} notes, "
            f"{score.bits_per_note:.4f} bits/note (melody mean {score.melody_mean:.4f}), "
            f"{score.seconds:.1f} s"
        )

    read = melodynet.read(list(songs), part=part, jobs=jobs)
    result = melodynet.crossval(
        read,
        model=model_name,
        folds=folds,
        predict=predict,
        random_seed=random_seed,
        params=given or None,
        ic_out=ic_out,
        on_fold=on_fold,
        mix=mix,
        mix_combination=mix_combination,
        mix_bias=mix_bias,
        ensemble=ensemble,
        **options,
    )
    if ic_out is not None:
        info(f"Wrote {ic_out} ({result.notes} notes)")
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=1))
        return
    click.echo(result.table())


COMMANDS = [crossval]
