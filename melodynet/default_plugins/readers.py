"""Built-in song readers: tinyNotation text, and MIDI, MusicXML, ABC and Humdrum through
music21.

The music21 readers read a file tune by tune (``ReaderSpec.read_tunes``), as any plugin's
reader may, so one bad tune of an ABC book or an opus costs only itself.
"""

import warnings
from collections.abc import Iterator
from pathlib import Path

from melodynet.errors import SongError, one_line
from melodynet.hookspecs import ReaderSpec, ReadOptions, hookimpl
from melodynet.songs.song import Song


def read_text(path: Path, options: ReadOptions):
    from melodynet.songs.tinynotation import read_song

    return [read_song(path)]


def tunes_with_music21(path: Path, options: ReadOptions) -> Iterator[Song | SongError]:
    """Each tune's melody (tune N named ``PATH tune N`` when there are several), or the
    SongError that tune raised; a SongError is raised for a file music21 cannot read."""
    from melodynet.songs.scores import parse_scores, song_from_score

    # melodynet keeps its own cache of parsed songs; music21's pickles would only double it
    scores = parse_scores(path, forceSource=True, storePickle=False)
    for number, score in enumerate(scores, 1):
        where = f"{path} tune {number}" if len(scores) > 1 else str(path)
        try:
            with warnings.catch_warnings():  # music21 warns about what it fixes up
                warnings.simplefilter("ignore")
                song = song_from_score(score, where, options.part, options.warn)
        except SongError as exc:
            yield exc
            continue
        except Exception as exc:  # music21 fails on some odd scores (chordify, ties...)
            yield SongError(f"{where}: cannot take a melody ({one_line(exc)})")
            continue
        song.path = str(path)
        yield song


def tunes_from_midi(path: Path, options: ReadOptions) -> Iterator[Song | SongError]:
    from melodynet.songs.midi import check_midi

    check_midi(path)
    yield from tunes_with_music21(path, options)


def _all_tunes(tunes: Iterator[Song | SongError], path: Path, options: ReadOptions):
    """Every tune's song, or the first tune's error."""
    songs = []
    for tune in tunes:
        if isinstance(tune, SongError):
            raise tune
        songs.append(tune)
    if len(songs) > 1:
        options.warn(f"{path}: {len(songs)} tunes read")
    return songs


def read_with_music21(path: Path, options: ReadOptions):
    return _all_tunes(tunes_with_music21(path, options), path, options)


def read_midi(path: Path, options: ReadOptions):
    return _all_tunes(tunes_from_midi(path, options), path, options)


@hookimpl
def register_readers(register):
    register(ReaderSpec("tinynotation", (".txt",), read_text, "tinyNotation with # metadata"))
    register(
        ReaderSpec(
            "midi", (".mid", ".midi"), read_midi, "Standard MIDI file", read_tunes=tunes_from_midi
        )
    )
    register(
        ReaderSpec(
            "musicxml",
            (".musicxml", ".xml", ".mxl"),
            read_with_music21,
            "MusicXML",
            read_tunes=tunes_with_music21,
        )
    )
    register(
        ReaderSpec(
            "abc", (".abc",), read_with_music21, "ABC notation", read_tunes=tunes_with_music21
        )
    )
    register(
        ReaderSpec(
            "humdrum",
            (".krn",),
            read_with_music21,
            "Humdrum **kern through music21",
            read_tunes=tunes_with_music21,
        )
    )
