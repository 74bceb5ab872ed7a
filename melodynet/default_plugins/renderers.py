"""Built-in renderers: SVG through verovio, PDF/PNG through LilyPond, WAV through FluidSynth
or the built-in synthesizer. Each imports its libraries only when it writes.

A song always gives one file: a long song's SVG is one tall page (see
``melodynet.render.svg``), its PNG one tall image, its PDF several A4 pages.
"""

from pathlib import Path

from melodynet.hookspecs import WriteOptions, WriterSpec, hookimpl
from melodynet.songs.song import Song


def write_svg(song: Song, path: Path, options: WriteOptions) -> None:
    from melodynet.render.svg import render_svg

    path.write_text(render_svg(song, options.tempo), encoding="utf-8")


def write_lilypond(song: Song, path: Path, options: WriteOptions) -> None:
    from melodynet.render.lilypond import write_engraving

    write_engraving(song, path, options.tempo)


def write_wav(song: Song, path: Path, options: WriteOptions) -> None:
    from melodynet.render.audio import write_wav as write

    write(song, path, options)


def check_lilypond(path: Path) -> None:
    from melodynet.render.lilypond import programs

    programs(path)


def check_wav(path: Path) -> None:
    from melodynet.render.audio import engine

    engine()  # a bad MELODYNET_SYNTH, or a FluidSynth it insists on that is missing


@hookimpl
def register_writers(register):
    register(WriterSpec("svg", (".svg",), write_svg, "sheet music through verovio (one tall page)"))
    register(
        WriterSpec(
            "lilypond",
            (".pdf", ".png"),
            write_lilypond,
            "sheet music through LilyPond (program)",
            check=check_lilypond,
        )
    )
    register(
        WriterSpec(
            "wav",
            (".wav",),
            write_wav,
            "audio through FluidSynth and a GM SoundFont, else the built-in synthesizer",
            check=check_wav,
        )
    )
