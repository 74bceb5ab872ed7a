"""Hold songs out for validation: whole songs, chosen the same way every time.

The split is by song, never by window, so no held-out note was ever seen in training.
It depends only on the songs' notes and the seed, not on the order the songs were read
in, so the same corpus gives the same split on every machine and in every run. Songs
with identical notes (the same tune in two files, a variant copied twice) always land
on the same side, so a tune cannot be learned from its own copy and "predicted" on the
other side.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

from melodynet.errors import OptionError
from melodynet.songs.song import Song

S = TypeVar("S", bound=Song)


def _identity(song: Song) -> str:
    return " ".join(note.key for note in song.notes)


def split_songs(songs: Sequence[S], fraction: float, seed: int = 0) -> tuple[list[S], list[S]]:
    """(training, validation): about ``fraction`` of the songs held out, at least one.

    Both lists keep the input order. ``fraction`` 0 holds nothing out.
    """
    if not 0 <= fraction < 1:
        raise OptionError(
            f"validation_split must be at least 0 and below 1, not {fraction:g}",
            option="validation_split",
        )
    if fraction == 0:
        return list(songs), []
    if len(songs) < 2:
        raise OptionError(
            f"validation_split {fraction:g} needs at least 2 songs (one to train on, one "
            f"to hold out); got {len(songs)}",
            option="validation_split",
        )
    groups: dict[str, list[int]] = {}
    for index, song in enumerate(songs):
        groups.setdefault(_identity(song), []).append(index)
    if len(groups) < 2:
        raise OptionError(
            f"validation_split {fraction:g}: all {len(songs)} songs have the same notes, "
            "so none can be held out without also being trained on",
            option="validation_split",
        )

    def rank(identity: str) -> str:
        return hashlib.sha256(f"{seed}\n{identity}".encode()).hexdigest()

    target = max(1, round(fraction * len(songs)))
    held: set[int] = set()
    for identity in sorted(groups, key=rank):
        if len(held) >= target:
            break
        members = groups[identity]
        if len(held) + len(members) >= len(songs):
            continue  # would leave nothing to train on
        held.update(members)
    training = [s for i, s in enumerate(songs) if i not in held]
    validation = [s for i, s in enumerate(songs) if i in held]
    return training, validation
