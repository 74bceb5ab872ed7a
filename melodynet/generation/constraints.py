"""What a melody must satisfy (key, meter and bars, range, ending, form, originality), checked
up front for feasibility, turned into per-step masks over the model's choices, and checked
again on every finished melody.

Durations are counted in integer units of the finest grid the vocabulary, the meter and
the pickup need, so feasibility is exact: ``fill[x]`` says whether ``x`` units can be
filled with durations the model knows (and allowed pitches permit), ``end[x]`` whether they
can be filled so that the last note is the tonic. A choice is allowed only when what is
left of its bar stays fillable, so decoding never paints itself into a corner.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from melodynet.errors import OptionError
from melodynet.songs.preprocess import MODES
from melodynet.songs.song import Note, Song, pitch_name

_SCALE_STEPS = (0, 2, 4, 5, 7, 9, 11)  # the white keys from C
_PITCH_RE = re.compile(r"^\s*([A-Ga-g])([#\-b]{0,2})(-?\d+)\s*$")


@dataclass(frozen=True)
class Key:
    tonic: int
    """Pitch class of the tonic (0 = C)."""
    mode: str

    @classmethod
    def parse(cls, text: str) -> Key:
        from melodynet.songs.preprocess import parse_key

        parsed = parse_key(text)
        if parsed is not None and re.fullmatch(r"\s*[a-g](?:#|-|b|--|##)?\s*", str(text)):
            parsed = (parsed[0], "minor")  # music21's names: a lower-case tonic is minor
        if parsed is None:
            raise OptionError(
                f"key {text!r}: expected a tonic and mode such as D, D major, e, e minor, "
                "a dorian, F# mixolydian",
                option="key",
            )
        return cls(*parsed)

    @property
    def name(self) -> str:
        from melodynet.songs.preprocess import key_name

        return key_name(self.tonic, self.mode)

    @property
    def relative_major(self) -> int:
        return (self.tonic - MODES[self.mode]) % 12

    @property
    def pitch_classes(self) -> frozenset[int]:
        """The scale; minor keys also allow the raised 6th and 7th (melodic, harmonic)."""
        scale = {(self.relative_major + s) % 12 for s in _SCALE_STEPS}
        if self.mode in ("minor", "aeolian"):
            scale |= {(self.tonic + 9) % 12, (self.tonic + 11) % 12}
        return frozenset(scale)


def parse_meter(text: str) -> Fraction:
    """'3/4' -> the bar's length in quarter notes (3)."""
    from melodynet.songs.meters import meter_problem

    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    problem = meter_problem(int(match[1]), int(match[2])) if match else "is not N/D"
    if problem:
        raise OptionError(f"meter {text!r}: {problem}", option="meter")
    return Fraction(int(match[1]) * 4, int(match[2]))


def parse_pitch(text: str, option: str) -> int:
    """'D4' (scientific pitch name; '#' or '-'/'b' for accidentals) -> MIDI number 62."""
    match = _PITCH_RE.match(text)
    if not match:
        raise OptionError(
            f"{option}: {text!r} is not a pitch name such as D4, F#5 or B-3", option=option
        )
    letter, accidental, octave = match.groups()
    steps = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}[letter.lower()]
    shift = accidental.count("#") - accidental.count("-") - accidental.count("b")
    midi = (int(octave) + 1) * 12 + steps + shift
    if not 0 <= midi <= 127:
        raise OptionError(f"{option}: {text} is outside MIDI 0-127", option=option)
    return midi


def parse_range(text: str) -> tuple[int, int]:
    """'D4-D6' -> (62, 86)."""
    low, sep, high = str(text).partition("-")
    # a flat written '-' (B-3) makes the split ambiguous: split at the '-' before a letter
    match = re.fullmatch(r"\s*([A-Ga-g][#\-b]{0,2}-?\d+)\s*-\s*([A-Ga-g][#\-b]{0,2}-?\d+)\s*", text)
    if not match:
        raise OptionError(f"range {text!r}: expected LOW-HIGH such as D4-D6", option="range")
    low, high = parse_pitch(match[1], "range"), parse_pitch(match[2], "range")
    if low > high:
        raise OptionError(f"range {text}: the low pitch is above the high one", option="range")
    return low, high


def parse_duration(text: str | Fraction, option: str) -> Fraction:
    """A duration in quarter notes ('1/2', '1.5') or as a tinyNotation value ('8', '4.')."""
    if isinstance(text, Fraction | int):
        value = Fraction(text)
    else:
        value = None
        match = re.fullmatch(r"\s*(1|2|4|8|16|32|64)(\.{0,2})\s*", str(text))
        if match:
            value = Fraction(4, int(match[1])) * (2 - Fraction(1, 2 ** len(match[2])))
        else:
            try:
                value = Fraction(str(text).strip())
            except (ValueError, ZeroDivisionError):
                value = None
        if value is None:
            raise OptionError(
                f"{option} {text!r}: expected a duration in quarter notes (1/2, 1.5) or a "
                "note value (8, 4.)",
                option=option,
            )
    if value <= 0:
        raise OptionError(f"{option} must be a positive duration, not {text}", option=option)
    return value


@dataclass(frozen=True)
class Constraints:
    """What every generated melody must satisfy; ``None`` leaves a property free."""

    key: str | None = None
    chromatic: bool = False
    meter: str | None = None
    bars: int | None = None
    pickup: str | Fraction | None = None
    range: str | None = None
    end: str | None = None
    form: str | None = None
    no_copy: int | None = None

    @property
    def active(self) -> bool:
        return any(
            v is not None
            for v in (self.key, self.meter, self.bars, self.range, self.end, self.form)
        ) or bool(self.no_copy)


@dataclass
class Plan:
    """Constraints resolved against a model: everything a decoding step needs, precomputed."""

    key: Key | None
    pitch_classes: frozenset[int] | None
    low: int
    high: int
    unit: Fraction
    """Quarter notes per duration unit."""
    bar: int | None
    pickup: int
    sections: list[str]
    section_bars: int | None
    end_tonic: bool
    no_copy: int | None
    pitch: np.ndarray
    """Pitch of each joint class (-1 for a rest)."""
    units: np.ndarray
    """Duration of each joint class in units."""
    allowed: np.ndarray
    """Joint classes whose pitch obeys key and range."""
    tonic: np.ndarray
    """Joint classes that may end the melody (allowed, pitched, on the tonic)."""
    fill: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    fill_end: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    copies: dict[int, set] = field(default_factory=dict)
    training: list[Song] = field(default_factory=list)
    meter_text: str = ""
    transpose: int = 0
    """Semitones the melody is moved by after generating (a model in the common key)."""

    @property
    def section_units(self) -> int | None:
        if self.bar is None or self.section_bars is None:
            return None
        return self.bar * self.section_bars


def _lcm_denominator(values) -> int:
    out = 1
    for v in values:
        out = out * Fraction(v).denominator // math.gcd(out, Fraction(v).denominator)
    return out


def joint_notes(codec) -> list[Note]:
    """The note of every joint class (the product of the heads' classes), in
    ``np.ravel_multi_index`` order."""
    grids = np.stack(np.unravel_index(np.arange(int(np.prod(codec.sizes))), codec.sizes), -1)
    return codec.notes(grids)


def in_common_key(songs: list[Song]) -> bool:
    """Whether a model's songs were all moved to the white keys (``--transpose common``)."""
    from melodynet.songs.preprocess import parse_key

    def white(song: Song) -> bool:
        parsed = parse_key(song.key)
        return parsed is not None and Key(*parsed).relative_major == 0

    return bool(songs) and all("transposed" in s.extra and white(s) for s in songs)


def plan(constraints: Constraints, model, time_signature: str) -> Plan:
    """Resolve and check the constraints for ``model``; an impossible combination is an
    OptionError naming the constraint and why, before anything is generated."""
    c = constraints
    key = Key.parse(c.key) if c.key is not None else None
    transpose = 0
    if key is not None and in_common_key(model.songs):
        # the model writes on the white keys: generate there, then move into the key
        transpose = (key.relative_major + 6) % 12 - 6
        key = Key((key.tonic - transpose) % 12, key.mode)
    if c.chromatic and key is None:
        raise OptionError("chromatic keeps the key for the tonic: give a key too", "chromatic")
    if c.end not in (None, "tonic"):
        raise OptionError(f"end must be 'tonic', not {c.end!r}", option="end")
    if c.end and key is None:
        raise OptionError("end tonic needs a key", option="end")
    if c.bars is not None and (not isinstance(c.bars, int) or c.bars < 1):
        raise OptionError(f"bars must be at least 1, not {c.bars}", option="bars")
    if (c.meter or c.pickup is not None or c.form) and c.bars is None:
        raise OptionError("meter, pickup and form need bars (how many)", option="bars")
    if c.no_copy is not None and (not isinstance(c.no_copy, int) or c.no_copy < 2):
        raise OptionError(f"no_copy must be at least 2 notes, not {c.no_copy}", "no_copy")
    sections = list(c.form) if c.form else ["A"]
    if c.form and not re.fullmatch(r"[A-Za-z]+", c.form):
        raise OptionError(f"form {c.form!r}: use letters, such as AABB", option="form")
    low, high = parse_range(c.range) if c.range else (0, 127)
    low, high = low - transpose, high - transpose
    if c.end and not any(p % 12 == key.tonic for p in range(max(low, 0), min(high, 127) + 1)):
        raise OptionError(
            f"range {c.range} holds no {key.name.split()[0]}, the tonic --end asks for",
            option="range",
        )
    notes = joint_notes(model.codec)
    pitch = np.array([-1 if n.pitch is None else n.pitch for n in notes])
    scale = None if key is None or c.chromatic else key.pitch_classes
    pitched = pitch >= 0
    allowed = ~pitched | ((pitch >= low) & (pitch <= high))
    if scale is not None:
        allowed &= ~pitched | np.isin(pitch % 12, sorted(scale))
    if not (allowed & pitched).any():
        where = f"in {key.name}" if scale is not None else ""
        raise OptionError(
            f"no note the model knows is {where} within {c.range or 'its range'}".replace(
                "  ", " "
            ),
            option="range" if c.range else "key",
        )
    tonic = allowed & pitched & (pitch % 12 == (key.tonic if key else -1))
    meter = c.meter or time_signature
    bar_length = parse_meter(meter) if c.bars is not None else None
    pickup = parse_duration(c.pickup, "pickup") if c.pickup is not None else Fraction(0)
    if bar_length is not None and pickup >= bar_length:
        raise OptionError(f"pickup {c.pickup} is not shorter than a bar of {meter}", "pickup")
    durations = [n.duration for n in notes]
    unit = Fraction(1, _lcm_denominator([*durations, bar_length or 1, pickup]))
    units = np.array([int(d / unit) for d in durations])
    result = Plan(
        key=key,
        pitch_classes=scale,
        low=low,
        high=high,
        unit=unit,
        bar=int(bar_length / unit) if bar_length is not None else None,
        pickup=int(pickup / unit),
        sections=sections,
        section_bars=c.bars,
        end_tonic=bool(c.end),
        no_copy=c.no_copy,
        pitch=pitch,
        units=units,
        allowed=allowed,
        tonic=tonic,
        meter_text=meter,
        transpose=transpose,
    )
    if result.bar is not None:
        _fillable(result, meter)
    if c.no_copy:
        result.training = model.songs
        result.copies = {c.no_copy: runs(model.songs, c.no_copy)}
    return result


def _fillable(p: Plan, meter: str) -> None:
    """fill / fill_end up to a bar, and the feasibility of the bars asked for."""
    usable = sorted(set(p.units[p.allowed].tolist()))
    tonic = sorted(set(p.units[p.tonic].tolist()))
    size = max(p.bar, p.pickup) + 1
    fill = np.zeros(size, dtype=bool)
    fill[0] = True
    for x in range(1, size):
        fill[x] = any(d <= x and fill[x - d] for d in usable)
    end = np.zeros(size, dtype=bool)
    for x in range(1, size):
        end[x] = any(d <= x and fill[x - d] for d in tonic)
    p.fill, p.fill_end = fill, end
    known = ", ".join(str(Fraction(d) * p.unit) for d in usable[:12])
    if not fill[p.bar]:
        raise OptionError(
            f"meter {meter}: a bar of {Fraction(p.bar) * p.unit} quarter notes cannot be filled "
            f"with the durations the model knows ({known} quarter notes)",
            option="meter",
        )
    if p.pickup and not fill[p.pickup]:
        raise OptionError(
            f"pickup {Fraction(p.pickup) * p.unit}: cannot be filled with the durations the "
            f"model knows ({known} quarter notes)",
            option="pickup",
        )
    if p.end_tonic and not end[p.bar]:
        raise OptionError(
            f"end tonic: no bar of {meter} can end on the tonic with the durations the model "
            f"knows for it",
            option="end",
        )


# ---------------------------------------------------------------- originality


_DURATIONS: dict[tuple[int, int], int] = {}
_RATIOS: list[tuple[int, int]] = []  # each code's duration, (numerator, denominator)


def _code(duration: Fraction) -> int:
    """A small integer per duration: tuples of ints hash far faster than Fractions (and a
    Fraction's own hash is slower still than reading its numerator and denominator)."""
    key = (duration.numerator, duration.denominator)
    code = _DURATIONS.get(key)
    if code is None:
        code = _DURATIONS[key] = len(_DURATIONS)
        _RATIOS.append(key)
    return code


_SEEN: dict[int, tuple[Note, int, int]] = {}
"""id(note) -> (note, its duration's code, its pitch or -1): notes are frozen, the codec
hands out the same Note objects again and again, and the entry keeps its note alive."""


def _codes(notes: list[Note]) -> tuple[np.ndarray, np.ndarray]:
    """Each note's duration code and pitch (-1 for a rest), as arrays."""
    seen = _SEEN
    if len(seen) > 1 << 20:
        seen.clear()
    found = [seen.get(id(n)) for n in notes]
    for i, n in enumerate(notes):
        if found[i] is None or found[i][0] is not n:
            found[i] = seen[id(n)] = (n, _code(n.duration), -1 if n.pitch is None else n.pitch)
    if not found:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    _, codes, pitches = zip(*found, strict=True)
    return np.array(codes, dtype=np.int64), np.array(pitches, dtype=np.int64)


def _canonical(notes: list[Note]) -> tuple:
    """A run of notes the same in every transposition: durations, and pitches from the
    first pitched note."""
    ref = next((n.pitch for n in notes if n.pitch is not None), 0)
    return tuple((_code(n.duration), None if n.pitch is None else n.pitch - ref) for n in notes)


def runs(songs: list[Song], n: int) -> set:
    """Every run of ``n`` notes of the songs, transposition-free."""
    found = set()
    for song in songs:
        for i in range(len(song.notes) - n + 1):
            found.add(_canonical(song.notes[i : i + n]))
    return found


_FIRST = 1 << 20
"""The interval of a sequence's first pitched note (it has none): matches no real one."""


def _arrays(notes: list[Note]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per note: its kind (duration code x 2, + 1 for a rest), whether it is pitched, and
    its interval from the pitched note before it."""
    codes, pitch = _codes(notes)
    kind = 2 * codes + (pitch < 0)
    pitched = pitch >= 0
    before = np.maximum.accumulate(np.where(pitched, np.arange(len(notes)), -1))
    before = np.concatenate([[-1], before[:-1]])[: len(notes)]  # the pitched note before
    interval = np.where(before >= 0, pitch - pitch[before], _FIRST)
    return kind, pitched, interval


_TRAINING: list = [None, None, None]
"""The songs last asked about (kept, so that the ids stay theirs), what identifies them (each
song's list of notes, its length, its first and last notes), and their arrays."""


def _training(songs: list[Song]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The songs' ``_arrays``, one after the other with a separator between them; kept
    for the same songs (the same lists of the same notes) asked about again."""
    same = [(id(s.notes), len(s.notes), *map(id, s.notes[:1] + s.notes[-1:])) for s in songs]
    if _TRAINING[0] is songs and _TRAINING[1] == same:
        return _TRAINING[2]
    parts = []
    for song in songs:
        parts.append(_arrays(song.notes))
        parts.append((np.array([-1]), np.array([False]), np.array([_FIRST])))  # a separator
    train = tuple(np.concatenate([part[k] for part in parts]) for k in range(3))
    _TRAINING[:] = [songs, same, train]
    return train


def longest_shared_run(notes: list[Note], songs: list[Song], start: int = 0) -> int:
    """The most consecutive notes (in any transposition) that ``notes`` shares with any of
    ``songs``, counting only runs that end at or after note ``start``.

    A run of pairs (note, training note) grows while durations and rests agree and every
    pitched pair is the same interval apart: along each diagonal of the pairs, a run
    starts again after a pair that differs in kind, or just after the previous pitched
    pair when a pitched pair's interval differs (a new transposition). Diagonals are
    columns of a sheared view, so the start of every run is one running maximum."""
    if not notes or not songs:
        return 0
    train = _training(songs)
    out = _arrays(notes)
    if len(notes) <= len(train[0]):
        return _longest(out, train, start, rows_are_notes=True)
    # fewer training notes than notes: the training notes as rows (the same pairs)
    return _longest(train, out, start, rows_are_notes=False)


def _longest(rows, columns, start: int, rows_are_notes: bool) -> int:
    """The longest run over every pair (row note, column note) that ends at or after note
    ``start`` of the generated notes (the rows, or the columns)."""
    row_kind, row_pitched, row_interval = rows
    kind, _, interval = columns
    r, q = len(row_kind), len(kind)
    pad = np.full(r - 1, -2)  # matches nothing
    kind = np.concatenate([pad, kind, pad])
    interval = np.concatenate([pad, interval, pad])
    # column c of the views holds the diagonal of pairs (i, i + c - (r - 1))
    step = kind.strides[0]
    kinds = np.lib.stride_tricks.as_strided(kind, (r, q + r - 1), (step, step), writeable=False)
    step = interval.strides[0]
    intervals = np.lib.stride_tricks.as_strided(
        interval, (r, q + r - 1), (step, step), writeable=False
    )
    index = np.arange(r)[:, None]
    before = np.maximum.accumulate(np.where(row_pitched, np.arange(r), -1))
    before = np.concatenate([[-1], before[:-1]])[:, None]  # the previous pitched row note
    best, block = 0, max(1, (1 << 20) // r)
    for c0 in range(0, q + r - 1, block):
        c1 = min(c0 + block, q + r - 1)
        same = kinds[:, c0:c1] == row_kind[:, None]
        turn = row_pitched[:, None] & (intervals[:, c0:c1] != row_interval[:, None])
        restart = np.where(same, np.where(turn, before + 1, 0), index + 1)
        length = index + 1 - np.maximum.accumulate(restart, axis=0)
        if rows_are_notes:
            length = length[start:]
        else:
            length = np.where(index + np.arange(c0, c1) - (r - 1) >= start, length, 0)
        best = max(best, int(length.max(initial=0)))
    return best


# ---------------------------------------------------------------- checking a melody


def violations(song: Song, constraints: Constraints, p: Plan, primer: int) -> list[str]:
    """What ``song`` breaks of the constraints (an empty list when it satisfies them)."""
    problems = []
    notes = song.notes
    codes, pitches = _codes(notes)
    pitched = pitches >= 0
    out_of_key = np.zeros(len(notes), dtype=bool)
    if p.pitch_classes is not None:
        out_of_key = pitched & ~np.isin((pitches - p.transpose) % 12, sorted(p.pitch_classes))
    outside = pitched & ((pitches < p.low + p.transpose) | (pitches > p.high + p.transpose))
    for i in np.flatnonzero((out_of_key | outside)[primer:]) + primer:
        name = pitch_name(int(pitches[i]))
        if out_of_key[i]:
            problems.append(f"note {i + 1} ({name}) is not in the key")
        if outside[i]:
            problems.append(f"note {i + 1} ({name}) is outside the range")
    if p.bar is not None:
        # in integer ticks of 1/scale quarter note, exact for every duration of the song
        kinds = np.unique(codes)
        scale = _lcm_denominator([p.unit, *(Fraction(*_RATIOS[k]) for k in kinds)])
        ticks = np.zeros(int(kinds.max(initial=0)) + 1, dtype=np.int64)
        for k in kinds:
            ticks[k] = _RATIOS[k][0] * scale // _RATIOS[k][1]
        length = ticks[codes]
        ends = np.cumsum(length)
        starts = ends - length
        per_unit = int(p.unit * scale)
        bar, pickup = p.bar * per_unit, p.pickup * per_unit
        total = pickup + bar * p.section_bars * len(p.sections)
        after = starts >= pickup
        boundary = np.where(after, pickup + ((starts - pickup) // bar + 1) * bar, pickup)
        for i in np.flatnonzero((ends > boundary) & (starts < total)):
            at = Fraction(int(boundary[i]), scale)
            problems.append(f"note {i + 1} crosses the barline at {at} quarter notes")
        position = int(ends[-1]) if len(notes) else 0
        if position != total:
            problems.append(
                f"the melody lasts {Fraction(position, scale)} quarter notes, "
                f"not {Fraction(total, scale)}"
            )
    if p.end_tonic and p.key is not None:
        last = notes[-1]
        if last.pitch is None or (last.pitch - p.transpose) % 12 != p.key.tonic:
            problems.append("the last note is not the tonic")
    if p.no_copy and p.training:
        shared = longest_shared_run(notes, p.training, start=primer)
        if shared >= p.no_copy:
            problems.append(f"{shared} notes in a row copy a training song")
    return problems
