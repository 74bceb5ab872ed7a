"""The bundles under ``DATA/models`` and a small cache of loaded models.

Listing reads each bundle's metadata only (no TensorFlow). Loading goes through
``melodynet.load``; the most recently used ``size`` models stay loaded, keyed by the
bundle and the time its metadata was written, so a bundle retrained under the same name is
loaded afresh. Generating from one model is serialised by its lock (a model's network is
not made to be run by two threads at once); different models run side by side.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import melodynet
from melodynet.errors import MelodynetError
from melodynet.studio.storage import BUNDLE_NAME, NotFound, Storage


def bundle_summary(directory: Path) -> dict:
    from melodynet.bundle import read_meta

    name = directory.name
    try:
        meta = read_meta(directory)
    except MelodynetError as exc:
        from melodynet.cli.errors import cli_message

        return {"name": name, "error": cli_message(exc)}
    scores = meta.metrics.get("songs") or []
    return {
        "name": name,
        "model": meta.model,
        "encoding": meta.encoding,
        "window": meta.window,
        "units": meta.units,
        "songs": [s.get("name", "") for s in meta.songs],
        "epochs_run": meta.epochs_run,
        "epochs": meta.epochs,
        "status": meta.status,
        "created": meta.created,
        "scores": [
            {
                "song": s.get("song"),
                "one_step": f"{s.get('one_step_correct')}/{s.get('one_step_total')}",
                "full_song": f"{s.get('full_song_matches')}/{s.get('full_song_length')}",
            }
            for s in scores
        ],
        "history": meta.history,
        "params": meta.model_options,
    }


def list_bundles(storage: Storage) -> list[dict]:
    found = []
    for path in sorted(storage.area("models").iterdir()):
        named = BUNDLE_NAME.fullmatch(path.name) and not path.name.startswith(".")
        if named and path.is_dir() and (path / "melodynet.json").is_file():
            found.append(bundle_summary(path))
    return found


class ModelCache:
    def __init__(self, storage: Storage, size: int = 3) -> None:
        self.storage = storage
        self.size = max(1, size)
        self._models: OrderedDict[str, tuple[int, melodynet.Model, threading.Lock]] = OrderedDict()
        self._guard = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def _stamp(self, directory: Path) -> int:
        try:
            return (directory / "melodynet.json").stat().st_mtime_ns
        except OSError:
            raise NotFound(directory.name) from None

    def get(self, name: str) -> tuple[melodynet.Model, threading.Lock]:
        """The loaded model of bundle ``name`` and the lock to hold while using it."""
        directory = self.storage.bundle_dir(name)
        if not directory.is_dir():
            raise NotFound(name)
        stamp = self._stamp(directory)
        with self._guard:
            found = self._models.get(name)
            if found and found[0] == stamp:
                self._models.move_to_end(name)
                return found[1], found[2]
            loading = self._loading.setdefault(name, threading.Lock())
        with loading:  # fifty requests for a cold model load it once
            with self._guard:
                found = self._models.get(name)
                if found and found[0] == stamp:
                    return found[1], found[2]
            model = melodynet.load(directory)
            with self._guard:
                self._models[name] = (stamp, model, threading.Lock())
                self._models.move_to_end(name)
                while len(self._models) > self.size:
                    self._models.popitem(last=False)
                return model, self._models[name][2]

    def loaded(self) -> list[str]:
        with self._guard:
            return list(self._models)

    def forget(self, name: str) -> None:
        with self._guard:
            self._models.pop(name, None)
