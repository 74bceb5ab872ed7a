"""`melodynet render` (any song to sheet music, audio or another format) and `report`."""

from __future__ import annotations

from pathlib import Path

import click

from melodynet.cli.errors import Command
from melodynet.cli.options import (
    constraint_options,
    instrument_option,
    load_model,
    mode_option,
    model_dir_option,
    part_option,
    tempo_option,
)


@click.command(cls=Command)
@click.argument("song", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "outputs",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="File to write; the suffix picks the format: .svg, .pdf, .png (LilyPond), .wav, "
    ".mid, .musicxml, .txt. Repeat for several.",
)
@part_option
@tempo_option
@instrument_option
def render(song, outputs, part, tempo, instrument) -> None:
    """Convert SONG to sheet music, audio or another song format.

    \b
    melodynet render songs/butterfly.txt --out butterfly.svg --out butterfly.wav
    """
    from melodynet.cli import info
    from melodynet.hookspecs import WriteOptions
    from melodynet.songs.files import check_writable, check_write_options, read_songs

    check_write_options(WriteOptions(tempo, instrument))
    check_writable(outputs)
    songs = read_songs([song], part=part, warn=info)
    if len(songs) > 1:
        info(f"{song}: {len(songs)} tunes; rendering the first ({songs[0].title or 'untitled'})")
    for path in outputs:
        songs[0].write(path, tempo=tempo, instrument=instrument)
        info(f"Wrote {path}")


@click.command(cls=Command)
@model_dir_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="The HTML file to write (self-contained: scores, audio and curves inline).",
)
@click.option(
    "--seed",
    "primer",
    default=None,
    help="Primer: a count of leading notes of each song, or notes in tinyNotation "
    "[default: the model's window].",
)
@click.option(
    "--length",
    type=int,
    default=None,
    help="Notes to generate [default: the rest of each song].",
)
@mode_option
@click.option(
    "--song",
    "song_names",
    multiple=True,
    help="Training song to compare; repeat for several [default: every training song].",
)
@tempo_option
@instrument_option
@click.option(
    "--bits",
    is_flag=True,
    help="Show the loss per note in bits (nats / ln 2) beside the nats, in the table "
    "and on the learning curves.",
)
@constraint_options
def report(
    model_dir, out, primer, length, mode, song_names, tempo, instrument, bits, **constraints
):
    """Write an HTML report on a trained model.

    The original and the generated melody engraved one above the other, the wrong
    notes in red, audio players for both, the one-step and full-song figures per
    training song, the loss per note (nats; --bits: and bits) on the training and
    held-out songs, and the learning curves: one self-contained HTML file.
    """
    from melodynet.cli import info
    from melodynet.hookspecs import WriteOptions
    from melodynet.render.report import check_report_path
    from melodynet.songs.files import check_write_options

    check_report_path(out)
    check_write_options(WriteOptions(tempo, instrument))
    model = load_model(model_dir)
    made = model.report(
        out,
        primer=primer,
        length=length,
        mode=mode,
        songs=list(song_names) or None,
        tempo=tempo,
        instrument=instrument,
        bits=bits,
        **constraints,
    )
    for song in made:
        if "matches" in song.extra:
            info(
                f"{song.extra['reference']}: {song.extra['matches']}/{song.extra['compared']} "
                "generated notes match"
            )
    info(f"Wrote {out}")


COMMANDS = [render, report]
