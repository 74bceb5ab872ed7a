"""The bundles there are to generate from: ``melodynet.bundles()``.

Two kinds: the pretrained bundles installed plugins ship (``register_bundles``), usable by
name (``melodynet.load("german-folk")``), and the user's own under the models directory
(``$MELODYNET_MODELS``, else ``./models``), one directory each (``models/NAME`` or
``models/GROUP/NAME``). Each is described from its metadata alone: no TensorFlow, no
weights read. A bundle that cannot be used is listed all the same, with ``error`` saying
why in one line (the ``BundleError`` ``melodynet.load`` would raise).

Reading a large bundle's metadata takes a while (a pretrained bundle keeps every training
song), so what it says is kept per directory until its ``melodynet.json`` changes: a
program that lists often (the studio) reads each bundle once.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from melodynet.errors import BundleError, OptionError

PRETRAINED_FILE = "pretrained.json"
"""What a pretrained bundle may keep beside its metadata: how it was made (the command,
the corpus, the time it took, held-out figures...), as ``scripts/pretrain.py`` writes it."""


@dataclass
class BundleInfo:
    """One bundle, as ``melodynet.bundles()`` lists it and ``melodynet bundles`` shows it.

    The fields from ``model`` on come from the bundle's metadata; they are None when the
    bundle cannot be used, and ``error`` then says why."""

    name: str
    """The registered name of a pretrained bundle (``german-folk``), or the directory of
    one of the user's own (``models/butterfly-stateful-lstm``): what ``melodynet.load``
    takes."""
    path: Path
    pretrained: bool
    """Shipped by an installed plugin (True), or one of the user's own (False)."""
    plugin: str = ""
    """The plugin that registered a pretrained bundle, its distribution and version."""
    distribution: str = ""
    version: str = ""
    description: str = ""
    """A pretrained bundle's description, corpus and licence, as its plugin gives them."""
    corpus: str = ""
    licence: str = ""
    size_bytes: int = 0
    """The bundle's files, in bytes."""
    error: str = ""
    """Why the bundle cannot be used, in one line; empty when it can."""
    model: str | None = None
    encoding: str | None = None
    songs: int | None = None
    """Training songs, and the notes in them."""
    training_notes: int | None = None
    heldout_songs: int | None = None
    """Songs held out for validation (``validation_split``)."""
    heldout_bits_per_note: float | None = None
    """The validation loss of the weights the bundle keeps (the best epoch's when training
    stopped early), in bits per note; None without held-out songs."""
    epochs_run: int | None = None
    bar_inputs: bool | None = None
    """Whether the network reads where notes fall in their bars (``train --bar-inputs``)."""
    status: str | None = None
    """``complete``, ``training`` (a checkpoint) or ``interrupted``."""
    melodynet_version: str | None = None
    created: str | None = None
    made: dict[str, Any] | None = field(default=None, repr=False)
    """The bundle's ``pretrained.json`` (how it was made), where it has one."""

    @property
    def source(self) -> str:
        """``plugin`` or ``models``: where the bundle was found."""
        return "plugin" if self.pretrained else "models"

    def to_json(self) -> dict[str, Any]:
        """The record ``melodynet bundles --json`` prints: these fields, ``source`` for
        ``pretrained``, the metadata's fields only when the bundle is usable, and
        ``pretrained`` (the record of how it was made) only where there is one."""
        out: dict[str, Any] = {
            "name": self.name,
            "source": self.source,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "description": self.description,
            "corpus": self.corpus,
            "licence": self.licence,
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "heldout_bits_per_note": self.heldout_bits_per_note,
            "error": self.error,
        }
        if not self.error:
            out.update({key: getattr(self, key) for key in _META_FIELDS})
        if self.made is not None:
            out["pretrained"] = copy.deepcopy(self.made)
        return out


_META_FIELDS = (
    "model",
    "encoding",
    "songs",
    "training_notes",
    "heldout_songs",
    "heldout_bits_per_note",
    "epochs_run",
    "bar_inputs",
    "status",
    "melodynet_version",
    "created",
)


def bundles(
    directory: str | os.PathLike | None = None, *, pretrained: bool | None = None
) -> list[BundleInfo]:
    """Every installed pretrained bundle (by name), then the user's own bundles under
    ``directory`` (default the models directory: ``$MELODYNET_MODELS``, else
    ``./models``), each directory by path. ``pretrained=True`` lists only the pretrained
    ones, ``False`` only the user's own."""
    from melodynet.plugins import registry

    if pretrained is not None and not isinstance(pretrained, bool):
        raise OptionError(
            f"pretrained must be True, False or None, not {pretrained!r}", "pretrained"
        )
    if directory is not None and not isinstance(directory, str | os.PathLike):
        raise OptionError(f"directory must be a path, not {directory!r}", "directory")
    found = []
    if pretrained is not False:
        reg = registry()
        for name, provided in sorted(reg.bundles.items()):
            spec = provided.spec
            info = reg.bundle_plugin(name)
            found.append(
                _describe(
                    Path(spec.path),
                    name=name,
                    pretrained=True,
                    plugin=info.name,
                    distribution=info.distribution,
                    version=info.version,
                    description=spec.description,
                    corpus=spec.corpus,
                    licence=spec.licence,
                )
            )
    if pretrained is not True:
        for path in own_bundles(directory):
            found.append(_describe(path, name=str(path), pretrained=False))
    return found


def own_bundles(directory: str | os.PathLike | None = None) -> list[Path]:
    """The bundle directories under ``directory`` (default the models directory) and one
    level further down, sorted: every directory that holds a ``melodynet.json``."""
    from melodynet.bundle import META_FILE, models_dir

    root = models_dir() if directory is None else Path(directory)
    found = [*root.glob(f"*/{META_FILE}"), *root.glob(f"*/*/{META_FILE}")]
    return sorted(p.parent for p in found)


def heldout_bits(meta) -> float | None:
    """Bits per note on the held-out songs, of the weights the bundle keeps (the best
    epoch's when training stopped early), or None without a validation split."""
    losses = meta.history.get("val_loss") or []
    best = meta.metrics.get("best_epoch") or 0
    nats = losses[best - 1] if 0 < best <= len(losses) else meta.metrics.get("val_loss")
    if not isinstance(nats, int | float) or isinstance(nats, bool):
        return None
    from melodynet.evaluation.scores import bits

    return bits(nats)


def _describe(directory: Path, **fields: Any) -> BundleInfo:
    info = BundleInfo(path=directory, size_bytes=_disk_size(directory), **fields)
    try:
        about = _from_meta(directory)
    except BundleError as exc:
        info.error = exc.message
        return info
    for key, value in about.items():
        setattr(info, key, value)
    extra = directory / PRETRAINED_FILE
    if extra.is_file():
        with contextlib.suppress(OSError, UnicodeDecodeError, json.JSONDecodeError):
            info.made = json.loads(extra.read_text(encoding="utf-8"))
    return info


_read: dict[str, tuple[tuple, dict[str, Any]]] = {}
_read_lock = threading.Lock()


def _stamp(directory: Path) -> tuple | None:
    """What changes when a bundle is rewritten (bundles are replaced whole, so their
    metadata file is a new file): None when there is nothing to read."""
    from melodynet.bundle import META_FILE, MODEL_FILE

    try:
        meta = (directory / META_FILE).stat()
        weights = (directory / MODEL_FILE).stat()
    except OSError:
        return None
    return (meta.st_mtime_ns, meta.st_size, meta.st_ino, meta.st_dev, weights.st_ino)


def _from_meta(directory: Path) -> dict[str, Any]:
    """The fields the bundle's metadata gives, read once per version of the bundle; a
    BundleError when it cannot be read (not kept: the bundle may be mended)."""
    from melodynet.bundle import read_meta

    key, stamp = str(directory), _stamp(directory)
    with _read_lock:
        known = _read.get(key)
    if stamp is not None and known is not None and known[0] == stamp:
        return dict(known[1])
    meta = read_meta(directory)
    about = {
        "model": meta.model,
        "encoding": meta.encoding,
        "songs": len(meta.songs),
        "training_notes": sum(len(s.get("notes", ())) for s in meta.songs),
        "heldout_songs": len(meta.validation_songs),
        "heldout_bits_per_note": heldout_bits(meta),
        "epochs_run": meta.epochs_run,
        "bar_inputs": bool(meta.options.get("bar_inputs", False)),
        "status": meta.status,
        "melodynet_version": meta.melodynet_version,
        "created": meta.created,
    }
    if stamp is not None:
        with _read_lock:
            _read[key] = (stamp, about)
    return dict(about)


def _disk_size(directory: Path) -> int:
    try:
        return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    except OSError:
        return 0
