"""Options several commands share, and how they number several outputs."""

from __future__ import annotations

from pathlib import Path

import click

TEMPO_HELP = "Beats per minute for audio, MIDI and the score [default: the song's tempo]."
INSTRUMENT_HELP = "General MIDI program for audio and MIDI (0 = piano, 40 = violin, 73 = flute)."

model_dir_option = click.option(
    "--model-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Bundle to use: a directory, or the name of an installed pretrained bundle (see "
    "`melodynet bundles`) [default: the most recently trained].",
)
mode_option = click.option(
    "--mode",
    type=click.Choice(["full", "one-step"]),
    default="full",
    show_default=True,
    help="full: feed predictions back; one-step: feed the song's true notes.",
)
tempo_option = click.option("--tempo", type=float, default=None, help=TEMPO_HELP)
instrument_option = click.option(
    "--instrument", type=int, default=0, show_default=True, help=INSTRUMENT_HELP
)
part_option = click.option(
    "--part",
    type=int,
    default=None,
    help="Part to read from multi-part files (1 = top); default: the top line.",
)


def load_model(model_dir: Path | None):
    """The bundle asked for (or the latest), saying which, checked before TensorFlow loads."""
    import melodynet
    from melodynet.cli import info
    from melodynet.model import bundle_dir

    directory = bundle_dir(model_dir)
    info(f"Using model {directory}")
    return melodynet.load(directory)


def numbered(path: Path, index: int, count: int) -> Path:
    """song.mid, or song-1.mid, song-2.mid ... when several melodies are written."""
    return path if count == 1 else path.with_name(f"{path.stem}-{index + 1}{path.suffix}")


def model_option(job: str):
    """--model for a command that trains one (``job``: train, tune): a model plugin's name,
    stateful-lstm by default, as ``melodynet.train`` takes it."""
    return click.option(
        "--model",
        "model_name",
        default="stateful-lstm",
        show_default=True,
        help=f"Model to {job} (see `melodynet models`).",
    )


param_option = click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A model parameter (see `melodynet models --describe MODEL`); repeat for several.",
)


def constraint_options(command):
    """--key, --chromatic, --meter, --bars, --pickup, --range, --end, --form, --no-copy."""
    options = [
        click.option(
            "--key", default=None, help="Every pitch in this key: D, 'D major', e, 'a dorian'."
        ),
        click.option(
            "--chromatic", is_flag=True, help="With --key: allow pitches outside the scale."
        ),
        click.option(
            "--meter", default=None, help="Time signature for --bars [default: the song's]."
        ),
        click.option(
            "--bars", type=int, default=None, help="Fill exactly N bars (per --form section)."
        ),
        click.option(
            "--pickup", default=None, help="An opening partial bar: 1/2 (quarter notes) or 8."
        ),
        click.option("--range", "range", default=None, help="Lowest-highest pitch, e.g. D4-D6."),
        click.option(
            "--end", type=click.Choice(["tonic"]), default=None, help="End on the key's tonic."
        ),
        click.option("--form", default=None, help="Sections, e.g. AABB: equal letters repeat."),
        click.option(
            "--no-copy",
            type=int,
            default=None,
            help="No N notes in a row of a training song (in any transposition) after the primer",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def mix_options(command):
    """--mix, --mix-combination, --mix-bias: PPM models mixed with a network's predictions
    (``crossval`` scores with them, ``generate`` writes with them)."""
    options = [
        click.option(
            "--mix",
            default="none",
            show_default=True,
            metavar="MODELS",
            help="Combine the network's prediction of each pitch with PPM models, as IDyOM "
            "combines its own: stm (PPM over the melody so far), ltm (PPM over the training "
            "songs), ltm+ (which also learns each melody scored), both (ltm,stm), both+ "
            "(ltm+,stm), and the same over viewpoints, VIEWPOINT-ltm, -ltm+ or -stm: "
            "interval, degree (from the key), linked with fib, ioi or beat "
            "(interval-degree-ltm+, degree-beat-ltm+; docs/benchmarks.md); several with "
            "commas: both+,interval-ltm+. crossval's ppm with --mix: those models alone.",
        ),
        click.option(
            "--mix-combination",
            type=click.Choice(["geometric", "arithmetic"]),
            default="geometric",
            show_default=True,
            help="With --mix: entropy-weighted geometric or arithmetic mean.",
        ),
        click.option(
            "--mix-bias",
            type=float,
            default=1.0,
            show_default=True,
            help="With --mix: entropy-weighting bias b (weights (H/log2|A|)^-b; 0: equal).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def reading_options(command):
    """--strict, --transpose, --quantize, --jobs and --part: how songs are read and
    prepared for training."""
    options = [
        click.option("--strict", is_flag=True, help="Stop at the first song that cannot be used."),
        click.option(
            "--transpose",
            default=None,
            help="'common' (every song to C major / A minor) or a number of semitones.",
        ),
        click.option(
            "--quantize",
            default=None,
            help="Snap durations to a grid in quarter notes, e.g. 1/4 or 1/12.",
        ),
        click.option(
            "--jobs",
            default=1,
            show_default=True,
            help="Processes that parse songs not yet in the cache.",
        ),
        part_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command
