"""Built-in song readers: tinyNotation text, and MIDI, MusicXML and ABC through music21."""

from pathlib import Path

from melodynet.errors import SongError
from melodynet.hookspecs import ReaderSpec, ReadOptions, hookimpl


def read_text(path: Path, options: ReadOptions):
    from melodynet.tinynotation import read_song

    return [read_song(path)]


def read_with_music21(path: Path, options: ReadOptions):
    from music21 import converter, stream

    from melodynet.m21 import song_from_score

    try:
        parsed = converter.parse(str(path))
    except Exception as exc:  # music21 raises many types for malformed files
        text = " ".join(str(exc).split())[:200]
        raise SongError(
            f"{path}: cannot read as {path.suffix[1:]} ({text or type(exc).__name__})"
        ) from exc
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    songs = [song_from_score(s, str(path), options.part, options.warn) for s in scores]
    if len(songs) > 1:
        options.warn(f"{path}: {len(songs)} tunes read")
    return songs


@hookimpl
def register_readers(register):
    register(ReaderSpec("tinynotation", (".txt",), read_text, "tinyNotation with # metadata"))
    register(ReaderSpec("midi", (".mid", ".midi"), read_with_music21, "Standard MIDI file"))
    register(ReaderSpec("musicxml", (".musicxml", ".xml", ".mxl"), read_with_music21, "MusicXML"))
    register(ReaderSpec("abc", (".abc",), read_with_music21, "ABC notation"))
