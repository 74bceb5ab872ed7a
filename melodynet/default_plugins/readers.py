"""Built-in song readers: tinyNotation text, and MIDI, MusicXML and ABC through music21."""

import warnings
from pathlib import Path

from melodynet.errors import SongError
from melodynet.hookspecs import ReaderSpec, ReadOptions, hookimpl
from melodynet.meters import check_meters, meter_problem


def read_text(path: Path, options: ReadOptions):
    from melodynet.tinynotation import read_song

    return [read_song(path)]


MAX_MIDI_BEATS = 20_000  # hours of music; music21 takes minutes on longer files


def check_midi(path: Path) -> None:
    """music21 reads damaged MIDI files without complaint; mido is strict, so ask it first."""
    import mido

    try:
        midi = mido.MidiFile(str(path))
    except EOFError:
        raise SongError(f"{path}: truncated MIDI file (it ends in the middle of a track)") from None
    except Exception as exc:  # mido raises OSError, ValueError, KeyError... on garbage
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise SongError(f"{path}: not a valid MIDI file ({text})") from exc
    if midi.type == 2 or not midi.ticks_per_beat:
        raise SongError(
            f"{path}: MIDI file type {midi.type} with {midi.ticks_per_beat} ticks per "
            "beat is not a song melodynet reads (expected type 0 or 1)"
        )
    beats = max((sum(m.time for m in track) for track in midi.tracks), default=0)
    beats /= midi.ticks_per_beat
    if beats > MAX_MIDI_BEATS:
        raise SongError(
            f"{path}: lasts {beats:.0f} beats; melodynet reads songs of up to "
            f"{MAX_MIDI_BEATS} beats"
        )
    for track in midi.tracks:
        for message in track:
            if message.type == "time_signature":
                problem = meter_problem(message.numerator, message.denominator)
                if problem:
                    raise SongError(f"{path}: {problem}")
    channels = {m.channel for t in midi.tracks for m in t if m.type == "note_on" and m.velocity}
    if not channels:
        raise SongError(f"{path}: no notes found")
    if channels == {9}:
        raise SongError(f"{path}: only drums (MIDI channel 10), no melody to learn")


def read_midi(path: Path, options: ReadOptions):
    check_midi(path)
    return read_with_music21(path, options)


def parse_scores(path: Path, **parse_options) -> list:
    """The scores in a file music21 reads (one per tune), or a SongError saying why not.

    Absurd meters are refused first: music21 would spend minutes on them.
    """
    from music21 import converter, stream

    check_meters(path)
    try:
        with warnings.catch_warnings():  # music21 warns about every odd event it skips
            warnings.simplefilter("ignore")
            parsed = converter.parse(str(path), **parse_options)
    except Exception as exc:  # music21 raises many types for malformed files
        text = " ".join(str(exc).split())[:200]
        raise SongError(
            f"{path}: cannot read as {path.suffix[1:]} ({text or type(exc).__name__})"
        ) from exc
    return list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]


def read_with_music21(path: Path, options: ReadOptions):
    from melodynet.m21 import song_from_score

    scores = parse_scores(path)
    songs = [song_from_score(s, str(path), options.part, options.warn) for s in scores]
    if len(songs) > 1:
        options.warn(f"{path}: {len(songs)} tunes read")
    return songs


@hookimpl
def register_readers(register):
    register(ReaderSpec("tinynotation", (".txt",), read_text, "tinyNotation with # metadata"))
    register(ReaderSpec("midi", (".mid", ".midi"), read_midi, "Standard MIDI file"))
    register(ReaderSpec("musicxml", (".musicxml", ".xml", ".mxl"), read_with_music21, "MusicXML"))
    register(ReaderSpec("abc", (".abc",), read_with_music21, "ABC notation"))
