"""The `render` and `report` commands, and the learning-curve helper behind `train --plot`.

Nothing heavy is imported here: music21, verovio, numpy, matplotlib and
TensorFlow load inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import click

from melodynet.atomic import check_target
from melodynet.errors import MelodynetError


def _info(message: str) -> None:
    click.echo(message, err=True)


def check_render_options(tempo: float | None, instrument: int) -> None:
    if tempo is not None and not tempo > 0:
        raise MelodynetError(f"--tempo must be a positive number of beats per minute, not {tempo}")
    if not 0 <= instrument <= 127:
        raise MelodynetError(
            f"--instrument must be a General MIDI program from 0 to 127, not {instrument}"
        )


def check_plot_path(path: Path) -> None:
    """Fail early (before training) if ``train --plot PATH`` cannot be written."""
    from melodynet.render.curves import check_path

    check_path(path)


def write_curves(history, path: Path, title: str = "") -> None:
    """Learning curves (loss and accuracy per epoch) to ``path``: .png, .svg or .pdf, atomically."""
    from melodynet.render.curves import write_curves as write

    write(history, Path(path), title)


mode_option = click.option(
    "--mode",
    type=click.Choice(["full", "one-step"]),
    default="full",
    show_default=True,
    help="full: feed predictions back; one-step: feed the song's true notes.",
)
TEMPO_HELP = "Beats per minute for audio, MIDI and the score [default: the song's tempo]."
INSTRUMENT_HELP = "General MIDI program for audio and MIDI (0 = piano, 40 = violin, 73 = flute)."


@click.command()
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
@click.option(
    "--part",
    type=int,
    default=None,
    help="Part to read from multi-part files (1 = top); default: the top line.",
)
@click.option("--tempo", type=float, default=None, help=TEMPO_HELP)
@click.option("--instrument", type=int, default=0, show_default=True, help=INSTRUMENT_HELP)
def render(song, outputs, part, tempo, instrument) -> None:
    """Convert SONG to sheet music, audio or another song format.

    \b
    melodynet render songs/butterfly.txt --out butterfly.svg --out butterfly.wav
    """
    from melodynet.hookspecs import WriteOptions
    from melodynet.songio import check_writable, read_songs, write_song

    check_render_options(tempo, instrument)
    check_writable(outputs)
    songs = read_songs([song], part=part, warn=_info)
    if len(songs) > 1:
        _info(f"{song}: {len(songs)} tunes; rendering the first ({songs[0].title or 'untitled'})")
    options = WriteOptions(tempo=tempo, instrument=instrument)
    for path in outputs:
        write_song(songs[0], path, options)
        _info(f"Wrote {path}")


def _check_report_path(path: Path) -> None:
    if path.suffix.lower() not in (".html", ".htm"):
        raise MelodynetError(f"{path}: the report is HTML; name it with .html")
    check_target(path)


def _facts(trained, options) -> list[tuple[str, str]]:
    from melodynet.render import audio

    meta = trained.meta
    stopped = " (stopped early)" if meta.metrics.get("stopped_early") else ""
    if audio.engine() == "fluidsynth":
        sound = f"FluidSynth with {audio.soundfont()}"
    else:
        sound = "the built-in synthesizer"
    tempo = f", {options.tempo:g} bpm" if options.tempo else ""
    return [
        (
            "model",
            f"{meta.model} ({meta.encoding} encoding, window {meta.window}, {meta.units} units)",
        ),
        ("bundle", str(trained.directory)),
        ("trained on", ", ".join(f"{s.name} ({len(s)} notes)" for s in trained.songs)),
        (
            "training",
            f"{meta.epochs_run} of {meta.epochs} epochs{stopped}, batch size {meta.batch_size}, "
            f"learning rate {meta.learning_rate:g}, random seed {meta.random_seed}",
        ),
        ("created", f"{meta.created or 'unknown'} by melodynet {meta.melodynet_version or '?'}"),
        ("audio", f"{sound}, General MIDI program {options.instrument}{tempo}"),
    ]


@click.command()
@click.option(
    "--model-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Bundle to report on [default: the most recently trained].",
)
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
@click.option("--tempo", type=float, default=None, help=TEMPO_HELP)
@click.option("--instrument", type=int, default=0, show_default=True, help=INSTRUMENT_HELP)
def report(model_dir, out, primer, length, mode, song_names, tempo, instrument) -> None:
    """Write an HTML report on a trained model.

    The original and the generated melody engraved one above the other, the wrong
    notes in red, audio players for both, the one-step and full-song figures per
    training song, and the learning curves: one self-contained HTML file.
    """
    from melodynet.atomic import write_text
    from melodynet.evaluation import score_all
    from melodynet.generation import generate_song
    from melodynet.hookspecs import WriteOptions
    from melodynet.render import audio
    from melodynet.render.report import Comparison, build_report

    _check_report_path(out)
    check_render_options(tempo, instrument)
    audio.engine()
    from melodynet.trained import open_bundle

    trained = open_bundle(model_dir, _info)
    names = list(song_names) or [s.name for s in trained.songs]
    comparisons = []
    for name in names:
        result = generate_song(trained, primer, length, mode, name)
        original = next(s for s in trained.songs if name in (s.name, s.title, s.path))
        comparisons.append(
            Comparison(original, result.song, result.primer_length, result.compared, mode)
        )
        if result.compared:
            _info(f"{original.name}: {result.matches}/{result.compared} generated notes match")
    scores = [s.to_json() for s in score_all(trained)]
    options = WriteOptions(tempo=tempo, instrument=instrument)
    songs = ", ".join(s.name for s in trained.songs)
    html = build_report(
        f"melodynet report: {trained.meta.model} on {songs}",
        _facts(trained, options),
        scores,
        trained.meta.history,
        comparisons,
        options,
    )
    write_text(out, html)
    _info(f"Wrote {out}")
