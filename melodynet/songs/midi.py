"""Standard MIDI files through mido: a song written as one track, and a file checked
before music21 reads it."""

from __future__ import annotations

import io
from pathlib import Path

from melodynet.errors import SongError, one_line
from melodynet.songs.meters import meter_problem
from melodynet.songs.song import Song

TICKS_PER_BEAT = 480
MAX_MIDI_BEATS = 20_000  # hours of music; music21 takes minutes on longer files


def midi_file(song: Song, tempo: float | None = None, instrument: int = 0):
    """The song as a ``mido.MidiFile`` of one track: tempo, time signature, General MIDI
    program ``instrument``, then the notes; rests are gaps. ``tempo`` (beats per minute)
    defaults to the song's own."""
    import mido

    numerator, denominator = (int(x) for x in song.time_signature.split("/"))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=song.title or song.name, time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo or song.tempo)))
    track.append(mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator))
    track.append(mido.Message("program_change", program=instrument, time=0))
    gap = 0
    for note in song.notes:
        ticks = round(note.duration * TICKS_PER_BEAT)
        if note.pitch is None:
            gap += ticks
            continue
        track.append(mido.Message("note_on", note=note.pitch, velocity=80, time=gap))
        track.append(mido.Message("note_off", note=note.pitch, velocity=0, time=ticks))
        gap = 0
    track.append(mido.MetaMessage("end_of_track", time=gap))
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    return midi


def write_midi(
    song: Song, path: str | Path, tempo: float | None = None, instrument: int = 0
) -> None:
    """Write the song as a Standard MIDI file at ``path`` (see ``midi_file``)."""
    midi_file(song, tempo, instrument).save(str(path))


def midi_bytes(song: Song, tempo: float | None = None, instrument: int = 0) -> bytes:
    """The Standard MIDI file ``write_midi`` writes, in memory."""
    buffer = io.BytesIO()
    midi_file(song, tempo, instrument).save(file=buffer)
    return buffer.getvalue()


def check_midi(path: Path) -> None:
    """Raise SongError for a MIDI file melodynet cannot take a melody from.

    music21 reads damaged MIDI files without complaint; mido is strict, so it is asked
    first. Files of absurd length or meter, and files without notes (or only drums), are
    refused before music21 spends minutes on them.
    """
    import mido

    try:
        midi = mido.MidiFile(str(path))
    except EOFError:
        raise SongError(f"{path}: truncated MIDI file (it ends in the middle of a track)") from None
    except Exception as exc:  # mido raises OSError, ValueError, KeyError... on garbage
        raise SongError(f"{path}: not a valid MIDI file ({one_line(exc)})") from exc
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
