"""melodynet: learn melodies with Keras and write new ones.

The Python API::

    import melodynet

    songs = melodynet.read("songs/butterfly.txt")
    model = melodynet.train(songs, model="stateful-lstm", out="models/butterfly")
    melody = model.generate(4)          # a Song: the first 4 notes, then the model's
    melody.write("song.mid")
    model = melodynet.load("models/butterfly")

and the plugin API (``hookimpl`` and the ``*Spec`` types, see docs/plugins.md). Importing
melodynet imports neither TensorFlow nor music21: they load when first needed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

# TensorFlow's C++ start-up chatter (oneDNN notices, CPU feature lines) is not for users;
# set before anything imports TensorFlow. An explicit setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from melodynet.errors import (
    BundleError,
    MelodynetError,
    MelodynetWarning,
    ModelError,
    OptionError,
    OutputError,
    PluginWarning,
    SongError,
    TrainingInterrupted,
)
from melodynet.hookspecs import (
    BundleSpec,
    EncodingSpec,
    ModelConfig,
    ModelSpec,
    Param,
    ReaderSpec,
    ReadOptions,
    WriteOptions,
    WriterSpec,
    hookimpl,
)
from melodynet.songs.song import Note, Song

if TYPE_CHECKING:
    from melodynet.evaluation.baselines import baselines
    from melodynet.model import Model, load
    from melodynet.network import describe_model
    from melodynet.songs.files import read
    from melodynet.songs.split import split_songs
    from melodynet.training.run import Progress, train
    from melodynet.tuning import tune

__version__ = "0.1.0"

# The API's entry points live in modules that import numpy and pluggy's plugins; they are
# imported on first use so that `import melodynet` (and `melodynet --help`) stays fast.
_LAZY = {
    "read": "melodynet.songs.files",
    "train": "melodynet.training.run",
    "Progress": "melodynet.training.run",
    "load": "melodynet.model",
    "split_songs": "melodynet.songs.split",
    "baselines": "melodynet.evaluation.baselines",
    "describe_model": "melodynet.network",
    "Model": "melodynet.model",
    "tune": "melodynet.tuning",
    "crossval": "melodynet.evaluation.crossval",
    "bundles": "melodynet.catalogue",
    "BundleInfo": "melodynet.catalogue",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'melodynet' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "BundleError",
    "BundleInfo",
    "BundleSpec",
    "EncodingSpec",
    "MelodynetError",
    "MelodynetWarning",
    "Model",
    "ModelConfig",
    "ModelError",
    "ModelSpec",
    "Note",
    "OptionError",
    "Param",
    "OutputError",
    "PluginWarning",
    "Progress",
    "ReadOptions",
    "ReaderSpec",
    "Song",
    "SongError",
    "TrainingInterrupted",
    "WriteOptions",
    "WriterSpec",
    "__version__",
    "baselines",
    "bundles",
    "crossval",
    "describe_model",
    "hookimpl",
    "load",
    "read",
    "split_songs",
    "train",
    "tune",
]
