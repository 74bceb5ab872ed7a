"""The data directory: the only way from what a client sends to a file.

Layout (everything the studio keeps; restarting it loses nothing)::

    DATA/models/    bundles, one directory each (melodynet.train's ``out``)
    DATA/uploads/   uploaded song files, ID.SUFFIX, with ID.json (the name it came with)
    DATA/results/   generated melodies, ID.json
    DATA/jobs/      training jobs, ID.json (request, status, epochs, curve, messages)
    DATA/corpus.json  music21 corpus references added in the page
    DATA/cache/     engravings, audio and downloads, by content (safe to delete)
    DATA/tmp/       uploads on their way in, deleted bundles on their way out

Names on disk are generated (``new_id``); a client names things by id or bundle name,
both checked against a strict pattern and then looked up under their directory. Anything
else, or anything that would resolve outside the directory, is ``NotFound`` (404).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

ID = re.compile(r"^[0-9a-f]{16}$")
BUNDLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
AREAS = ("models", "uploads", "results", "jobs", "cache", "tmp")


class NotFound(Exception):
    """Nothing the client may see by that name (answered 404)."""


def new_id() -> str:
    return secrets.token_hex(8)


def safe_label(name: str, limit: int = 80) -> str:
    """A client's file name as a label only: its last component, printable, bounded."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in "<>\"'`")
    return name.strip()[:limit] or "song"


def slug(text: str, limit: int = 60) -> str:
    out = "".join(c if c.isalnum() or c in "-_." else "-" for c in text).strip("-.")
    return (out or "model")[:limit]


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        for area in AREAS:
            (self.root / area).mkdir(parents=True, exist_ok=True)

    def area(self, name: str) -> Path:
        assert name in AREAS
        return self.root / name

    def inside(self, area: str, name: str, pattern: re.Pattern = ID, suffix: str = "") -> Path:
        """``DATA/area/name+suffix`` when ``name`` matches ``pattern`` and the path stays
        under the area; NotFound otherwise (whether or not the file exists)."""
        if not isinstance(name, str) or not pattern.fullmatch(name) or name in (".", ".."):
            raise NotFound(name)
        base = self.area(area)
        path = (base / (name + suffix)).resolve()
        if path.parent != base:
            raise NotFound(name)
        return path

    def existing(self, area: str, name: str, pattern: re.Pattern = ID, suffix: str = "") -> Path:
        path = self.inside(area, name, pattern, suffix)
        if not path.exists():
            raise NotFound(name)
        return path

    def bundle_dir(self, name: str) -> Path:
        return self.inside("models", name, BUNDLE_NAME)

    # JSON records, written whole (temporary file, then rename)

    def write_json(self, path: Path, data: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read_json(self, path: Path, default: Any = None) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return default

    def records(self, area: str) -> list[dict]:
        """Every ID.json record in ``area``, oldest first (by their ``created``)."""
        found = []
        for path in self.area(area).glob("*.json"):
            if ID.fullmatch(path.stem):
                data = self.read_json(path)
                if isinstance(data, dict):
                    found.append(data)
        return sorted(found, key=lambda r: (r.get("created", 0), r.get("id", "")))
