"""The bundles a person can generate from, and a small cache of loaded models.

Two kinds, named in requests by a reference:

- the person's own bundles under ``DATA/models`` (trained in the page, or copied there),
  by their directory's name (``butterfly-stateful-lstm``); these can be deleted;
- the pretrained bundles installed plugins ship (``register_bundles``: ``german-folk``
  of ``melodynet-folk``...), as ``pretrained:NAME``, listed by ``melodynet.bundles()``
  and looked up in the plugin registry (as ``melodynet.load(NAME)`` does), never deleted.

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
from melodynet.studio.messages import page_message
from melodynet.studio.storage import BUNDLE_NAME, NotFound, Storage

PRETRAINED = "pretrained:"
"""The prefix of a pretrained bundle's reference (``pretrained:german-folk``)."""


def bundle_summary(directory: Path) -> dict:
    from melodynet.bundle import read_meta

    name = directory.name
    try:
        meta = read_meta(directory)
    except MelodynetError as exc:
        return {"name": name, "ref": name, "pretrained": False, "error": page_message(exc)}
    scores = meta.metrics.get("songs") or []
    return {
        "name": name,
        "ref": name,
        "pretrained": False,
        "model": meta.model,
        "encoding": meta.encoding,
        "window": meta.window,
        "units": meta.units,
        "bar_inputs": bool(meta.options.get("bar_inputs", False)),
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
    """The person's own bundles under ``DATA/models``."""
    found = []
    for path in sorted(storage.area("models").iterdir()):
        named = BUNDLE_NAME.fullmatch(path.name) and not path.name.startswith(".")
        if named and path.is_dir() and (path / "melodynet.json").is_file():
            found.append(bundle_summary(path))
    return found


def pretrained_bundles() -> list[dict]:
    """The pretrained bundles installed plugins register, as ``melodynet.bundles()`` lists
    them (model, songs, held-out bits per note...; each read once until it changes), with
    the plugin's description, corpus and licence, as the page shows them."""
    return [_pretrained(b) for b in melodynet.bundles(pretrained=True)]


def _pretrained(b: melodynet.BundleInfo) -> dict:
    summary = {
        "name": b.name,
        "ref": PRETRAINED + b.name,
        "pretrained": True,
        "description": b.description,
        "corpus": b.corpus,
        "licence": b.licence,
        "distribution": b.distribution or b.plugin,
        "version": b.version,
        "model": b.model,
        "encoding": b.encoding,
        "songs": b.songs,
        "training_notes": b.training_notes,
        "heldout_bits_per_note": b.heldout_bits_per_note,
        "epochs_run": b.epochs_run,
        "status": b.status,
        "size_bytes": b.size_bytes,
    }
    if b.error:
        summary["error"] = b.error
    return summary


def bundle_directory(storage: Storage, ref: str) -> Path:
    """The directory a reference names: ``pretrained:NAME`` through the plugin registry,
    any other name under ``DATA/models``; NotFound (404) for anything else."""
    if not isinstance(ref, str):
        raise NotFound(ref)
    if ref.startswith(PRETRAINED):
        from melodynet.plugins import registry

        spec = registry().bundle(ref[len(PRETRAINED) :])
        if spec is None:
            raise NotFound(ref)
        directory = Path(spec.path)
        if not (directory / "melodynet.json").is_file():  # the plugin's files are missing
            from melodynet.bundle import read_meta

            read_meta(directory)  # the library's one line (BundleError) says what is wrong
        return directory
    directory = storage.bundle_dir(ref)
    if not directory.is_dir():
        raise NotFound(ref)
    return directory


def display_name(ref: str) -> str:
    """A reference as the page names the model (``german-folk`` for ``pretrained:german-folk``)."""
    return ref.removeprefix(PRETRAINED)


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
        """The loaded model of bundle ``name`` (a reference: a bundle under ``DATA/models``
        or ``pretrained:NAME``) and the lock to hold while using it."""
        directory = bundle_directory(self.storage, name)
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
