"""Reading songs through music21: files parsed into scores, and each score's melody taken
as a Song. (Songs become music21 scores in ``melodynet.render.notation``.)"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from melodynet.errors import SongError, one_line
from melodynet.songs.meters import check_meters
from melodynet.songs.song import Note, Song, duration_problem


def parse_scores(path: Path, **parse_options) -> list:
    """The scores in a file music21 reads (one per tune), or a SongError saying why not.

    Absurd meters are refused first: music21 would spend minutes on them.
    ``parse_options`` go to ``music21.converter.parse`` (``forceSource=True``...).
    """
    from music21 import converter, stream

    check_meters(path)
    try:
        with warnings.catch_warnings():  # music21 warns about every odd event it skips
            warnings.simplefilter("ignore")
            parsed = converter.parse(str(path), **parse_options)
    except Exception as exc:  # music21 raises many types for malformed files
        raise SongError(f"{path}: cannot read as {path.suffix[1:]} ({one_line(exc)})") from exc
    return list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]


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


def key_of_score(score) -> str:
    """The key a score declares, mode included ('A minor', 'D dorian'), else ''.

    A bare key signature gives its major key (music21's ``asKey``)."""
    from music21 import key

    found = score.flatten().getElementsByClass("KeySignature")
    if not found:
        return ""
    first = found[0]
    if isinstance(first, key.Key):
        return f"{first.tonic.name} {first.mode}"
    return str(first.asKey())


def pickup_of_score(score) -> str:
    """The length of an opening partial bar in quarter notes ('1/2'), or ''."""
    from music21 import stream

    try:
        parts = list(score.parts) if isinstance(score, stream.Score) else [score]
        measures = list(parts[0].getElementsByClass("Measure")) if parts else []
        if len(measures) < 2:
            return ""
        first = measures[0]
        length = Fraction(first.duration.quarterLength).limit_denominator(96)
        if 0 < length < Fraction(first.barDuration.quarterLength).limit_denominator(96):
            return str(length)
    except Exception:  # a score without bars or meters has no pickup to speak of
        return ""
    return ""


def song_from_score(score, where: str, part: int | None, warn: Callable[[str], None]) -> Song:
    """Take one melody out of a score: the chosen part, or the top line.

    The song gets the score's title, first tempo, time signature and key (with its mode),
    ``path=where``, and in ``extra``: ``pickup`` (an opening partial bar, in quarter notes)
    and ``number`` (the tune's number in its file, such as ABC's ``X:``), when it has them.
    """
    from music21 import stream as m21stream

    parts = list(score.parts) if isinstance(score, m21stream.Score) else [score]
    parts = [p for p in parts if p.flatten().notes]
    if not parts:
        raise SongError(f"{where}: no notes found")
    if part is not None:
        if not 1 <= part <= len(parts):
            raise SongError(
                f"{where}: part {part} asked for, but the file has {len(parts)} part(s) with notes"
            )
        chosen = parts[part - 1]
    else:
        chosen = parts[0]
    if len(parts) > 1:
        name = chosen.partName or "unnamed"
        warn(
            f"{where}: {len(parts)} parts; using part {parts.index(chosen) + 1} ({name}); "
            "choose another part"
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
    meta = getattr(score, "metadata", None)
    title = meta.title if meta is not None and meta.title else ""
    tempo = marks[0].getQuarterBPM() if marks else None
    extra = {}
    pickup = pickup_of_score(score)
    if pickup:
        extra["pickup"] = pickup
    if meta is not None and getattr(meta, "number", None):
        extra["number"] = str(meta.number)
    return Song(
        notes=notes,
        title=title,
        tempo=float(tempo) if tempo else 120.0,
        time_signature=signatures[0].ratioString if signatures else "4/4",
        key=key_of_score(score),
        path=where,
        extra=extra,
    )
