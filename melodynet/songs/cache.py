"""Parsed songs cached by file content, so a corpus is parsed once.

An entry holds what reading one file gave: its songs, the tunes that could not be read
(with the reason) and the reader's remarks. It is keyed by the SHA-256 of the file's
bytes together with the reader, the melodynet and music21 versions and the ``--part``
option, so an edited file, another reader or a new melodynet parses again, and a file
copied or renamed does not. Entries are compact JSON files under

    $MELODYNET_CACHE                 (``off``, ``0`` or empty: no cache)
    $XDG_CACHE_HOME/melodynet        else
    ~/.cache/melodynet               else

in ``songs/<2 hex digits>/<key>.json``. They are written to a temporary name and
renamed, so two runs may fill the cache at once; a damaged or unreadable entry is a
miss (it is read again and rewritten), and a cache that cannot be written is skipped.
Delete the directory to clear it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from melodynet.atomic import atomic_file
from melodynet.errors import MelodynetError
from melodynet.songs.song import Song

CACHE_ENV = "MELODYNET_CACHE"
FORMAT = 2  # 2: a "# time:" header is kept (tinyNotation no longer overrides it with 4/4)
WHERE = "\x1f"
"""Stands for the file's name in cached messages (the same bytes may live elsewhere)."""


def default_dir() -> Path | None:
    """Where the cache lives, or None when $MELODYNET_CACHE turns it off."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        if value.strip().lower() in ("", "0", "off", "no", "none", "false"):
            return None
        return Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "melodynet"


@dataclass
class Entry:
    """What reading one file gave. Songs carry no path; messages name the file as WHERE."""

    songs: list[Song] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(kind, message) for each tune or file that could not be read."""
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "songs": [s.to_json(compact=True) for s in self.songs],
            "problems": [list(p) for p in self.problems],
            "warnings": self.warnings,
        }

    @classmethod
    def from_json(cls, data: dict) -> Entry:
        if data.get("format") != FORMAT:
            raise ValueError("other format")
        songs = [Song.from_json(s) for s in data["songs"]]
        problems = [(str(kind), str(message)) for kind, message in data["problems"]]
        warnings = [str(w) for w in data["warnings"]]
        return cls(songs, problems, warnings)


@functools.cache
def _music21_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("music21")
    except PackageNotFoundError:
        return ""


class SongCache:
    """The cache in ``directory``; with None, every lookup misses and nothing is stored."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.hits = self.misses = self.damaged = 0
        self.write_error = ""
        """Why the last store failed ('' if none did)."""

    @classmethod
    def default(cls) -> SongCache:
        return cls(default_dir())

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    @staticmethod
    def key(data: bytes, reader: str, part: int | None) -> str:
        from melodynet import __version__

        content = hashlib.sha256(data).hexdigest()
        ident = json.dumps([FORMAT, __version__, _music21_version(), reader, part, content])
        return hashlib.sha256(ident.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / "songs" / key[:2] / f"{key}.json"

    def load(self, key: str) -> Entry | None:
        if self.directory is None:
            return None
        path = self._path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, UnicodeDecodeError):
            return self._damaged(path)
        try:
            entry = Entry.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError, AttributeError, AssertionError):
            return self._damaged(path)
        self.hits += 1
        return entry

    def _damaged(self, path: Path) -> None:
        self.damaged += 1
        self.misses += 1
        with contextlib.suppress(OSError):
            path.unlink()
        return None

    def store(self, key: str, entry: Entry) -> bool:
        """Write the entry; False (and ``write_error`` says why) if the cache is not writable."""
        if self.directory is None:
            return False
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(entry.to_json(), separators=(",", ":"), ensure_ascii=False)
            with atomic_file(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
        except (OSError, MelodynetError) as exc:
            self.write_error = f"{path.parent}: {getattr(exc, 'strerror', None) or exc}"
            return False
        return True
