"""Preparing songs for training: transposition, a common key, augmentation, quantisation.

Every function returns new songs and leaves its input alone. What was done is recorded
in ``song.extra`` (``transposed``: semitones, ``quantized``: grid in quarter notes), and
the key metadata follows the notes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from fractions import Fraction

from melodynet.errors import OptionError, SongError
from melodynet.songs.song import Note, Song, duration_problem, pitch_name

# Semitones from the relative major's tonic up to the mode's tonic.
MODES = {
    "major": 0,
    "ionian": 0,
    "dorian": 2,
    "phrygian": 4,
    "lydian": 5,
    "mixolydian": 7,
    "minor": 9,
    "aeolian": 9,
    "locrian": 11,
}
_MODE_ABBREVIATIONS = {
    "": "major",
    "maj": "major",
    "ion": "ionian",
    "dor": "dorian",
    "phr": "phrygian",
    "lyd": "lydian",
    "mix": "mixolydian",
    "m": "minor",
    "min": "minor",
    "aeo": "aeolian",
    "loc": "locrian",
}
_STEPS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_KEY_RE = re.compile(
    r"^\s*([A-Ga-g])\s*([-\s]?(?:sharp|flat)|##|#|--|-|bb|b|♯|♭)?[\s-]*([A-Za-z]*)\s*$",
    re.IGNORECASE,
)
# How a tonic is spelled after transposition, music21-style ('-' is a flat).
_MAJOR_SPELLING = ("C", "D-", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")
_MINOR_SPELLING = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B")


def song_label(song: Song) -> str:
    """The song as messages name it: its file, and which tune when the file holds several."""
    where = song.path or song.name
    tune = song.extra.get("tune")
    return f"{where} tune {tune}" if tune else where


def parse_key(text: str) -> tuple[int, str] | None:
    """('G major' | 'g minor' | 'F# dorian' | 'Bb' | 'Am' | 'E-flat major') -> (tonic pitch
    class, mode), or None if the text is no key melodynet understands."""
    match = _KEY_RE.match(text or "")
    if not match:
        return None
    letter, accidental, mode = match.groups()
    mode = mode.lower()
    mode = _MODE_ABBREVIATIONS.get(mode, _MODE_ABBREVIATIONS.get(mode[:3], mode))
    if mode not in MODES:
        return None
    shift = {"#": 1, "##": 2, "♯": 1, "sharp": 1, "-": -1, "--": -2, "b": -1, "bb": -2}
    shift |= {"♭": -1, "flat": -1}
    accidental = (accidental or "").lower()
    if accidental.endswith(("sharp", "flat")):
        accidental = accidental.lstrip("- ")
    tonic = (_STEPS[letter.lower()] + shift.get(accidental, 0)) % 12
    return tonic, mode


def key_name(tonic: int, mode: str) -> str:
    """'C major', 'A minor', 'D dorian', spelled the way music21 spells pitches."""
    spelling = _MAJOR_SPELLING if MODES[mode] in (0, 5, 7) else _MINOR_SPELLING
    return f"{spelling[tonic % 12]} {mode}"


def _shifted_key(key: str, semitones: int) -> str:
    parsed = parse_key(key)
    if parsed is None:
        return key
    tonic, mode = parsed
    return key_name(tonic + semitones, mode)


def transpose(song: Song, semitones: int) -> Song:
    """The song moved by ``semitones``; a pitch pushed out of MIDI 0..127 is a SongError."""
    semitones = int(semitones)
    if semitones == 0:
        return replace(song, notes=list(song.notes), extra=dict(song.extra))
    notes = []
    for i, note in enumerate(song.notes, 1):
        if note.pitch is None:
            notes.append(note)
            continue
        moved = note.pitch + semitones
        if not 0 <= moved <= 127:
            raise SongError(
                f"{song_label(song)}: pitch out of MIDI range after transposing by "
                f"{semitones:+d}: note {i} ({pitch_name(note.pitch)})"
            )
        notes.append(Note(moved, note.duration))
    extra = dict(song.extra)
    total = int(extra.get("transposed", "0")) + semitones
    extra["transposed"] = f"{total:+d}"
    return replace(song, notes=notes, key=_shifted_key(song.key, semitones), extra=extra)


def analyse_key(song: Song) -> str:
    """music21's key analysis (Krumhansl-Schmuckler) of the notes: 'G major', 'E minor'."""
    from music21 import note as m21note
    from music21 import stream

    part = stream.Stream()
    for n in song.notes:
        if n.pitch is not None:
            part.append(m21note.Note(n.pitch, quarterLength=float(n.duration)))
    if not part.notes:
        return ""
    found = part.analyze("key")
    return key_name(found.tonic.pitchClass, found.mode)


def common_key_shift(song: Song) -> int:
    """Semitones that bring the song's key signature to that of C major / A minor.

    The key comes from the song's metadata, or music21's key analysis when it has none.
    Only the signature matters, so a minor tune labelled with its relative major (as
    some files are) still lands in A minor, and D dorian stays D dorian. Of the moves
    that do it, the smallest that keeps every pitch in MIDI range is chosen (-6..+5).
    """
    parsed = parse_key(song.key) or parse_key(analyse_key(song))
    if parsed is None:
        return 0
    tonic, mode = parsed
    relative_major = (tonic - MODES[mode]) % 12
    base = (-relative_major + 6) % 12 - 6
    pitches = [n.pitch for n in song.notes if n.pitch is not None]
    low, high = (min(pitches), max(pitches)) if pitches else (60, 60)
    for shift in sorted((base, base + 12, base - 12), key=abs):
        if low + shift >= 0 and high + shift <= 127:
            return shift
    return base  # transpose() names the note that cannot move


def to_common_key(song: Song) -> Song:
    """The song in C major / A minor (or the mode on the white keys: D dorian, G mixolydian)."""
    if not parse_key(song.key):
        analysed = analyse_key(song)
        if analysed:
            song = replace(song, key=analysed, extra={**song.extra, "key_from": "analysis"})
    moved = transpose(song, common_key_shift(song))
    # a song already in the common key is marked too: the model knows its songs share a key
    moved.extra.setdefault("transposed", "+0")
    return moved


def augment_transpositions(
    songs: Sequence[Song],
    semitones: int | Iterable[int],
    say: Callable[[str], None] | None = None,
) -> list[Song]:
    """Each song in every transposition of ``semitones`` (an int N means -N..+N; 0 is the
    song itself). Copies that would leave the MIDI range are left out, and ``say`` is told
    how many."""
    shifts = range(-semitones, semitones + 1) if isinstance(semitones, int) else list(semitones)
    if isinstance(semitones, int) and semitones < 0:
        raise OptionError(f"augment must be at least 0, not {semitones}", option="augment")
    out: list[Song] = []
    left_out = 0
    for song in songs:
        for shift in shifts:
            try:
                out.append(transpose(song, shift))
            except SongError:
                left_out += 1
    if left_out and say is not None:
        say(f"augment: left out {left_out} transposed copies that would leave MIDI 0..127")
    return out


_NAMED_GRID = re.compile(r"^(\d+)(?:st|nd|rd|th)(-?triplets?|t)?$")


def parse_grid(text: str) -> Fraction:
    """'1/4', '0.25', '16th' (a sixteenth note), '8th-triplet' -> quarter notes."""
    text = str(text).strip().lower()
    named = _NAMED_GRID.match(text)
    try:
        if named:
            grid = Fraction(4, int(named.group(1)))
            if named.group(2):
                grid *= Fraction(2, 3)
        else:
            grid = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise OptionError(
            f"quantize {text!r}: expected a grid in quarter notes such as 1/4 or 0.25, or "
            "a note value such as 16th or 8th-triplet",
            option="quantize",
        ) from None
    check_grid(grid)
    return grid


def check_grid(grid: Fraction) -> None:
    grid = Fraction(grid)
    problem = duration_problem(grid) if grid > 0 else "is not positive"
    if problem or grid > 4:
        raise OptionError(
            f"quantize {grid}: the grid {problem or 'is longer than a whole note'}",
            option="quantize",
        )


def quantize(song: Song, grid: Fraction) -> Song:
    """Every onset (and the end) moved to the nearest multiple of ``grid`` quarter notes.

    Onsets are measured from the first note, so a pickup bar keeps its length if it is on
    the grid. Notes that round to nothing are dropped (``extra['dropped']`` counts them),
    neighbouring rests are merged. With grid 1/4, triplet eighths become 1/4, 1/2, 1/4;
    grid 1/12 keeps both sixteenths and triplets.
    """
    grid = Fraction(grid)
    check_grid(grid)

    def snap(x: Fraction) -> Fraction:
        return math.floor(x / grid + Fraction(1, 2)) * grid

    starts, position = [], Fraction(0)
    for note in song.notes:
        starts.append(position)
        position += note.duration
    edges = [snap(s) for s in starts] + [snap(position)]
    notes: list[Note] = []
    dropped = 0
    for i, note in enumerate(song.notes):
        duration = edges[i + 1] - edges[i]
        if duration <= 0:
            dropped += 1
            continue
        problem = duration_problem(duration)
        if problem:
            raise SongError(
                f"{song_label(song)}: note {i + 1} after quantizing to {grid} {problem}"
            )
        if note.pitch is None and notes and notes[-1].pitch is None:
            merged = notes[-1].duration + duration
            if not duration_problem(merged):
                notes[-1] = Note(None, merged)
                continue
        notes.append(Note(note.pitch, duration))
    if not any(n.pitch is not None for n in notes):
        raise SongError(f"{song_label(song)}: no notes left after quantizing to {grid}")
    extra = {**song.extra, "quantized": str(grid)}
    if dropped:
        extra["dropped"] = str(dropped + int(song.extra.get("dropped", "0")))
    return replace(song, notes=notes, extra=extra)


def _each(
    songs: Sequence[Song],
    change: Callable[[Song], Song],
    what: str,
    say: Callable[[str], None] | None,
    strict: bool,
) -> list[Song]:
    """``change`` every song; one that raises SongError is skipped and named (or, with
    ``strict``, the error stands)."""
    out, skipped = [], []
    for song in songs:
        try:
            out.append(change(song))
        except SongError as exc:
            if strict:
                raise SongError(f"{exc.message} (strict)") from None
            skipped.append(exc.message)
    if skipped and say is not None:
        say(f"{what}: skipped {len(skipped)} song{'s' * (len(skipped) != 1)}")
        for message in skipped[:5]:
            say(f"  skipped: {message}")
        if len(skipped) > 5:
            say(f"  ... and {len(skipped) - 5} more")
    if not out:
        raise SongError(f"{what}: no songs left ({skipped[0]})")
    return out


def parse_transpose(text: str) -> str | int:
    """'common' or a number of semitones ('-2', '+5', '7')."""
    value = str(text).strip().lower()
    if value == "common":
        return "common"
    try:
        return int(value)
    except ValueError:
        raise OptionError(
            f"transpose {text!r}: expected 'common' (C major / A minor) or a number of "
            "semitones such as -2",
            option="transpose",
        ) from None


def transpose_all(
    songs: Sequence[Song],
    how: str | int,
    say: Callable[[str], None] | None = None,
    strict: bool = False,
) -> list[Song]:
    """Every song to the common key (``how`` = 'common') or by ``how`` semitones; a song
    that would leave the MIDI range is skipped and named (an error with ``strict``)."""
    if how == "common":
        return _each(songs, to_common_key, "transpose common", say, strict)
    shift = int(how)
    return _each(songs, lambda s: transpose(s, shift), f"transpose {shift:+d}", say, strict)


def quantize_all(
    songs: Sequence[Song],
    grid: Fraction,
    say: Callable[[str], None] | None = None,
    strict: bool = False,
) -> list[Song]:
    """``quantize`` each song; ``say`` hears how many notes vanished from how many songs,
    and which songs had nothing left (skipped, or an error with ``strict``)."""
    check_grid(grid)
    changed: list[int] = []

    def change(song: Song) -> Song:
        done = quantize(song, grid)
        lost = int(done.extra.get("dropped", "0")) - int(song.extra.get("dropped", "0"))
        if lost:
            changed.append(lost)
        return done

    out = _each(songs, change, f"quantize {grid}", say, strict)
    if changed and say is not None:
        say(
            f"quantize {grid}: dropped {sum(changed)} notes shorter than half a grid step "
            f"from {len(changed)} songs"
        )
    return out
