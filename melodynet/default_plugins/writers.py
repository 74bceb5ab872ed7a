"""Built-in writers: MIDI through mido, tinyNotation text, MusicXML through music21."""

from pathlib import Path

from melodynet.hookspecs import WriteOptions, WriterSpec, hookimpl
from melodynet.songs.song import Song


def write_midi(song: Song, path: Path, options: WriteOptions) -> None:
    """One track: tempo, time signature, program, then notes; rests are gaps."""
    from melodynet.songs.midi import write_midi as write

    write(song, path, options.tempo, options.instrument)


def write_text(song: Song, path: Path, options: WriteOptions) -> None:
    from melodynet.songs.tinynotation import format_song

    path.write_text(format_song(song), encoding="utf-8")


def write_musicxml(song: Song, path: Path, options: WriteOptions) -> None:
    """The engraved score (measures, key signature, spelled pitches); ``.mxl`` compressed."""
    from melodynet.render.notation import musicxml, write_mxl

    if path.suffix.lower() == ".mxl":
        write_mxl(song, path, options.tempo)
    else:
        path.write_text(musicxml(song, options.tempo), encoding="utf-8")


@hookimpl
def register_writers(register):
    register(WriterSpec("midi", (".mid", ".midi"), write_midi, "MIDI through mido"))
    register(WriterSpec("tinynotation", (".txt",), write_text, "tinyNotation text"))
    register(
        WriterSpec(
            "musicxml", (".musicxml", ".xml", ".mxl"), write_musicxml, "MusicXML through music21"
        )
    )
