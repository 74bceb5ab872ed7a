"""The songs a person can pick: the bundled ones, their uploads, music21's corpus.

A song is named in the page by a reference: ``bundled:butterfly``, ``upload:ID``,
``corpus:essenFolksong/kinder0`` or ``result:ID`` (a generated melody), with ``#N`` for
tune N (from 0) of a file of several. References are looked up, never used as paths:
bundled names in the list of bundled files, ids under the data directory (``storage``),
corpus names given to ``melodynet.read`` as ``corpus:`` references after a strict check.
"""

from __future__ import annotations

import dataclasses
import re
import time
import warnings
from pathlib import Path

import melodynet
from melodynet.errors import MelodynetError, SongError
from melodynet.songs import archive
from melodynet.studio.messages import WARNINGS, page_message
from melodynet.studio.storage import ID, NotFound, Storage, new_id, safe_label

BUNDLED_DIR = Path(melodynet.__file__).resolve().parents[1] / "songs"
"""The songs that come with melodynet (a source checkout's ``songs/``)."""
CORPUS_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")
LISTED_TUNES = 200
"""Tunes listed per source (a corpus collection can hold thousands)."""


def readable_suffixes() -> list[str]:
    from melodynet.plugins import registry

    return sorted(registry().readers)


def song_summary(ref: str, song: melodynet.Song) -> dict:
    return {
        "ref": ref,
        "name": song.name,
        "title": song.title or song.name,
        "notes": len(song),
        "key": song.key,
        "time_signature": song.time_signature,
    }


class Library:
    def __init__(self, storage: Storage, bundled: Path | None = BUNDLED_DIR) -> None:
        self.storage = storage
        self.bundled = bundled if bundled and (bundled / "butterfly.txt").is_file() else None
        # (source, part) -> (the file's time, its songs, what reading it said)
        self._cache: dict[tuple[str, int | None], tuple[float, list, list[str]]] = {}
        self._lock = WARNINGS  # warnings are process-wide: one catch at a time

    # sources

    def bundled_files(self) -> dict[str, Path]:
        if self.bundled is None:
            return {}
        suffixes = set(readable_suffixes())
        return {
            p.stem: p
            for p in sorted(self.bundled.iterdir())
            if p.is_file() and p.suffix.lower() in suffixes
        }

    def uploads(self) -> list[dict]:
        return self.storage.records("uploads")

    def corpus_refs(self) -> list[str]:
        found = self.storage.read_json(self.storage.root / "corpus.json", [])
        return [r for r in found if isinstance(r, str) and CORPUS_NAME.fullmatch(r)]

    def source_refs(self) -> list[str]:
        return (
            [f"bundled:{name}" for name in self.bundled_files()]
            + [f"upload:{u['id']}" for u in self.uploads() if ID.fullmatch(u.get("id", ""))]
            + [f"corpus:{name}" for name in self.corpus_refs()]
        )

    def catalog(self) -> list[dict]:
        """Every source with its tunes (the first LISTED_TUNES), or the line why not."""
        out = []
        labels = {f"upload:{u['id']}": u.get("filename", "upload") for u in self.uploads()}
        for ref in self.source_refs():
            kind, _, name = ref.partition(":")
            entry = {"ref": ref, "kind": kind, "label": labels.get(ref, name), "songs": []}
            try:
                songs, notes = self.songs_of(ref)
                entry["songs"] = [
                    song_summary(f"{ref}#{i}", s) for i, s in enumerate(songs[:LISTED_TUNES])
                ]
                entry["total"] = len(songs)
                entry["notes"] = notes
            except MelodynetError as exc:
                entry["error"] = page_message(exc)
            out.append(entry)
        return out

    # reading

    def _path(self, ref: str) -> tuple[str, str]:
        """(what melodynet.read takes, the label messages should show) for a source."""
        kind, _, name = ref.partition(":")
        if kind == "bundled":
            path = self.bundled_files().get(name)
            if path is None:
                raise NotFound(ref)
            return str(path), path.name
        if kind == "upload":
            record = self.storage.read_json(self.storage.existing("uploads", name, suffix=".json"))
            if not isinstance(record, dict):
                raise NotFound(ref)
            path = self.storage.existing("uploads", name, suffix=record.get("suffix", ""))
            return str(path), record.get("filename", path.name)
        if kind == "corpus" and CORPUS_NAME.fullmatch(name) and ".." not in name:
            return ref, ref
        raise NotFound(ref)

    def songs_of(
        self, source: str, part: int | None = None
    ) -> tuple[list[melodynet.Song], list[str]]:
        """The songs of a source and the lines read reported (tunes skipped...); ``part``:
        that part of multi-part scores (1 = top; None: the top line)."""
        target, label = self._path(source)
        stamp = 0.0 if source.startswith("corpus:") else Path(target).stat().st_mtime
        cached = self._cache.get((source, part))
        if cached and cached[0] == stamp:
            return cached[1], cached[2]
        songs, notes = self.read(target, label, part)
        self._cache[(source, part)] = (stamp, songs, notes)
        return songs, notes

    def read(
        self, target: str, label: str, part: int | None = None
    ) -> tuple[list[melodynet.Song], list[str]]:
        """melodynet.read on ``target`` (``part`` of multi-part scores), every message
        naming ``label`` instead (an upload's own name, never the generated one). Archives
        are checked before anything opens them."""
        if archive.is_archive(target) and not target.startswith("corpus:"):
            archive.check_archive(target, label=label)
        with self._lock, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", melodynet.MelodynetWarning)
            try:
                songs = melodynet.read(target, part=part)
            except MelodynetError as exc:
                exc.message = exc.message.replace(target, label)
                raise
        notes = [
            str(w.message).replace(target, label)
            for w in caught
            if issubclass(w.category, melodynet.MelodynetWarning)
        ]
        if target != label:
            songs = [dataclasses.replace(s, path=label) if s.path == target else s for s in songs]
        return songs, notes

    def song(self, ref: str, part: int | None = None) -> melodynet.Song:
        """The song a reference names (``#N``: tune N; none: the first), ``part`` as for
        ``songs_of``."""
        source, _, tune = ref.partition("#")
        if source.startswith("result:"):
            if tune:
                raise NotFound(ref)
            return self.result_song(source.partition(":")[2])
        if tune and not tune.isdigit():
            raise NotFound(ref)
        songs, _ = self.songs_of(source, part)
        index = int(tune or 0)
        if index >= len(songs):
            raise NotFound(ref)
        return songs[index]

    def result_record(self, result_id: str) -> dict:
        path = self.storage.existing("results", result_id, suffix=".json")
        record = self.storage.read_json(path)
        if not isinstance(record, dict) or not isinstance(record.get("song"), dict):
            raise NotFound(result_id)
        return record

    def result_song(self, result_id: str) -> melodynet.Song:
        return melodynet.Song.from_json(self.result_record(result_id)["song"])

    # adding and removing

    def add_upload(self, data: bytes, filename: str) -> dict:
        """Keep an uploaded file if melodynet can read it; SongError (one line naming the
        file as the client called it) if not, and nothing is kept."""
        label = safe_label(filename)
        suffix = Path(label).suffix.lower()
        readable = readable_suffixes()
        if suffix not in readable:
            raise SongError(
                f"{label}: no reader for {suffix or 'files without a suffix'} "
                f"(readable: {', '.join(readable)})"
            )
        upload_id = new_id()
        path = self.storage.inside("uploads", upload_id, suffix=suffix)
        tmp = self.storage.area("tmp") / f"{upload_id}{suffix}"
        tmp.write_bytes(data)
        try:
            songs, notes = self.read(str(tmp), label)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        record = {
            "id": upload_id,
            "filename": label,
            "suffix": suffix,
            "bytes": len(data),
            "created": time.time(),
        }
        self.storage.write_json(self.storage.inside("uploads", upload_id, suffix=".json"), record)
        ref = f"upload:{upload_id}"
        self._forget(ref)
        return {
            "ref": ref,
            "label": label,
            "songs": [song_summary(f"{ref}#{i}", s) for i, s in enumerate(songs[:LISTED_TUNES])],
            "total": len(songs),
            "notes": notes,
        }

    def remove_upload(self, upload_id: str) -> None:
        record_path = self.storage.existing("uploads", upload_id, suffix=".json")
        record = self.storage.read_json(record_path, {})
        suffix = record.get("suffix", "") if isinstance(record, dict) else ""
        if suffix:
            self.storage.inside("uploads", upload_id, suffix=suffix).unlink(missing_ok=True)
        record_path.unlink(missing_ok=True)
        self._forget(f"upload:{upload_id}")

    def add_corpus(self, reference: str) -> dict:
        name = reference.strip().removeprefix("corpus:").strip("/")
        if not CORPUS_NAME.fullmatch(name) or ".." in name:
            raise SongError(
                f"corpus:{name[:80]}: not a corpus reference (for example "
                "corpus:essenFolksong/kinder0)"
            )
        ref = f"corpus:{name}"
        songs, notes = self.songs_of(ref)
        refs = self.corpus_refs()
        if name not in refs:
            self.storage.write_json(self.storage.root / "corpus.json", [*refs, name])
        return {
            "ref": ref,
            "label": name,
            "songs": [song_summary(f"{ref}#{i}", s) for i, s in enumerate(songs[:LISTED_TUNES])],
            "total": len(songs),
            "notes": notes,
        }

    def songs_for(self, refs: list[str], part: int | None = None) -> list[melodynet.Song]:
        """The songs references name; a whole source for a reference without ``#N``;
        ``part`` as for ``songs_of`` (a generated melody has one part)."""
        songs = []
        for ref in refs:
            if ref.startswith("result:"):
                songs.append(self.song(ref))
            elif "#" in ref:
                songs.append(self.song(ref, part))
            else:
                songs.extend(self.songs_of(ref, part)[0])
        return songs

    def _forget(self, source: str) -> None:
        for key in [k for k in list(self._cache) if k[0] == source]:
            self._cache.pop(key, None)
