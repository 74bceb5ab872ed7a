"""melodynet: learn melodies with Keras and write new ones.

The public API for plugins is what this module exports; it never imports
TensorFlow or music21.
"""

from melodynet.errors import BundleError, MelodynetError, SongError
from melodynet.hookspecs import (
    EncodingSpec,
    ModelConfig,
    ModelSpec,
    ReaderSpec,
    ReadOptions,
    WriteOptions,
    WriterSpec,
    hookimpl,
)
from melodynet.song import Note, Song

__version__ = "0.1.0"

__all__ = [
    "BundleError",
    "EncodingSpec",
    "MelodynetError",
    "ModelConfig",
    "ModelSpec",
    "Note",
    "ReadOptions",
    "ReaderSpec",
    "Song",
    "SongError",
    "WriteOptions",
    "WriterSpec",
    "__version__",
    "hookimpl",
]
