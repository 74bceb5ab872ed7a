"""Songs and notes: the plain data every other module passes around."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

# music21's default spelling of the twelve pitch classes.
_NAMES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B")

# (quarter length, tinyNotation duration) for every single-token duration, longest first.
_PLAIN = [
    (Fraction(4, d) * (2 - Fraction(1, 2**dots)), f"{d}{'.' * dots}")
    for d in (1, 2, 4, 8, 16, 32, 64, 128)
    for dots in (0, 1, 2)
]
_TRIPLETS = [(Fraction(4, d) * Fraction(2, 3), f"{d}") for d in (2, 4, 8, 16, 32, 64)]
_DURATION_TEXT = dict(_PLAIN)
_PIECES = sorted(
    [(q, False, t) for q, t in _PLAIN] + [(q, True, t) for q, t in _TRIPLETS], reverse=True
)


SHORTEST = Fraction(1, 32)  # a 128th note
LONGEST = Fraction(64)  # sixteen whole notes


def duration_problem(quarter_length: Fraction) -> str:
    """Why melodynet cannot take a note of this length, or '' if it can."""
    if not SHORTEST <= quarter_length <= LONGEST:
        return (
            f"lasts {quarter_length} quarter notes; melodynet takes notes from a 128th "
            "note to sixteen whole notes"
        )
    try:
        duration_pieces(quarter_length)
    except ValueError:
        return (
            f"lasts {quarter_length} quarter notes, which is no sum of plain, dotted "
            "and triplet values"
        )
    return ""


def pitch_name(midi: int) -> str:
    """'G4' for 67, spelled the way music21 spells a bare MIDI number."""
    return f"{_NAMES[midi % 12]}{midi // 12 - 1}"


def _tiny_pitch(midi: int | None) -> str:
    if midi is None:
        return "r"
    name = _NAMES[midi % 12]
    step, accidental = name[0].lower(), name[1:]
    octave = midi // 12 - 1
    if octave >= 4:
        return step + "'" * (octave - 4) + accidental  # music21 ignores ' after #
    return step.upper() * (4 - octave) + accidental


def duration_pieces(quarter_length: Fraction) -> list[tuple[str, bool]]:
    """Split a duration into as few tinyNotation durations as tie together to it.

    Returns (duration text, is_triplet) pairs; raises ValueError when no
    combination of plain, dotted and triplet values adds up exactly.
    """
    remaining = Fraction(quarter_length)
    wholes = []
    while remaining > 8:  # long notes: whole notes first, then the short search below
        wholes.append(("1", False))
        remaining -= 4
    for depth in range(1, 7):
        found = _pieces(remaining, depth)
        if found is not None:
            return wholes + list(found)
    raise ValueError(f"duration of {quarter_length} quarter notes has no tinyNotation form")


@functools.cache
def _pieces(remaining: Fraction, depth: int) -> tuple[tuple[str, bool], ...] | None:
    if remaining == 0:
        return ()
    if depth == 0:
        return None
    for q, triplet, text in _PIECES:
        if q <= remaining:
            rest = _pieces(remaining - q, depth - 1)
            if rest is not None:
                return ((text, triplet), *rest)
    return None


@dataclass(frozen=True)
class Note:
    """One melody event: a MIDI pitch (None for a rest) held for a duration in quarter notes."""

    pitch: int | None
    duration: Fraction

    def __post_init__(self) -> None:
        object.__setattr__(self, "duration", Fraction(self.duration))
        assert self.duration > 0, "a note lasts for some time"
        assert self.pitch is None or 0 <= self.pitch <= 127, "MIDI pitch range"

    @property
    def is_rest(self) -> bool:
        return self.pitch is None

    @property
    def key(self) -> str:
        """Exact label, MIDI pitch and quarter length: '67:1/2' (G4 eighth) or 'rest:1'."""
        return f"{'rest' if self.pitch is None else self.pitch}:{self.duration}"

    @classmethod
    def from_key(cls, key: str) -> Note:
        pitch, _, duration = key.partition(":")
        return cls(None if pitch == "rest" else int(pitch), Fraction(duration))

    @property
    def tiny(self) -> str:
        """The note in tinyNotation: 'g8', "c'4.", 'r4', or tied pieces such as 'c2~ c8'."""
        head = _tiny_pitch(self.pitch)
        plain = _DURATION_TEXT.get(self.duration)
        if plain is not None:
            return head + plain
        tokens = []
        for text, triplet in duration_pieces(self.duration):
            token = head + text
            tokens.append(f"trip{{{token}}}" if triplet else token)
        joiner = " " if self.pitch is None else "~ "
        return joiner.join(tokens)


@dataclass
class Song:
    """A monophonic melody with the metadata that travels with it."""

    notes: list[Note]
    title: str = ""
    tempo: float = 120.0
    time_signature: str = "4/4"
    key: str = ""
    source: str = ""
    path: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.notes)

    @property
    def name(self) -> str:
        """Short name used for bundles, reports and --song: the file's stem (with ``#N`` for
        tune N of a file of several), else the title."""
        if self.path:
            stem = self.path.replace("\\", "/").rsplit("/", 1)[-1]
            stem = stem.rsplit(".", 1)[0] if "." in stem else stem
            tune = self.extra.get("tune")
            return f"{stem}#{tune}" if tune else stem
        return self.title or "song"

    @property
    def quarter_length(self) -> Fraction:
        return sum((n.duration for n in self.notes), Fraction(0))

    def tiny(self) -> str:
        return " ".join(n.tiny for n in self.notes)

    def to_json(self, compact: bool = False) -> dict:
        """The song as JSON: bundles keep every field; ``compact`` (the song cache) leaves
        out defaults and joins the notes into one string."""
        out = {
            "name": self.name,
            "title": self.title,
            "path": self.path,
            "tempo": self.tempo,
            "time_signature": self.time_signature,
            "key": self.key,
            "source": self.source,
            "extra": dict(self.extra),
            "notes": [n.key for n in self.notes],
        }
        if not compact:
            return out
        defaults = {
            "name": None,
            "path": None,
            "title": "",
            "tempo": 120.0,
            "key": "",
            "time_signature": "4/4",
            "source": "",
            "extra": {},
        }
        out = {k: v for k, v in out.items() if k not in defaults or v != defaults[k]}
        out.pop("name"), out.pop("path", None)
        out["notes"] = " ".join(out["notes"])
        return out

    @classmethod
    def from_json(cls, data: dict) -> Song:
        """The song ``to_json`` wrote (either form); ValueError for one without notes."""
        keys = data["notes"]
        keys = keys.split() if isinstance(keys, str) else keys
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ValueError("notes are not 'pitch:duration' labels")
        notes = [_note(k) for k in keys]
        if not notes:
            raise ValueError("a song without notes")
        extra = data.get("extra") or {}
        if not isinstance(extra, dict):
            raise ValueError("extra is not a mapping")
        return cls(
            notes=notes,
            title=str(data.get("title", "")),
            tempo=float(data.get("tempo", 120.0)),
            time_signature=str(data.get("time_signature", "4/4")),
            key=str(data.get("key", "")),
            source=str(data.get("source", "")),
            path=str(data.get("path", "")),
            extra={str(k): str(v) for k, v in extra.items()},
        )

    @classmethod
    def from_text(cls, text: str, **metadata) -> Song:
        """A song from tinyNotation (``"g8 e8 e4 f8 d8 d4"``); ``metadata`` sets the other
        fields (``title=``, ``tempo=``...). Bad notes raise SongError naming the token."""
        from melodynet.songs.tinynotation import parse_notes

        notes, time_signature = parse_notes(text, where=metadata.get("title") or "notes")
        if time_signature and "time_signature" not in metadata:
            metadata["time_signature"] = time_signature
        return cls(notes=notes, **metadata)

    def write(self, path: str | Path, **write_options) -> Path:
        """Write the song with the writer its suffix names (.mid, .musicxml, .txt, .svg,
        .wav...), whole or not at all. ``write_options``: ``tempo``, ``instrument``."""
        from melodynet.songs.files import write_song

        return write_song(self, path, **write_options)

    def to_music21(self, tempo: float | None = None):
        """A music21 Score in measures, with key signature and spelled pitches."""
        from melodynet.render.notation import engraving_score

        return engraving_score(self, tempo)

    def _repr_html_(self) -> str:
        """Jupyter shows a song as its engraved score with an audio player."""
        from melodynet.render.report import song_html

        return song_html(self)


@functools.lru_cache(maxsize=4096)
def _note(key: str) -> Note:
    """Note.from_key, shared: a corpus has a few hundred distinct notes, read 400,000 times."""
    return Note.from_key(key)
