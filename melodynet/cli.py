"""The `melodynet` command line. TensorFlow and music21 are imported inside commands only."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from melodynet import __version__
from melodynet.errors import MelodynetError
from melodynet.plugins import registry
from melodynet.render_cli import (
    INSTRUMENT_HELP,
    TEMPO_HELP,
    check_plot_path,
    check_render_options,
    mode_option,
    render,
    report,
    write_curves,
)

DEFAULT_PATIENCE = 5
"""Epochs without a better validation loss before training stops, when a split is given."""


def _info(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="melodynet")
def cli() -> None:
    """Learn melodies and write new ones.

    \b
    melodynet train songs/butterfly.txt --model stateful-lstm
    melodynet generate --seed 4 --out song.mid
    """


@cli.command()
@click.argument("songs", nargs=-1)
@click.option(
    "--model",
    "model_name",
    default="stateful-lstm",
    show_default=True,
    help="Model to train (see `melodynet models`).",
)
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
@click.option("--strict", is_flag=True, help="Stop at the first song that cannot be used.")
@click.option(
    "--transpose",
    "transpose_to",
    default=None,
    help="'common' (every song to C major / A minor) or a number of semitones.",
)
@click.option(
    "--augment",
    default=0,
    show_default=True,
    help="Also train on each song transposed by -N..+N semitones.",
)
@click.option(
    "--quantize",
    "quantize_grid",
    default=None,
    help="Snap durations to a grid in quarter notes, e.g. 1/4 or 1/12.",
)
@click.option(
    "--jobs", default=1, show_default=True, help="Processes that parse songs not yet in the cache."
)
@click.option(
    "--strategy",
    type=click.Choice(["none", "mirrored", "multi-worker"]),
    default="none",
    show_default=True,
    help="Train on every local device (mirrored) or on the workers TF_CONFIG names "
    "(multi-worker); see docs/scaling.md.",
)
@click.option(
    "--part",
    type=int,
    default=None,
    help="Part to read from multi-part files (1 = top); default: the top line.",
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
def train(
    songs,
    model_name,
    encoding,
    window,
    epochs,
    batch_size,
    learning_rate,
    units,
    random_seed,
    stop_when_perfect,
    validation_split,
    patience,
    strict,
    transpose_to,
    augment,
    quantize_grid,
    jobs,
    strategy,
    part,
    out_dir,
    force,
    resume,
    checkpoint_every,
    tensorboard,
    plot,
) -> None:
    """Train a model on SONGS: files, directories, globs, or music21's bundled corpus
    (corpus:essenFolksong, corpus:essenFolksong/kinder0).

    Ctrl-C saves the bundle as it stands; `--resume DIR` continues it exactly.
    """
    from melodynet import bundle
    from melodynet.learn import LearnOptions
    from melodynet.session import resume_options, run_training
    from melodynet.trained import load_for_resume

    for value, name in (
        (epochs, "--epochs"),
        (batch_size, "--batch-size"),
        (units, "--units"),
        (checkpoint_every, "--checkpoint-every"),
        (patience, "--patience"),
    ):
        if value is not None and value < 1:
            raise MelodynetError(f"{name} must be at least 1, not {value}")
    if patience is not None and not validation_split:
        raise MelodynetError("--patience watches the validation loss: add --validation-split")
    if learning_rate <= 0:
        raise MelodynetError(f"--learning-rate must be positive, not {learning_rate}")
    if plot:
        check_plot_path(plot)
    if resume is not None:
        if songs:
            raise MelodynetError("--resume continues a bundle with its own songs; give no SONGS")
        bundle.read_meta(resume)
        trained = load_for_resume(resume)
        options = resume_options(trained, epochs)
        _info(f"Resuming {resume} at epoch {trained.meta.epochs_run} of {options.epochs}")
        loaded, target = trained.songs, resume
    else:
        if not songs:
            raise MelodynetError("give at least one SONG to train on (or --resume DIR)")
        reg = registry()
        reg.model(model_name)  # fail on a bad name before reading anything
        reg.encoding(encoding)
        loaded = _collect(songs, part, strict, window, transpose_to, quantize_grid, augment, jobs)
        target = out_dir or bundle.default_dir(loaded, reg.model(model_name).name)
        if target.exists() and not force:
            raise MelodynetError(
                f"{target} already exists; add --force to replace it, or --out DIR"
            )
        options = LearnOptions(
            model=model_name,
            encoding=encoding,
            window=window,
            units=units,
            epochs=epochs or 500,
            batch_size=batch_size,
            learning_rate=learning_rate,
            seed=random_seed,
            stop_when_perfect=stop_when_perfect,
            validation_split=validation_split,
            patience=patience if patience or not validation_split else DEFAULT_PATIENCE,
            strategy=strategy,
            augment=augment,
        )
        trained = None
        described = ", ".join(f"{s.name} ({len(s)} notes)" for s in loaded[:5])
        more = f" and {len(loaded) - 5} more" if len(loaded) > 5 else ""
        _info(
            f"Training {options.model} ({options.encoding} encoding, window {window}) on "
            f"{described}{more}"
        )
    result = run_training(
        loaded,
        options,
        target,
        _info,
        resume=trained,
        checkpoint_every=checkpoint_every,
        tensorboard=tensorboard,
    )
    if plot:
        write_curves(result.meta.history, plot, title=target.name)
        _info(f"Wrote {plot}")


def _collect(inputs, part, strict, window, transpose_to, quantize_grid, augment, jobs):
    """The songs to train on, read, cached and preprocessed, with every skip reported."""
    from melodynet import preprocess
    from melodynet.corpus import collect
    from melodynet.learn import check_songs

    how = preprocess.parse_transpose(transpose_to) if transpose_to else None
    grid = preprocess.parse_grid(quantize_grid) if quantize_grid else None
    if augment < 0:
        raise MelodynetError(f"--augment must be at least 0, not {augment}")
    if jobs < 1:
        raise MelodynetError(f"--jobs must be at least 1, not {jobs}")
    songs = collect(
        list(inputs), part=part, strict=strict, window=window, say=_info, jobs=jobs
    ).songs
    if grid is not None:
        songs = preprocess.quantize_all(songs, grid, say=_info, strict=strict)
    if how is not None:
        songs = preprocess.transpose_all(songs, how, say=_info, strict=strict)
    check_songs(songs, window)  # quantising can shorten a song
    return songs


def _load(model_dir: Path | None):
    from melodynet.trained import open_bundle

    return open_bundle(model_dir, _info)


@cli.command()
@click.option(
    "--model-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Bundle to use [default: the most recently trained].",
)
@click.option(
    "--seed",
    "primer",
    default=None,
    help="Primer: a count of leading notes of the training song, notes in tinyNotation "
    'such as "g8 e8 e4 f8", or a song file [default: the model\'s window].',
)
@click.option(
    "--length",
    type=int,
    default=None,
    help="Notes to generate [default: the rest of the training song].",
)
@mode_option
@click.option(
    "--song",
    "song_name",
    default=None,
    help="Training song the primer and comparison come from [default: the first].",
)
@click.option(
    "--out",
    "outputs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Write the result; the suffix picks the format (.mid, .txt, .musicxml, .svg, .pdf, "
    ".png, .wav). Repeat for several.",
)
@click.option("--tempo", type=float, default=None, help=TEMPO_HELP)
@click.option("--instrument", type=int, default=0, show_default=True, help=INSTRUMENT_HELP)
@click.option(
    "--num-outputs",
    default=1,
    show_default=True,
    help="Melodies to generate as one batch; with several, FILE becomes FILE-1 ...",
)
@click.option(
    "--temperature",
    type=float,
    default=None,
    help="Sample instead of taking the likeliest note: below 1 safer, above 1 wilder.",
)
@click.option("--top-k", type=int, default=None, help="Sample among the K likeliest notes.")
@click.option(
    "--top-p",
    type=float,
    default=None,
    help="Sample among the likeliest notes that together hold this probability.",
)
@click.option(
    "--beam-size",
    type=int,
    default=None,
    help="Search for the likeliest whole melody, keeping this many candidates.",
)
@click.option(
    "--random-seed",
    default=0,
    show_default=True,
    help="Seed for sampling: the same seed gives the same melodies.",
)
def generate(
    model_dir,
    primer,
    length,
    mode,
    song_name,
    outputs,
    tempo,
    instrument,
    num_outputs,
    temperature,
    top_k,
    top_p,
    beam_size,
    random_seed,
) -> None:
    """Continue a primer with a trained model and write the melody.

    Greedy by default (the likeliest note each time); --temperature, --top-k or --top-p
    sample instead; --beam-size searches for the likeliest whole melody.
    """
    from melodynet.generation import generate_songs
    from melodynet.hookspecs import WriteOptions
    from melodynet.sampling import Sampling
    from melodynet.songio import check_writable, write_song

    check_render_options(tempo, instrument)
    if top_k is not None or top_p is not None:
        temperature = temperature or 1.0
    sampling = Sampling(temperature, top_k, top_p, random_seed)
    paths = [[_numbered(path, k, num_outputs) for path in outputs] for k in range(num_outputs)]
    check_writable([p for group in paths for p in group])
    trained = _load(model_dir)
    results = generate_songs(
        trained, primer, length, mode, song_name, num_outputs, sampling, beam_size
    )
    options = WriteOptions(tempo=tempo, instrument=instrument)
    for result, group in zip(results, paths, strict=True):
        click.echo(result.song.tiny())
        if result.matches is not None:
            _info(
                f"{result.matches}/{result.compared} generated notes match "
                f"{result.reference} in position"
            )
        for path in group:
            write_song(result.song, path, options)
            _info(f"Wrote {path}")


def _numbered(path: Path, index: int, count: int) -> Path:
    """song.mid, or song-1.mid, song-2.mid ... when several melodies are written."""
    return path if count == 1 else path.with_name(f"{path.stem}-{index + 1}{path.suffix}")


@cli.command()
@click.option(
    "--model-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Bundle to use [default: the most recently trained].",
)
@click.option(
    "--stats",
    "stats_count",
    type=int,
    default=0,
    help="Also sample N melodies (temperature 1) and compare their musical statistics "
    "with the training songs.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate(model_dir, as_json, stats_count) -> None:
    """One-step accuracy and full-song matches on each training song; on held-out songs
    (--validation-split), NLL and accuracy against two baselines."""
    from melodynet.evaluation import score_all

    trained = _load(model_dir)
    scores = score_all(trained)
    comparison = _heldout(trained)
    stats = _stats(trained, stats_count) if stats_count else []
    if as_json:
        report = {
            "model_dir": str(trained.directory),
            "model": trained.meta.model,
            "encoding": trained.meta.encoding,
            "window": trained.meta.window,
            "songs": [s.to_json() for s in scores],
        }
        if comparison:
            report["heldout"] = [c.to_json() for c in comparison]
        if stats:
            report["stats"] = [row.to_json() for row in stats]
        click.echo(json.dumps(report, indent=1))
        return
    for s in scores:
        click.echo(
            f"{s.song}: one-step {s.one_step_correct}/{s.one_step_total} "
            f"({s.one_step_accuracy:.1%}), full song {s.full_song_matches}/"
            f"{s.full_song_length}"
        )
    if len(scores) > 1:
        right, total = (
            sum(s.one_step_correct for s in scores),
            sum(s.one_step_total for s in scores),
        )
        matched = sum(s.full_song_matches for s in scores)
        click.echo(
            f"all {len(scores)} training songs: one-step {right}/{total} "
            f"({right / max(total, 1):.1%}), full song {matched}/{total}"
        )
    if comparison:
        click.echo(f"held out ({len(trained.meta.validation_songs)} songs):")
        for c in comparison:
            click.echo(f"  {c.line()}")
    if stats:
        from melodynet.stats import format_comparison

        click.echo(f"musical statistics of {stats_count} sampled melodies vs the training songs:")
        click.echo(format_comparison(stats))


def _stats(trained, count: int) -> list:
    """Sample ``count`` melodies from the first training song's opening (as long as it) and
    compare their statistics with the training songs'."""
    from melodynet.generation import generate_songs
    from melodynet.sampling import Sampling
    from melodynet.stats import compare

    if count < 0:
        raise MelodynetError(f"--stats must be 0 or more, not {count}")
    results = generate_songs(trained, None, None, "full", None, count, Sampling(1.0))
    return compare([r.song for r in results], trained.songs)


def _heldout(trained) -> list:
    """The model and the two baselines on the bundle's held-out songs, if it has any."""
    from melodynet.baselines import evaluate_baselines
    from melodynet.evaluation import heldout_score
    from melodynet.song import Song

    held = [Song.from_json(s) for s in trained.meta.validation_songs]
    if not held:
        return []
    window = trained.meta.window
    baselines = evaluate_baselines(
        trained.songs, held, window, 3, vocabulary_songs=trained.songs + held
    )
    return [heldout_score(trained, held), *baselines]


@cli.command()
def models() -> None:
    """List the available models and the plugin that provides each."""
    reg = registry()
    rows = []
    for name, provided in sorted(reg.models.items()):
        spec = provided.spec
        info = next(p for p in reg.plugins if p.name == provided.plugin)
        source = "built-in" if info.builtin else f"{info.distribution} {info.version}"
        kind = "sequence" if spec.sequence else "window"
        aliases = f" (alias: {', '.join(spec.aliases)})" if spec.aliases else ""
        rows.append((name, kind, source, spec.description + aliases))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(w) for cell, w in zip(row, [*widths, 0], strict=True)).rstrip()
        )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def plugins(as_json) -> None:
    """List installed plugins: distribution, version, hooks and status."""
    reg = registry()
    if as_json:
        click.echo(json.dumps([p.to_json() for p in reg.plugins], indent=1))
        return
    for p in reg.plugins:
        line = f"{p.name:36} {p.distribution or '-'} {p.version}  hooks: {', '.join(p.hooks)}"
        if p.error:
            line += f"  FAILED: {p.error}"
        click.echo(line)


cli.add_command(render)
cli.add_command(report)


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before anything imports TensorFlow
    registry(cli)  # plugins may add commands, so load them before parsing
    _exit(_run())


def _run() -> int:
    """Run the command line; every outcome becomes an exit code and at most one line."""
    try:
        result = cli.main(prog_name="melodynet", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:  # a bug, not the user's fault: one line unless debugging
        if os.environ.get("MELODYNET_DEBUG"):
            raise
        text = " ".join(str(exc).split())[:300]
        click.echo(
            f"Error: internal error: {type(exc).__name__}: {text} "
            "(set MELODYNET_DEBUG=1 to see the traceback)",
            err=True,
        )
        return 1
    return result if isinstance(result, int) else 0


def _exit(code: int) -> None:
    """Exit without TensorFlow's interpreter-shutdown teardown, which costs ~0.8 s.

    Every file melodynet writes is complete (written and renamed) before this point.
    """
    if "tensorflow" not in sys.modules:
        sys.exit(code)
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
