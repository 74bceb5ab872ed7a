"""An encoding plus its learned vocabulary: notes to class indices and back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from melodynet.errors import MelodynetError
from melodynet.hookspecs import EncodingSpec
from melodynet.songs.song import Note, Song


@dataclass
class Codec:
    spec: EncodingSpec
    vocabulary: dict[str, list[str]]
    """Per head, the labels seen in training, in a fixed order (index = class)."""

    def __post_init__(self) -> None:
        assert list(self.vocabulary) == list(self.spec.heads), "one vocabulary per head"
        self._index = {
            h: {label: i for i, label in enumerate(v)} for h, v in self.vocabulary.items()
        }
        self._decoded: dict[tuple[int, ...], Note] = {}

    @classmethod
    def fit(cls, spec: EncodingSpec, songs: Sequence[Song]) -> Codec:
        seen: dict[str, set[str]] = {head: set() for head in spec.heads}
        for song in songs:
            for note in song.notes:
                for head, label in zip(spec.heads, _labels(spec, note), strict=True):
                    seen[head].add(label)
        return cls(spec, {head: sorted(labels) for head, labels in seen.items()})

    @property
    def heads(self) -> tuple[str, ...]:
        return self.spec.heads

    @property
    def sizes(self) -> list[int]:
        return [len(self.vocabulary[h]) for h in self.heads]

    @property
    def feature_size(self) -> int:
        return sum(self.sizes)

    def classes(self, notes: Sequence[Note], where: str = "") -> np.ndarray:
        """(len(notes), heads) class indices; unknown notes are a user error."""
        out = np.zeros((len(notes), len(self.heads)), dtype=np.int32)
        for i, note in enumerate(notes):
            for j, (head, label) in enumerate(
                zip(self.heads, _labels(self.spec, note), strict=True)
            ):
                index = self._index[head].get(label)
                if index is None:
                    raise MelodynetError(
                        f"{where or 'notes'}: note {i + 1} ({note.tiny}) is not in the model's "
                        f"vocabulary ({self._known(head)})"
                    )
                out[i, j] = index
        return out

    def _known(self, head: str) -> str:
        labels = self.vocabulary[head]
        if len(self.heads) == 1:
            shown = [self.spec.note((label,)).tiny for label in labels]
        else:
            shown = [f"{head} {label}" for label in labels]
        more = f" and {len(shown) - 20} more" if len(shown) > 20 else ""
        return ", ".join(shown[:20]) + more

    def notes(self, classes: np.ndarray) -> list[Note]:
        return [
            self._note(tuple(row))
            for row in np.asarray(classes).reshape(-1, len(self.heads)).tolist()
        ]

    def _note(self, row: tuple[int, ...]) -> Note:
        """The note of one row of classes, decoded once per distinct row."""
        note = self._decoded.get(row)
        if note is None:
            labels = tuple(self.vocabulary[h][c] for h, c in zip(self.heads, row, strict=True))
            note = self._decoded[row] = self.spec.note(labels)
        return note


def _labels(spec: EncodingSpec, note: Note) -> tuple[str, ...]:
    labels = tuple(spec.labels(note))
    assert len(labels) == len(spec.heads), f"encoding {spec.name} gives one label per head"
    return labels
