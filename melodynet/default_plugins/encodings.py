"""Built-in encodings: one token per note, or pitch and duration apart."""

from fractions import Fraction

from melodynet.hookspecs import EncodingSpec, hookimpl
from melodynet.songs.song import Note


def _single_labels(note: Note) -> tuple[str, ...]:
    return (note.key,)


def _single_note(labels: tuple[str, ...]) -> Note:
    return Note.from_key(labels[0])


def _split_labels(note: Note) -> tuple[str, ...]:
    return ("rest" if note.pitch is None else str(note.pitch), str(note.duration))


def _split_note(labels: tuple[str, ...]) -> Note:
    pitch, duration = labels
    return Note(None if pitch == "rest" else int(pitch), Fraction(duration))


@hookimpl
def register_encodings(register):
    register(
        EncodingSpec(
            name="single",
            heads=("note",),
            labels=_single_labels,
            note=_single_note,
            description="one token per distinct (pitch, duration)",
        )
    )
    register(
        EncodingSpec(
            name="split",
            heads=("pitch", "duration"),
            labels=_split_labels,
            note=_split_note,
            description="pitch and duration as two features and two softmax heads",
        )
    )
