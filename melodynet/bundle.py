"""Model bundles: a directory with the Keras model and the metadata needed to use it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from melodynet.atomic import atomic_dir, write_text
from melodynet.errors import BundleError, one_line
from melodynet.songs.song import Song

MODEL_FILE = "model.keras"
META_FILE = "melodynet.json"
STATE_FILE = "training-state.npz"
NUMPY_FILE = "network.npz"
"""The network's weights for generating without TensorFlow (see generation.numpy_network)."""
FORMAT = 1
LATEST_FILE = "LATEST"


@dataclass
class BundleMeta:
    """Everything besides the weights: how to encode, what was learned from, how it went."""

    model: str
    model_plugin: str
    model_distribution: str
    encoding: str
    window: int
    units: int
    vocabulary: dict[str, list[str]]
    songs: list[dict[str, Any]]
    random_seed: int
    epochs: int
    epochs_run: int
    batch_size: int
    learning_rate: float
    metrics: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    model_options: dict[str, Any] = field(default_factory=dict)
    validation_songs: list[dict[str, Any]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    """The training options, so `train --resume` can continue with the same ones."""
    status: str = "complete"
    """complete, training (a checkpoint) or interrupted."""
    melodynet_version: str = ""
    format: int = FORMAT
    created: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    """The network's layers for ``generation.numpy_network`` (weights in network.npz);
    empty when it has layers numpy does not run (generation then uses Keras)."""

    def song_objects(self) -> list[Song]:
        return [Song.from_json(s) for s in self.songs]


def models_dir() -> Path:
    """Where bundles go by default: $MELODYNET_MODELS, else ./models."""
    return Path(os.environ.get("MELODYNET_MODELS", "models"))


def default_dir(songs: list[Song], model: str) -> Path:
    stem = songs[0].name if len(songs) == 1 else f"{songs[0].name}+{len(songs) - 1}"
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem)
    return models_dir() / f"{safe}-{model}"


def save(
    directory: Path, model, meta: BundleMeta, replace: bool = False, state=None, exported=None
) -> None:
    """Write the bundle whole (temporary directory, then rename) and point LATEST at it.

    ``state`` (a training Snapshot) adds what `train --resume` needs: the optimizer's
    variables and the position in the epoch. ``exported`` (description, weights) is the
    network for numpy, written beside the Keras model when given.
    """
    import keras

    from melodynet.tfenv import tensorflow

    tf = tensorflow()

    from melodynet import __version__

    meta.melodynet_version = __version__
    meta.created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    meta.versions = {"keras": keras.__version__, "tensorflow": tf.__version__}
    meta.network = {}
    with atomic_dir(directory, replace=replace) as tmp:
        model.save(tmp / MODEL_FILE)
        if exported:
            np.savez(tmp / NUMPY_FILE, **{f"w{i}": w for i, w in enumerate(exported[1])})
            meta.network = {**exported[0], "model_sha256": _sha256(tmp / MODEL_FILE)}
        if state is not None:
            arrays = {f"optimizer_{i}": v for i, v in enumerate(state.optimizer)}
            np.savez(tmp / STATE_FILE, step=state.step, partial=np.asarray(state.partial), **arrays)
        (tmp / META_FILE).write_text(json.dumps(asdict(meta), indent=1) + "\n", encoding="utf-8")
    models_dir().mkdir(parents=True, exist_ok=True)
    write_text(models_dir() / LATEST_FILE, str(Path(directory).resolve()) + "\n")


def latest() -> Path:
    pointer = models_dir() / LATEST_FILE
    if not pointer.exists():
        raise BundleError(
            f"no trained model yet ({pointer} not found); train one first, or name a "
            "bundle directory"
        )
    directory = Path(pointer.read_text(encoding="utf-8").strip())
    if not directory.exists():
        raise BundleError(
            f"the latest trained model, {directory}, is gone (deleted or moved; {pointer} "
            "names it); train one, or name a bundle directory"
        )
    return directory


def read_meta(directory: Path) -> BundleMeta:
    directory = Path(directory)
    if not directory.is_dir():
        raise BundleError(f"{directory}: no such model bundle directory")
    path = directory / META_FILE
    if not path.is_file() or not (directory / MODEL_FILE).is_file():
        raise BundleError(
            f"{directory}: not a melodynet bundle (expected {META_FILE} and {MODEL_FILE})"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path}: unreadable metadata ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("format"), int):
        raise BundleError(f"{path}: not melodynet metadata")
    if data["format"] > FORMAT:
        raise BundleError(
            f"{path}: written by melodynet {data.get('melodynet_version', '?')} in bundle format "
            f"{data['format']}; this melodynet reads format {FORMAT}: upgrade melodynet"
        )
    known = set(BundleMeta.__dataclass_fields__)
    try:
        meta = BundleMeta(**{k: v for k, v in data.items() if k in known})
    except TypeError as exc:
        raise BundleError(f"{path}: incomplete metadata ({exc})") from exc
    problem = _check_meta(meta)
    if problem:
        raise BundleError(f"{path}: invalid metadata ({problem})")
    return meta


def _check_meta(meta: BundleMeta) -> str:
    """What is wrong with metadata that parsed as JSON but may hold anything."""
    for name in ("model", "encoding", "model_plugin", "model_distribution"):
        if not isinstance(getattr(meta, name), str):
            return f"{name} is not a string"
    for name in ("window", "units", "random_seed", "epochs_run"):
        value = getattr(meta, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"{name} is not a whole number"
    if meta.window < 1:
        return "window is below 1"
    vocab = meta.vocabulary
    if (
        not isinstance(vocab, dict)
        or not vocab
        or not all(
            isinstance(v, list) and v and all(isinstance(x, str) for x in v) for v in vocab.values()
        )
    ):
        return "vocabulary is not a list of labels per head"
    if not isinstance(meta.songs, list) or not meta.songs:
        return "no training songs"
    try:
        songs = meta.song_objects()
    except (KeyError, TypeError, ValueError, AssertionError, ZeroDivisionError) as exc:
        return f"training songs unreadable: {exc}"
    if any(len(s) <= meta.window for s in songs):
        return "a training song is shorter than the window"
    if meta.status not in ("complete", "training", "interrupted"):
        return f"unknown status {meta.status!r}"
    return ""


def read_state(directory: Path) -> tuple[int, list[float], list]:
    """(step within the next epoch, that epoch's running sums, optimizer variables)."""
    path = Path(directory) / STATE_FILE
    if not path.is_file():
        raise BundleError(f"{directory}: no training state to resume from ({STATE_FILE})")
    try:
        with np.load(path) as data:
            count = sum(1 for k in data.files if k.startswith("optimizer_"))
            optimizer = [data[f"optimizer_{i}"] for i in range(count)]
            return int(data["step"]), [float(x) for x in data["partial"]], optimizer
    except (OSError, ValueError, KeyError) as exc:
        raise BundleError(f"{path}: unreadable training state ({exc})") from exc


def load_model(directory: Path, custom_objects: dict[str, Any] | None = None):
    """The Keras model, loaded in safe mode (no arbitrary code from the bundle)."""
    from melodynet.tfenv import tensorflow

    tensorflow()
    import keras

    path = Path(directory) / MODEL_FILE
    try:
        return keras.saving.load_model(
            path, custom_objects=custom_objects, compile=False, safe_mode=True
        )
    except Exception as exc:  # Keras raises many types for damaged or unsafe files
        reason = one_line(exc, 300)
        if "Lambda" in str(exc) and "safe" in str(exc):
            reason = "it holds a Lambda layer (arbitrary Python code), refused by Keras safe mode"
        raise BundleError(f"{path}: cannot load the model: {reason}") from exc


def check_model_file(directory: Path) -> None:
    """Refuse a damaged model.keras without loading it (it is a zip: check its CRCs)."""
    import zipfile

    path = Path(directory) / MODEL_FILE
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise BundleError(f"{path}: cannot load the model: {one_line(exc, 300)}") from exc
    if bad is not None:
        raise BundleError(f"{path}: cannot load the model: {bad} is damaged")


def read_numpy_network(directory: Path, meta: BundleMeta):
    """The bundle's network as a NumpyNetwork, or None when it has none, it is damaged or
    it is not the network of the bundle's model.keras: then Keras runs the model."""
    if not meta.network or meta.network.get("model_sha256") != _sha256(
        Path(directory) / MODEL_FILE
    ):
        return None  # none, or model.keras was replaced since: trust only what Keras loads
    from melodynet.generation.numpy_network import NumpyNetwork

    try:
        with np.load(Path(directory) / NUMPY_FILE) as arrays:
            return NumpyNetwork.load(meta.network, arrays)
    except (OSError, ValueError, KeyError):
        return None


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
