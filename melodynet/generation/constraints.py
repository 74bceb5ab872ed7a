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


_DURATIONS: dict[Fraction, int] = {}


def _code(duration: Fraction) -> int:
    """A small integer per duration: tuples of ints hash far faster than Fractions."""
    return _DURATIONS.setdefault(duration, len(_DURATIONS))


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


def _arrays(notes: list[Note]) -> tuple[np.ndarray, np.ndarray]:
    durations = np.array([_code(n.duration) for n in notes], dtype=np.int64)
    pitches = np.array([-1 if n.pitch is None else n.pitch for n in notes], dtype=np.int64)
    return durations, pitches


def longest_shared_run(notes: list[Note], songs: list[Song], start: int = 0) -> int:
    """The most consecutive notes (in any transposition) that ``notes`` shares with any of
    ``songs``, counting only runs that end at or after note ``start``.

    A dynamic programme over every (note, training note) pair, vectorised over the training
    notes: a run grows while durations and rests agree and every pitched pair of the run is
    the same interval apart."""
    if not notes or not songs:
        return 0
    parts = []
    for song in songs:
        parts.append(_arrays(song.notes))
        parts.append((np.array([-2]), np.array([-1])))  # a separator matches nothing
    train = (np.concatenate([d for d, _ in parts]), np.concatenate([p for _, p in parts]))
    out = _arrays(notes)
    counted = np.arange(len(notes)) >= start
    if len(out[0]) <= len(train[0]):
        return _longest(out, train, lambda i, length: length.max() if counted[i] else 0)
    # fewer training notes than notes: walk the training notes instead (the same pairs)
    return _longest(train, out, lambda _i, length: length[counted].max(initial=0))


def _longest(walked, across, best_of) -> int:
    """The longest run over pairs (walked note, across note), walking one sequence and
    vectorising over the other; ``best_of(i, lengths)`` picks the runs that count."""
    walk_d, walk_p = walked
    across_d, across_p = across
    size, none = len(across_d), np.iinfo(np.int64).min
    length = np.zeros(size, dtype=np.int64)
    shift = np.full(size, none)  # the run's transposition (none yet)
    rests = np.zeros(size, dtype=np.int64)  # rests at the run's end
    best = 0
    for i in range(len(walk_d)):
        prev_length = np.concatenate([[0], length[:-1]])
        prev_shift = np.concatenate([[none], shift[:-1]])
        prev_rests = np.concatenate([[0], rests[:-1]])
        same = across_d == walk_d[i]
        if walk_p[i] < 0:
            same &= across_p < 0
            length = np.where(same, prev_length + 1, 0)
            shift = np.where(same, prev_shift, none)
            rests = np.where(same, prev_rests + 1, 0)
        else:
            same &= across_p >= 0
            delta = walk_p[i] - across_p
            keeps = (prev_length > 0) & ((prev_shift == none) | (prev_shift == delta))
            length = np.where(same, np.where(keeps, prev_length + 1, prev_rests + 1), 0)
            shift = np.where(same, delta, none)
            rests = np.zeros(size, dtype=np.int64)
        best = max(best, int(best_of(i, length)))
    return best


# ---------------------------------------------------------------- checking a melody


def violations(song: Song, constraints: Constraints, p: Plan, primer: int) -> list[str]:
    """What ``song`` breaks of the constraints (an empty list when it satisfies them)."""
    problems = []
    notes = song.notes
    generated = notes[primer:]
    for i, n in enumerate(generated, primer + 1):
        if n.pitch is None:
            continue
        if p.pitch_classes is not None and (n.pitch - p.transpose) % 12 not in p.pitch_classes:
            problems.append(f"note {i} ({pitch_name(n.pitch)}) is not in the key")
        if not p.low + p.transpose <= n.pitch <= p.high + p.transpose:
            problems.append(f"note {i} ({pitch_name(n.pitch)}) is outside the range")
    if p.bar is not None:
        position = 0
        bar, pickup = Fraction(p.bar) * p.unit, Fraction(p.pickup) * p.unit
        total = pickup + bar * p.section_bars * len(p.sections)
        for i, n in enumerate(notes, 1):
            start, end = position, position + n.duration
            boundary = pickup
            if start >= pickup:
                boundary = pickup + (math.floor((start - pickup) / bar) + 1) * bar
            if end > boundary and start < total:
                problems.append(f"note {i} crosses the barline at {boundary} quarter notes")
            position = end
        if position != total:
            problems.append(f"the melody lasts {position} quarter notes, not {total}")
    if p.end_tonic and p.key is not None:
        last = notes[-1]
        if last.pitch is None or (last.pitch - p.transpose) % 12 != p.key.tonic:
            problems.append("the last note is not the tonic")
    if p.no_copy and p.training:
        shared = longest_shared_run(notes, p.training, start=primer)
        if shared >= p.no_copy:
            problems.append(f"{shared} notes in a row copy a training song")
    return problems
