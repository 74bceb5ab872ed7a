"""ABC notation writer for melodynet: ``melodynet generate --out tune.abc``.

Writes ABC 2.1 (https://abcnotation.com/wiki/abc:standard:v2.1): a header
(X:, T:, S:, M:, L:, Q:, K:) and the notes with bar lines every measure.
Notes that cross a bar line are split and tied (``d2-|d2``), and so are
lengths that no single note value has (``c4-c``); a rest that crosses a bar
line is split without a tie (``z2|z2``: ABC has no tied rests). To cut as
few notes and rests as possible, the bars may start after a pickup.
Accidentals are written whenever a note differs from the key signature, or
its letter was marked earlier in the bar (in any octave), so every reader
gets the same pitches whether it carries accidentals through the bar per
octave (ABC 2.1), per letter (music21) or not at all (ABC 1.x).

Uses only melodynet's public API.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

from melodynet import Note, Song, WriteOptions, WriterSpec, hookimpl

__version__ = "0.1.0"

# Letters in circle-of-fifths order: F C G D A E B.
_FIFTHS = {"f": -1, "c": 0, "g": 1, "d": 2, "a": 3, "e": 4, "b": 5}
_SHARP_ORDER = "FCGDAEB"
# Mode -> (ABC suffix, fifths relative to the major key on the same tonic).
_MODES = {
    "major": ("", 0),
    "ionian": ("", 0),
    "minor": ("m", -3),
    "aeolian": ("m", -3),
    "dorian": ("dor", -2),
    "phrygian": ("phr", -4),
    "lydian": ("lyd", 1),
    "mixolydian": ("mix", -1),
    "locrian": ("loc", -5),
}
_KEY_RE = re.compile(r"^\s*([a-gA-G])\s*(#|b|-|♯|♭)?\s*([A-Za-z]*)\s*$")
# Pitch classes as (letter, alteration): natural, with sharps, with flats, music21's default.
_WHITE = {0: "C", 2: "D", 4: "E", 5: "F", 7: "G", 9: "A", 11: "B"}
_SHARPS = {1: ("C", 1), 3: ("D", 1), 6: ("F", 1), 8: ("G", 1), 10: ("A", 1)}
_FLATS = {1: ("D", -1), 3: ("E", -1), 6: ("G", -1), 8: ("A", -1), 10: ("B", -1)}
_DEFAULT = {1: ("C", 1), 3: ("E", -1), 6: ("F", 1), 8: ("G", 1), 10: ("B", -1)}
_ACCIDENTAL = {1: "^", -1: "_", 0: "="}
BARS_PER_LINE = 4


def parse_key(text: str) -> tuple[str, int]:
    """('Ddor', 0) for 'D dorian': the K: value and the signature in fifths (+ sharps, - flats).

    Accepts melodynet/music21 spellings ('G major', 'f# minor', 'B- major', 'Bb');
    anything else is C major.
    """
    match = _KEY_RE.match(text or "")
    mode = (match.group(3).lower() if match else "") or "major"
    mode = {"maj": "major", "min": "minor", "m": "minor"}.get(mode, mode)
    if not match or mode not in _MODES:
        return "C", 0
    letter, accidental = match.group(1).upper(), match.group(2) or ""
    alter = {"#": 1, "♯": 1, "b": -1, "-": -1, "♭": -1}.get(accidental, 0)
    suffix, shift = _MODES[mode]
    fifths = _FIFTHS[letter.lower()] + 7 * alter + shift
    if not -7 <= fifths <= 7:
        return "C", 0
    return letter + {1: "#", -1: "b", 0: ""}[alter] + suffix, fifths


def key_signature(fifths: int) -> dict[str, int]:
    """Alteration of each letter under a signature: {'F': 1, ...} for one sharp."""
    altered = _SHARP_ORDER[:fifths] if fifths > 0 else _SHARP_ORDER[::-1][:-fifths]
    return {letter: (1 if fifths > 0 else -1) if letter in altered else 0 for letter in "CDEFGAB"}


def spell(midi: int, fifths: int) -> tuple[str, int, int]:
    """(letter, alteration, octave) for a MIDI pitch: sharps in sharp keys, flats in flat keys."""
    pc, octave = midi % 12, midi // 12 - 1
    if pc in _WHITE:
        return _WHITE[pc], 0, octave
    letter, alter = (_SHARPS if fifths > 0 else _FLATS if fifths < 0 else _DEFAULT)[pc]
    return letter, alter, octave


def pitch_text(letter: str, octave: int) -> str:
    """ABC pitch without accidental: C4 -> 'C', C5 -> 'c', C6 -> "c'", C3 -> 'C,'."""
    if octave >= 5:
        return letter.lower() + "'" * (octave - 5)
    return letter + "," * (4 - octave)


def length_text(units: Fraction) -> str:
    """A length in unit notes: '' for 1, '3', '/2', '3/2'."""
    if units == 1:
        return ""
    if units.denominator == 1:
        return str(units.numerator)
    if units.numerator == 1:
        return f"/{units.denominator}"
    return f"{units.numerator}/{units.denominator}"


def _notatable(units: Fraction) -> list[Fraction]:
    """Split a length into plain, dotted and double-dotted values, longest first.

    Lengths that are not sums of such values (triplets) stay whole.
    """
    if units.denominator & (units.denominator - 1) or units.denominator > 64:
        return [units]
    values = sorted(
        (Fraction(2) ** k * m for k in range(-6, 7) for m in (1, Fraction(3, 2), Fraction(7, 4))),
        reverse=True,
    )
    pieces, remaining = [], units
    while remaining > 0:
        value = next(v for v in values if v <= remaining)
        pieces.append(value)
        remaining -= value
    return pieces


def unit_length(song: Song) -> Fraction:
    """L: 1/8, or 1/16 when every note is a whole number of sixteenths but not of eighths."""
    quarters = [note.duration for note in song.notes]
    if all((q / Fraction(1, 2)).denominator == 1 for q in quarters):
        return Fraction(1, 8)
    if all((q / Fraction(1, 4)).denominator == 1 for q in quarters):
        return Fraction(1, 16)
    return Fraction(1, 8)


def meter(song: Song) -> tuple[str, Fraction]:
    """The M: value and the bar length in quarter notes (4/4 when the signature is odd)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", song.time_signature or "")
    if not match or int(match.group(1)) == 0 or int(match.group(2)) == 0:
        return "4/4", Fraction(4)
    numerator, denominator = int(match.group(1)), int(match.group(2))
    return f"{numerator}/{denominator}", Fraction(4 * numerator, denominator)


def _next_bar_line(start: Fraction, bar: Fraction, phase: Fraction) -> Fraction:
    """The first bar line after ``start``, bar lines lying at ``phase + k * bar``."""
    return phase + ((start - phase) // bar + 1) * bar


def _segments(notes: list[Note], bar: Fraction, phase: Fraction):
    """Each note as (note, start, durations between bar lines), and how many rests and
    notes a bar line cuts."""
    segments, rests_cut, notes_cut = [], 0, 0
    start = Fraction(0)
    for note in notes:
        end = start + note.duration
        pieces, at = [], start
        line = _next_bar_line(start, bar, phase)
        while line < end:
            pieces.append(line - at)
            at, line = line, line + bar
        if pieces:
            if note.pitch is None:
                rests_cut += 1
            else:
                notes_cut += 1
        pieces.append(end - at)
        segments.append((note, start, pieces))
        start = end
    return segments, rests_cut, notes_cut


def choose_phase(notes: list[Note], bar: Fraction) -> Fraction:
    """Where the first bar line falls, counted from the song's start (0: a full first bar).

    Bars start with the song unless a bar line would cut a rest (ABC, like staff
    notation, has no tied rests: readers see two rests) or a note (a tie); then the
    note boundary in the first bar that cuts the fewest rests, then the fewest notes,
    ends a pickup bar.
    """
    candidates, start = [Fraction(0)], Fraction(0)
    for note in notes:
        start += note.duration
        if start >= bar:
            break
        candidates.append(start)

    def cost(phase: Fraction) -> tuple[int, int, Fraction]:
        _, rests_cut, notes_cut = _segments(notes, bar, phase)
        return rests_cut, notes_cut, phase

    return min(candidates, key=cost)


def format_song(song: Song, options: WriteOptions | None = None, index: int = 1) -> str:
    """The song as one ABC 2.1 tune (with a trailing newline)."""
    options = options or WriteOptions()
    key_text, fifths = parse_key(song.key)
    signature = key_signature(fifths)
    meter_text, bar = meter(song)
    unit = unit_length(song)
    tempo = options.tempo or song.tempo
    title = " ".join((song.title or song.name).split())
    header = ["%abc-2.1", f"X:{index}", f"T:{title}"]
    if song.source:
        header.append("S:" + " ".join(song.source.split()))
    if options.instrument:
        header.append(f"%%MIDI program {options.instrument}")
    header += [
        f"M:{meter_text}",
        f"L:{unit.numerator}/{unit.denominator}",
        f"Q:1/4={max(1, round(tempo))}",
        f"K:{key_text}",
    ]

    phase = choose_phase(song.notes, bar)
    segments, _, _ = _segments(song.notes, bar, phase)
    lines, line, written = [], [], {}  # written: letter -> alterations marked in this bar
    bars_in_line = 0
    for note, start, pieces in segments:
        position, mark = start, None
        for j, quarters in enumerate(pieces):
            if j or (position > 0 and (position - phase) % bar == 0):
                # a bar line: between the pieces of a cut note, or on a note boundary
                line.append("|")
                written = {}
                bars_in_line += 1
                if bars_in_line == BARS_PER_LINE:
                    lines.append(" ".join(line))
                    line, bars_in_line = [], 0
            units = quarters / (4 * unit)
            # a rest stays one token within a bar: two rests would read back as two
            values = [units] if note.pitch is None else _notatable(units)
            last_piece = j == len(pieces) - 1
            for k, value in enumerate(values):
                if note.pitch is None:
                    line.append("z" + length_text(value))
                    continue
                letter, alter, octave = spell(note.pitch, fifths)
                earlier = written.setdefault(letter, set())
                if mark is None:
                    # Off the key signature, or the letter was marked earlier in the bar
                    # (in any octave: readers differ in how far a mark carries). Decided
                    # once per note and repeated on every tied piece, even after a bar
                    # line: music21 does not join tied notes whose accidentals differ.
                    needed = alter != signature[letter] or earlier
                    mark = _ACCIDENTAL[alter] if needed else ""
                if mark:
                    earlier.add(alter)
                tie = "" if last_piece and k == len(values) - 1 else "-"
                line.append(mark + pitch_text(letter, octave) + length_text(value) + tie)
            position += quarters
    line.append("|]")
    lines.append(" ".join(line))
    return "\n".join(header + lines) + "\n"


def write_abc(song: Song, path: Path, options: WriteOptions) -> None:
    Path(path).write_text(format_song(song, options), encoding="utf-8")


@hookimpl
def register_writers(register):
    register(WriterSpec("abc", (".abc",), write_abc, "ABC 2.1 notation (melodynet-abc)"))
