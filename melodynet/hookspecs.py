"""The plugin contract: every hook melodynet calls, and the specs plugins register.

A plugin is a module or object with functions marked ``@hookimpl``; it is
found through the ``melodynet`` entry-point group (the built-in models,
encodings, readers and writers are registered the same way, as default
plugins). Each ``register_*`` hook receives a ``register`` callback: call it
once per thing you provide. melodynet checks the names, reports duplicates
and keeps aliases. Hook functions may leave out arguments they do not use,
so hooks can gain arguments without breaking existing plugins.

Nothing here imports TensorFlow: model builders import Keras when called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from melodynet.errors import SongError
    from melodynet.songs.song import Note, Song

hookspec = pluggy.HookspecMarker("melodynet")
hookimpl = pluggy.HookimplMarker("melodynet")


@dataclass(frozen=True)
class ModelConfig:
    """What a model builder is asked to build."""

    window: int
    """Notes of context a window model sees (the primer length for sequence models)."""
    units: int = 128
    """Width of the main layers."""
    stateful: bool = False
    """Sequence models only: build the note-by-note generator, whose recurrent layers
    must be ``stateful=True`` (the input then has a fixed batch size and one time step)."""
    options: dict[str, Any] = field(default_factory=dict)
    """The model's parameters (``ModelSpec.params``), every one with its value (the
    user's, else the default), saved with the bundle. Bundles of models that declare
    none may carry other options here."""
    input_sizes: tuple[int, ...] = ()
    """The categories of each input column: every encoding head's vocabulary, then, for a
    model trained with bar inputs, ``melodynet.positions.SIZES``. Filled in by melodynet
    when it builds a network; the features are their one-hot vectors side by side."""


@dataclass(frozen=True)
class Param:
    """A model hyperparameter a user can set: ``--param NAME=VALUE`` on the command line,
    ``params={NAME: VALUE}`` in ``melodynet.train``.

    melodynet checks values before anything is trained (and before TensorFlow is
    imported), fills in the default for what is not given, passes them to ``build`` as
    ``config.options[name]``, saves them with the bundle and shows them in ``evaluate``,
    ``report`` and ``melodynet models --describe``.
    """

    name: str
    """Lower-case words joined by '-' (``recurrent-dropout``); Python callers may write
    underscores."""
    type: str
    """``"int"``, ``"float"``, ``"bool"`` or ``"choice"``."""
    default: Any
    help: str = ""
    """One line: what it changes."""
    low: float | None = None
    """Smallest allowed value (int and float), if bounded."""
    high: float | None = None
    """Largest allowed value (int and float), if bounded."""
    choices: tuple[Any, ...] = ()
    """The allowed values of a ``"choice"``."""


@dataclass(frozen=True)
class ModelSpec:
    """A trainable model.

    ``build(inputs, config)`` takes a Keras input tensor and returns the
    network's hidden features; melodynet adds one softmax head per encoding
    output, trains, saves and generates. Window models (``sequence=False``)
    get inputs of shape (batch, window, features) and return (batch, units)
    (``features``: the encoding heads' one-hot labels, then, for a model trained with
    bar inputs, where the next note falls in its bar: ``melodynet.positions``).
    Sequence models (``sequence=True``) get (batch, time, features), return
    (batch, time, units), are trained on whole songs and generate note by
    note, carrying their recurrent state. Use only serializable Keras layers
    (no ``Lambda``): bundles are loaded in Keras safe mode.

    ``custom_objects()``, if given, returns the model's own Keras classes by
    name (``{"MyLayer": MyLayer}``); melodynet calls it only when it loads a
    bundle, so the plugin need not import Keras until then.

    ``params`` declares the hyperparameters users may set (see ``Param``); ``build``
    finds their values in ``config.options``. A model that declares none takes none.

    ``class_inputs`` (opt-in, for speed): ``build`` gets the class indices instead of
    their one-hot features, int32 of shape (batch, window, columns) or (batch, time,
    columns), ``config.input_sizes[j]`` categories in column ``j``, and -1 for no class
    (a sequence model's padding: every column -1; mask those steps). Its first layer
    looks the classes up (an embedding per column, or ``melodynet.layers.ClassLSTM``, an
    LSTM whose kernel rows are looked up) instead of multiplying one-hot vectors.
    """

    name: str
    build: Callable[[Any, ModelConfig], Any]
    sequence: bool = False
    description: str = ""
    aliases: tuple[str, ...] = ()
    custom_objects: Callable[[], dict[str, Any]] | None = None
    params: tuple[Param, ...] = ()
    class_inputs: bool = False


@dataclass(frozen=True)
class EncodingSpec:
    """How notes become the classes a model predicts.

    ``heads`` names the outputs (one softmax each). ``labels(note)`` gives one
    string label per head; ``note(labels)`` turns one label per head back
    into a Note, for any combination of labels seen in training. The
    vocabulary of each head is learned from the training songs and saved with
    the model. Model inputs are the one-hot labels of all heads, concatenated.
    """

    name: str
    heads: tuple[str, ...]
    labels: Callable[[Note], tuple[str, ...]]
    note: Callable[[tuple[str, ...]], Note]
    description: str = ""
    aliases: tuple[str, ...] = ()


@dataclass
class ReadOptions:
    """What a reader is told about the file it reads."""

    part: int | None = None
    """1-based part to take from a multi-part score; None takes the top line."""
    warn: Callable[[str], None] = print
    """Report a decision to the user (a part chosen, chords reduced), one line each."""


@dataclass(frozen=True)
class ReaderSpec:
    """Reads songs from files with the given suffixes (lower case, with the dot).

    ``read(path, options)`` returns the songs in the file. Raise
    ``melodynet.SongError`` for bad input, naming the position where possible.

    ``read_tunes(path, options)``, if given, reads a file of several tunes (a book, an
    opus) tune by tune: it returns an iterable (a generator is best) with one item per
    tune, in file order: the tune's ``Song``, or the ``SongError`` that tune raised (yield
    it, do not raise it). Raise ``SongError`` (when called or while iterating) only for a
    file that cannot be read at all. Where melodynet reads many files (``melodynet.read``,
    training) it uses ``read_tunes`` when a reader has it, so one bad tune costs only
    itself: it is skipped with its message and the file's other tunes are kept. When a
    file gives several items, melodynet numbers the tunes by their position from 1
    (``song.extra['tune']``, song names ``FILE#N``), so name tune N ``FILE tune N`` in
    messages. Remarks made with ``options.warn`` while an item is produced are taken as
    said about that tune. ``read`` is still required: it reads a file whole, and
    typically raises the first tune's error.
    """

    name: str
    suffixes: tuple[str, ...]
    read: Callable[[Path, ReadOptions], Sequence[Song]]
    description: str = ""
    read_tunes: Callable[[Path, ReadOptions], Iterable[Song | SongError]] | None = None
    """Read a file tune by tune: yield each tune's Song, or the SongError that tune
    raised; raise SongError for a file that cannot be read at all."""


@dataclass
class WriteOptions:
    """Rendering choices shared by all writers."""

    tempo: float | None = None
    """Beats per minute; None keeps the song's own tempo."""
    instrument: int = 0
    """General MIDI program (0 = acoustic grand piano)."""


@dataclass(frozen=True)
class WriterSpec:
    """Writes a song to files with the given suffixes.

    ``write(song, path, options)`` writes the whole file at ``path``;
    melodynet passes a temporary path and renames it into place afterwards,
    so a writer never needs to clean up after itself. ``check(path)``, if
    given, runs before any work is done (before training or loading a model):
    raise ``MelodynetError`` there if the file cannot be written, for example
    because a program the writer needs is not installed.
    """

    name: str
    suffixes: tuple[str, ...]
    write: Callable[[Song, Path, WriteOptions], None]
    description: str = ""
    check: Callable[[Path], None] | None = None


@dataclass(frozen=True)
class BundleSpec:
    """A trained bundle a plugin ships, usable by name: ``--model-dir NAME``,
    ``melodynet.load(NAME)``.

    ``path`` is the bundle directory inside the plugin's package; build it from the
    module's own file (``Path(__file__).parent / "bundles" / "german-folk"``) so it is right
    wherever the package is installed. A relative path is taken relative to the directory
    of the plugin's module. ``corpus`` and ``licence`` say in one line what it was trained
    on and under which terms, for ``melodynet bundles``.
    """

    name: str
    """Lower-case words joined by '-', unique across plugins (``german-folk``)."""
    path: str | Path
    description: str = ""
    """One line: what it writes."""
    corpus: str = ""
    licence: str = ""


@hookspec
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register model architectures: ``register(ModelSpec(...))``."""


@hookspec
def register_encodings(register: Callable[[EncodingSpec], None]) -> None:
    """Register note encodings: ``register(EncodingSpec(...))``."""


@hookspec
def register_readers(register: Callable[[ReaderSpec], None]) -> None:
    """Register song readers by file suffix: ``register(ReaderSpec(...))``."""


@hookspec
def register_writers(register: Callable[[WriterSpec], None]) -> None:
    """Register output writers by file suffix: ``register(WriterSpec(...))``."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``melodynet`` command line: ``@cli.command()``."""


@hookspec
def register_bundles(register: Callable[[BundleSpec], None]) -> None:
    """Register trained bundles shipped in the package: ``register(BundleSpec(...))``."""
