"""`melodynet generate`: continue a primer with a trained model and write the melody."""

from __future__ import annotations

from pathlib import Path

import click

from melodynet.cli.errors import Command
from melodynet.cli.options import (
    constraint_options,
    instrument_option,
    load_model,
    mix_options,
    mode_option,
    model_dir_option,
    numbered,
    tempo_option,
)


@click.command(cls=Command)
@model_dir_option
@click.option(
    "--seed",
    "primer",
    default=None,
    help="Primer: a count of leading notes of the training song, notes in tinyNotation "
    'such as "g8 e8 e4 f8", or a song file (.mid, .txt, .musicxml) [default: the model\'s '
    "window]. A model trained with --transpose common continues it in its own key (found "
    "by analysis) or in --key.",
)
@click.option(
    "--quantize",
    is_flag=True,
    help="Move each primer note the model does not know to the nearest one it knows "
    "(nearest duration, then pitch) instead of stopping; a line says which.",
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
@tempo_option
@instrument_option
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
@constraint_options
@mix_options
def generate(model_dir, outputs, tempo, instrument, num_outputs, **options) -> None:
    """Continue a primer with a trained model and write the melody.

    Greedy by default (the likeliest note each time); --temperature, --top-k or --top-p
    sample instead; --beam-size searches for the likeliest whole melody. --key, --meter,
    --bars, --range, --end, --form and --no-copy are guarantees: every melody satisfies them.
    --mix weighs each pitch with PPM models too (from the training songs and the melody so
    far), as crossval scores.
    """
    from melodynet.cli import info
    from melodynet.errors import OptionError
    from melodynet.hookspecs import WriteOptions
    from melodynet.songs.files import check_writable, check_write_options

    write = WriteOptions(tempo=tempo, instrument=instrument)
    check_write_options(write)
    if num_outputs < 1:
        raise OptionError(f"num_outputs must be at least 1, not {num_outputs}", "num_outputs")
    paths = [[numbered(path, k, num_outputs) for path in outputs] for k in range(num_outputs)]
    check_writable([p for group in paths for p in group])
    from melodynet.generation.primer import UnknownPrimerNote

    model = load_model(model_dir)
    try:
        songs = model.generate(num_outputs=num_outputs, **options)
    except UnknownPrimerNote as exc:
        raise OptionError(f"{exc.detail}; --quantize moves such notes there", "primer") from None
    songs = songs if isinstance(songs, list) else [songs]
    if "primer_key" in songs[0].extra:
        key, moved = songs[0].extra["primer_key"], int(songs[0].extra["primer_moved"])
        info(
            f"primer in {key} (found by key analysis): moved {moved:+d} semitones into the "
            f"model's key, continued there, and the melody moved back into {key}"
        )
    for song, group in zip(songs, paths, strict=True):
        click.echo(song.tiny())
        if "matches" in song.extra:
            info(
                f"{song.extra['matches']}/{song.extra['compared']} generated notes match "
                f"{song.extra['reference']} in position"
            )
        info(f"longest run shared with the training songs: {song.extra['longest_copy']} notes")
        for path in group:
            song.write(path, tempo=tempo, instrument=instrument)
            info(f"Wrote {path}")


COMMANDS = [generate]
