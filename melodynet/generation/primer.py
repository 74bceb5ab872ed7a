"""The user's own primer, made one the model can continue: moved into the model's key,
and its notes the model does not know named, or moved to the nearest notes it knows.

A model trained with ``--transpose common`` knows melodies on the white keys only (C major,
A minor, the modes between). The user's primer (notes, a file, a Song: not the opening
of a training song) is moved into that key, continued there, and the melody is moved
back: into the key asked for (``key``), else into the primer's own key, found by
``melodynet.songs.keys.detect_key`` (major or minor) and ``modal_key`` (the mode whose key
signature fits the notes better, with the same tonic and third). The shift is the one
``--key`` uses (-5 to +6 semitones: F sharp major goes up 6 to C major), or an octave from
it when that leaves fewer primer pitches outside the pitches the model knows (never with a
``range``, which the user's register must keep).

A note the model has never seen after that (a duration outside its vocabulary, a pitch
outside its range) is an UnknownPrimerNote naming the first such note, its position and
the nearest note the model knows (``nearest_note``); ``quantize`` moves each to its nearest
instead, and one MelodynetWarning line says which notes moved.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from melodynet.errors import MelodynetError, OptionError, warn
from melodynet.songs.song import Note, Song

if TYPE_CHECKING:
    from melodynet.generation.constraints import Constraints, Key


class UnknownPrimerNote(OptionError):
    """A primer note the model has never seen (once the primer is in the model's key).

    ``position`` (from 1), ``note`` and ``nearest`` (the nearest note the model knows) are
    in the primer's own key; ``detail`` is the message without the hint to quantize."""

    def __init__(self, position: int, note: Note, nearest: Note, moved: str, more: int) -> None:
        self.position, self.note, self.nearest = position, note, nearest
        self.detail = (
            f"primer: note {position} ({note.tiny}) is not in the model's vocabulary{moved}; "
            f"the nearest note it knows is {nearest.tiny}"
            + (f" ({more} more primer note{'s' * (more != 1)} unknown)" if more else "")
        )
        super().__init__(f"{self.detail}; quantize=True moves such notes there", "primer")


def nearest_note(note: Note, known: Sequence[Note], pitch: int | None = None) -> Note:
    """The note of ``known`` nearest ``note``.

    A rest stays a rest and a sounding note sounds (where ``known`` has that kind). Then
    the nearest duration by ratio (an eighth is as far from a quarter as a quarter is from
    a half; a tie goes to the shorter), so that the rhythm changes least; then, among the
    notes of that duration, the nearest pitch in semitones (a tie goes to the lower): a
    pitch above the model's range becomes the highest it knows at that duration. ``pitch``
    stands in for a rest's pitch where a rest must become a sounding note (a model that
    knows no rests)."""
    pool = [k for k in known if (k.pitch is None) == (note.pitch is None)] or list(known)
    target = note.pitch if note.pitch is not None else pitch if pitch is not None else 60

    def distance(k: Note) -> tuple:
        ratio = abs(math.log2(k.duration / note.duration))
        semitones = 0 if k.pitch is None else abs(k.pitch - target)
        return (round(ratio, 9), semitones, k.duration, -1 if k.pitch is None else k.pitch)

    return min(pool, key=distance)


def known_notes(model) -> list[Note]:
    """Every note the model can take: each combination of its heads' classes."""
    from melodynet.generation.constraints import joint_notes

    return joint_notes(model.codec)


def fit_primer(
    model, notes: list[Note], quantize: bool = False, moved: int = 0, key_name: str = ""
) -> list[Note]:
    """The primer as the model can take it. A note the model does not know is an
    UnknownPrimerNote naming the first (and its nearest), or, with ``quantize``, becomes
    its nearest (``nearest_note``), and a warning names the notes moved. ``moved``:
    semitones the primer was moved into the model's key ``key_name``; the notes named
    are moved back into the primer's own key."""
    codec = model.codec
    unknown = [i for i, n in enumerate(notes) if not _knows(codec, n)]
    if not unknown:
        return notes
    known = known_notes(model)

    def nearest(i: int) -> Note:
        around = [n.pitch for n in notes[i::-1] + notes[i:] if n.pitch is not None]
        return nearest_note(notes[i], known, around[0] if around else None)

    def own(n: Note) -> Note:  # in the primer's key
        back = None if n.pitch is None else n.pitch - moved
        return n if back is not None and not 0 <= back <= 127 else Note(back, n.duration)

    if not quantize:
        where = ""
        if moved:
            into = f", {key_name}" if key_name else ""
            where = f" once moved {moved:+d} semitones into its key{into}"
        first = unknown[0]
        raise UnknownPrimerNote(
            first + 1, own(notes[first]), own(nearest(first)), where, len(unknown) - 1
        )
    fitted = list(notes)
    changes = []
    for i in unknown:
        fitted[i] = nearest(i)
        changes.append(f"note {i + 1} {own(notes[i]).tiny} -> {own(fitted[i]).tiny}")
    more = f" and {len(changes) - 5} more" if len(changes) > 5 else ""
    warn(
        f"primer: {len(changes)} note{'s' * (len(changes) != 1)} the model does not know "
        f"moved to the nearest it knows: {', '.join(changes[:5])}{more}"
    )
    return fitted


def _knows(codec, note: Note) -> bool:
    try:
        codec.classes([note])
    except MelodynetError:  # not in the vocabulary
        return False
    return True


def primer_key(
    model, notes: list[Note], source: Song | None, constraints: Constraints | None
) -> Key | None:
    """The key of the user's primer when the model works in the common key and no key
    is asked for; None otherwise (a training song's opening, a model in many keys)."""
    from melodynet.generation.constraints import Key, in_common_key
    from melodynet.songs.keys import detect_key

    if source is not None or (constraints is not None and constraints.key is not None):
        return None
    if not in_common_key(model.songs):
        return None
    found = detect_key(notes)
    return modal_key(Key(*found), notes) if found is not None else None


# The mode whose tonic lies this many semitones above its relative major, by its third.
_MODES_AT = {
    "major": {0: "major", 5: "lydian", 7: "mixolydian"},
    "minor": {9: "minor", 2: "dorian", 4: "phrygian"},
}
_WHITE = (0, 2, 4, 5, 7, 9, 11)


def modal_key(key: Key, notes: list[Note]) -> Key:
    """``key`` (major or minor, from key analysis), or the mode on the same tonic and with
    the same third whose key signature holds more of the notes: a tune in D with B natural
    and no C sharp is D dorian, not D minor, so it moves onto the white keys as it stands,
    not to A dorian with an F sharp. What counts is the share of the sound (by duration)
    that a move puts on the white keys: the analysed key's move wins unless another puts
    more there and makes such a mode (the smallest such move). The third stays the
    analysis's, so A minor with a raised sixth and seventh stays A minor."""
    from melodynet.generation.constraints import Key
    from melodynet.songs.keys import pitch_class_histogram

    histogram = pitch_class_histogram(notes)

    def on_white(shift: int) -> float:
        return sum(histogram[(w - shift) % 12] for w in _WHITE)

    best = max(on_white(s) for s in range(-5, 7))
    if on_white(common_key_shift(key)) >= best - 1e-9:
        return key
    for shift in sorted((s for s in range(-5, 7) if on_white(s) >= best - 1e-9), key=abs):
        mode = _MODES_AT[key.mode].get((key.tonic + shift) % 12)
        if mode is not None:
            return Key(key.tonic, mode)
    return key


def common_key_shift(key: Key) -> int:
    """Semitones from ``key`` to the common key, as ``--key`` moves a primer: -5 to +6,
    the opposite of the ``transpose`` of constraints.plan."""
    return -((key.relative_major + 6) % 12 - 6)


def into_model_key(model, notes: list[Note], shift: int, octaves: bool = True) -> int:
    """Semitones that move the primer into the model's key: ``shift``, or (``octaves``)
    an octave above or below it when that leaves fewer primer pitches outside those the
    model knows; only moves that keep every pitch in MIDI 0..127, where one does."""
    known = {n.pitch for n in known_notes(model) if n.pitch is not None}
    pitches = [n.pitch for n in notes if n.pitch is not None]
    options = [shift, shift - 12, shift + 12] if octaves else [shift]
    options = [s for s in options if all(0 <= p + s <= 127 for p in pitches)] or [shift]
    return min(options, key=lambda s: (sum(p + s not in known for p in pitches), s != shift))


def shifted(key: Key, semitones: int) -> Key:
    """``key`` moved ``semitones``."""
    from melodynet.generation.constraints import Key

    return Key((key.tonic + semitones) % 12, key.mode)


def move_into(notes: list[Note], semitones: int) -> list[Note]:
    """The notes moved ``semitones``."""
    from melodynet.songs.preprocess import transpose

    return transpose(Song(notes, title="primer"), semitones).notes if semitones else notes


def moved_back(song: Song, semitones: int, key: Key | None, moved: int) -> Song:
    """``song`` moved ``semitones`` (back into the primer's key), saying in its metadata
    what was done: ``key`` and ``extra['primer_key']`` the key found, ``primer_moved``
    the semitones the primer was moved by to reach the model's key."""
    from melodynet.songs.preprocess import transpose

    if semitones:
        song = transpose(song, semitones)
        song.extra.pop("transposed", None)
    if key is not None:
        song.key = key.name
        song.extra["primer_key"] = key.name
        song.extra["primer_moved"] = f"{moved:+d}"
    return song


def check_quantize(quantize) -> None:
    if not isinstance(quantize, bool):
        raise OptionError(f"quantize must be True or False, not {quantize!r}", "quantize")
