"""Turning music21 streams into songs and back."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from melodynet.errors import SongError
from melodynet.song import Note, Song, duration_problem


def notes_from_stream(stream, where: str) -> list[Note]:
    """The notes and rests of a monophonic stream, ties merged, grace notes dropped."""
    notes: list[Note] = []
    # Flatten first: music21's stripTies on measures takes minutes on long tied notes.
    for element in stream.flatten().stripTies().notesAndRests:
        duration = Fraction(element.quarterLength).limit_denominator(96)
        if duration <= 0:
            continue  # grace notes
        problem = duration_problem(duration)
        if problem:
            raise SongError(f"{where}: note {len(notes) + 1} {problem}")
        if element.isRest:
            notes.append(Note(None, duration))
            continue
        pitches = [p.midi for p in getattr(element, "pitches", ())]
        if not pitches:
            continue  # unpitched percussion
        top = max(pitches)
        if not 0 <= top <= 127:
            raise SongError(f"{where}: pitch {top} is outside the MIDI range 0-127")
        notes.append(Note(top, duration))
    return notes


def _merge_rests(notes: list[Note]) -> list[Note]:
    """One rest per silence: scores split rests at bar lines, a melody need not."""
    merged: list[Note] = []
    for note in notes:
        if note.is_rest and merged and merged[-1].is_rest:
            total = merged[-1].duration + note.duration
            if not duration_problem(total):
                merged[-1] = Note(None, total)
                continue
        merged.append(note)
    return merged


def song_from_score(score, where: str, part: int | None, warn: Callable[[str], None]) -> Song:
    """Take one melody out of a score: the chosen part, or the top line."""
    from music21 import stream as m21stream

    parts = list(score.parts) if isinstance(score, m21stream.Score) else [score]
    parts = [p for p in parts if p.flatten().notes]
    if not parts:
        raise SongError(f"{where}: no notes found")
    if part is not None:
        if not 1 <= part <= len(parts):
            raise SongError(
                f"{where}: --part {part} asked for, but the file has {len(parts)} "
                f"part(s) with notes"
            )
        chosen = parts[part - 1]
    else:
        chosen = parts[0]
    if len(parts) > 1:
        name = chosen.partName or "unnamed"
        warn(
            f"{where}: {len(parts)} parts; using part {parts.index(chosen) + 1} ({name}); "
            "choose another with --part N"
        )
    flat = chosen.flatten()
    chords = len(flat.getElementsByClass("Chord"))
    voiced = any(m.hasVoices() for m in chosen.getElementsByClass("Measure"))
    if chords or voiced:
        chosen = chosen.flatten().chordify()
        warn(f"{where}: chords or voices reduced to their top note")
    notes = notes_from_stream(chosen, where)
    if not notes:
        raise SongError(f"{where}: no notes found")
    notes = _merge_rests(notes)
    # leading and trailing rests are silence around the melody, not part of it
    while notes and notes[0].is_rest:
        notes.pop(0)
    while notes and notes[-1].is_rest:
        notes.pop()

    flat = score.flatten()
    marks = flat.getElementsByClass("MetronomeMark")
    signatures = flat.getElementsByClass("TimeSignature")
    keys = flat.getElementsByClass("KeySignature")
    title = score.metadata.title if score.metadata and score.metadata.title else ""
    tempo = marks[0].getQuarterBPM() if marks else None
    key = ""
    if keys:
        k = keys[0]
        key = f"{k.tonic.name} {k.mode}" if hasattr(k, "tonic") else str(k.asKey())
    return Song(
        notes=notes,
        title=title,
        tempo=float(tempo) if tempo else 120.0,
        time_signature=signatures[0].ratioString if signatures else "4/4",
        key=key,
        path=where,
    )


def stream_from_song(song: Song, tempo: float | None = None):
    """A music21 Part for the song, with title, tempo and time signature."""
    from music21 import metadata, meter, note, stream
    from music21 import tempo as m21tempo

    part = stream.Part()
    part.insert(0, meter.TimeSignature(song.time_signature))
    part.insert(0, m21tempo.MetronomeMark(number=tempo or song.tempo))
    for n in song.notes:
        if n.pitch is None:
            part.append(note.Rest(quarterLength=n.duration))
        else:
            part.append(note.Note(n.pitch, quarterLength=n.duration))
    score = stream.Score()
    score.metadata = metadata.Metadata(title=song.title or song.name)
    score.insert(0, part)
    return score
