"""A trained model ready to use: bundle metadata, codec and Keras network together.

``Model`` is what ``melodynet.train`` returns and ``melodynet.load`` reads back: it
generates, evaluates, reports and saves. TensorFlow is imported when a bundle is loaded.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from melodynet import bundle
from melodynet.codec import Codec
from melodynet.errors import BundleError, MelodynetError, OptionError
from melodynet.hookspecs import EncodingSpec, ModelConfig, ModelSpec, WriteOptions
from melodynet.plugins import registry
from melodynet.songs.song import Song


@dataclass(eq=False)
class Model:
    """A trained melody model."""

    directory: Path | None
    """Where the bundle lives; None for a model trained in memory and not saved yet."""
    meta: bundle.BundleMeta
    """The bundle metadata: model, encoding, vocabulary, songs, options, history, metrics."""
    spec: ModelSpec
    config: ModelConfig
    codec: Codec
    keras_network: Any = None
    """The Keras model, once loaded (``network`` loads it)."""
    numpy_network: Any = None
    """The network in numpy (generation.numpy_network), when it has one: generating needs
    no TensorFlow then."""
    state: Any = None
    """The training Snapshot, when loaded to resume or just trained."""

    @property
    def network(self):
        """The Keras model (loading a saved one imports TensorFlow)."""
        if self.keras_network is None:
            assert self.directory is not None, "a model in memory has its network"
            self.keras_network = _load_keras(self.directory, self.spec, self.codec)
        return self.keras_network

    def exported(self):
        """(description, weights) of the network for numpy, or None if it cannot be."""
        from melodynet.generation.numpy_network import export

        found = export(self.network, self.codec.heads)
        self.numpy_network = None
        if found is not None:
            from melodynet.generation.numpy_network import NumpyNetwork

            self.numpy_network = NumpyNetwork(*found)
        return found

    def __repr__(self) -> str:
        where = self.directory or "in memory"
        songs = len(self.meta.songs)
        return (
            f"<melodynet.Model {self.meta.model} ({self.meta.encoding}, window "
            f"{self.meta.window}) on {songs} song{'s' * (songs != 1)}, {where}>"
        )

    @functools.cached_property
    def predictor(self):
        """Generation's engine: numpy when the network has a numpy form, else Keras."""
        from melodynet.generation.predict import Predictor

        if self.numpy_network is None and self.keras_network is not None:
            self.exported()  # just trained, or a bundle from before numpy networks
        timing = {"bar_inputs": self.bar_inputs, "meter": self.meter}
        if self.numpy_network is not None:
            return Predictor(self.spec, self.config, self.codec, numpy=self.numpy_network, **timing)
        return Predictor(self.spec, self.config, self.codec, self.network, **timing)

    @property
    def bar_inputs(self) -> bool:
        """Whether the network also reads where notes fall in their bars."""
        return bool(self.meta.options.get("bar_inputs", False))

    @property
    def meter(self):
        """The meter bars are counted in by default: the first training song's."""
        from melodynet.positions import Meter

        first = self.meta.songs[0] if self.meta.songs else {}
        return Meter.of(first.get("time_signature", "4/4"))

    @functools.cached_property
    def songs(self) -> list[Song]:
        """The training songs (held-out songs are in ``heldout_songs``)."""
        return self.meta.song_objects()

    @property
    def heldout_songs(self) -> list[Song]:
        return [Song.from_json(s) for s in self.meta.validation_songs]

    def generate(
        self,
        primer: int | str | Path | Song | None = 4,
        *,
        length: int | None = None,
        mode: str = "full",
        song: str | None = None,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        beam_size: int | None = None,
        num_outputs: int = 1,
        random_seed: int = 0,
        key: str | None = None,
        chromatic: bool = False,
        meter: str | None = None,
        bars: int | None = None,
        pickup: str | None = None,
        range: str | None = None,  # noqa: A002 (the option's name)
        end: str | None = None,
        form: str | None = None,
        no_copy: int | None = None,
        quantize: bool = False,
        mix: str | None = None,
        mix_combination: str = "geometric",
        mix_bias: float = 1.0,
    ) -> Song | list[Song]:
        """Continue ``primer`` and return the melody (a list of ``num_outputs`` melodies
        when more than one), primer included.

        ``primer``: a count of leading notes of the training song (``song`` names which;
        default the first), tinyNotation text, a Song or a path to a song file (.mid, .txt,
        .musicxml...). ``length``:
        notes to add (default: the rest of the training song). ``mode="one-step"`` feeds
        the song's true notes instead of the model's own. Greedy unless ``temperature``,
        ``top_k`` or ``top_p`` ask for sampling (``random_seed`` makes it repeatable);
        ``beam_size`` searches for the likeliest whole melody. When the primer opens a
        training song, ``song.extra`` says how many notes match it (``matches`` of
        ``compared``); ``song.extra["longest_copy"]`` is always the most notes in a row (in
        any transposition) the melody shares with a training song.

        Constraints hold by construction: ``key`` (every pitch in the scale; ``chromatic``
        keeps only the tonic), ``meter`` and ``bars`` (whole bars after an optional
        ``pickup``, no note across a barline), ``range`` ("D4-D6"), ``end="tonic"``,
        ``form`` ("AABB": ``bars`` per section, equal letters repeat) and ``no_copy`` N (no N
        notes in a row of a training song, in any transposition). An impossible combination
        is an OptionError before anything is generated.

        A model trained in the common key (``--transpose common``, the pretrained bundles)
        continues your own primer (notes, a Song, a file) in any key: the primer is moved
        into the model's key, continued, and the melody moved back, into ``key`` when given
        (the primer is taken to be in it), else into the primer's own key, found by
        Krumhansl-Schmuckler analysis (a mode such as "A dorian" where its key signature fits
        the notes better): ``song.key`` and ``song.extra["primer_key"]`` name it,
        ``song.extra["primer_moved"]`` gives the semitones the primer was moved by. A primer
        note the model has never seen (a duration or pitch outside its vocabulary) is an
        OptionError naming the note and the nearest note the model knows; ``quantize=True``
        moves every such note to its nearest (nearest duration by ratio, then nearest pitch)
        and warns (a MelodynetWarning) which notes moved.

        ``mix`` combines the network's prediction of each note's pitch with PPM models, as
        ``melodynet.crossval(mix=...)`` scores (``"both+,interval-degree-ltm+"``:
        long-term models over the training songs, short-term ones over the melody so
        far; ``mix_combination`` and ``mix_bias`` as there; docs/benchmarks.md).
        """
        from melodynet.evaluation.mix import MixOptions
        from melodynet.generation.constraints import Constraints
        from melodynet.generation.generate import generate_songs
        from melodynet.generation.sampling import Sampling

        if (top_k is not None or top_p is not None) and temperature is None:
            temperature = 1.0
        sampling = Sampling(temperature, top_k, top_p, random_seed)
        constraints = Constraints(key, chromatic, meter, bars, pickup, range, end, form, no_copy)
        songs = generate_songs(
            self,
            primer,
            length,
            mode,
            song,
            num_outputs,
            sampling,
            beam_size,
            constraints,
            quantize=quantize,
            mix=MixOptions(mix or "none", mix_combination, mix_bias),
        )
        return songs[0] if num_outputs == 1 else songs

    def evaluate(self, *, stats: int | list[Song] = 0) -> dict[str, Any]:
        """One-step accuracy and full-song matches on every training song; on held-out
        songs, NLL per note (``nll`` in nats and ``bits_per_note``, nats / ln 2) and
        accuracies against two baselines; with ``stats`` N, the musical statistics of N
        sampled melodies (temperature 1, from the first training song's opening, as long
        as it) against the training songs, and with ``stats`` a list of Songs (melodies
        you generated with settings of your own), theirs."""
        from melodynet.evaluation.scores import evaluate

        return evaluate(self, stats)

    def score(self, songs: list[Song]) -> dict[str, Any]:
        """NLL per note (nats and bits), perplexity and accuracies on ``songs`` (held out:
        songs it did not train on), scored from note ``window`` on, as the baselines are."""
        from melodynet.evaluation.scores import heldout_score, with_bits

        return with_bits(heldout_score(self, list(songs)).to_json())

    def save(self, path: str | Path, *, replace: bool = True) -> Path:
        """Write the bundle to directory ``path`` (whole, or not at all) and make it the
        latest bundle; ``replace=False`` refuses to overwrite one."""
        path = Path(path)
        bundle.save(
            path,
            self.network,
            self.meta,
            replace=replace,
            state=self.state,
            exported=self.exported(),
        )
        self.directory = path
        return path

    def report(
        self,
        path: str | Path,
        *,
        primer: int | str | None = None,
        length: int | None = None,
        mode: str = "full",
        songs: list[str] | None = None,
        tempo: float | None = None,
        instrument: int = 0,
        bits: bool = False,
        **constraints: Any,
    ) -> list[Song]:
        """Write a self-contained HTML report (scores, loss per note, curves, engraved and
        playable comparisons of each training song with its generated version) to
        ``path``; returns the generated melodies. Losses are in nats per note; ``bits``
        shows them in bits per note (nats / ln 2) beside the nats. ``constraints`` are
        ``generate``'s (key, meter, bars, range, end, form, no_copy, chromatic, pickup)."""
        from melodynet.generation.constraints import Constraints
        from melodynet.render.report import write_report

        try:
            wanted = Constraints(**constraints)
        except TypeError:
            raise OptionError(
                f"report takes the constraints of generate, not {', '.join(constraints)}",
                option="constraints",
            ) from None
        return write_report(
            self,
            Path(path),
            primer,
            length,
            mode,
            songs,
            WriteOptions(tempo, instrument),
            wanted,
            bits=bits,
        )


def _plugin_spec(meta: bundle.BundleMeta, directory: Path) -> tuple[ModelSpec, EncodingSpec]:
    reg = registry()
    try:
        spec = reg.model(meta.model)
    except MelodynetError:
        dist = meta.model_distribution
        hint = f"; install it: pip install {dist}" if dist and dist != "melodynet" else ""
        raise BundleError(
            f"{directory}: model {meta.model!r} comes from plugin {meta.model_plugin!r} "
            f"(distribution {dist or 'unknown'}), which is not installed{hint}"
        ) from None
    try:
        encoding = reg.encoding(meta.encoding)
    except MelodynetError:
        raise BundleError(f"{directory}: encoding {meta.encoding!r} is not installed") from None
    return spec, encoding


def bundle_dir(path: str | Path | None = None) -> Path:
    """The bundle ``path`` names, checked without TensorFlow; None: the latest trained.

    ``path`` is a bundle directory or the name of a bundle a plugin ships
    (``german-folk``, see ``melodynet bundles``); a directory that exists wins."""
    directory = find_bundle(path) if path is not None else bundle.latest()
    bundle.read_meta(directory)
    return directory


def find_bundle(path: str | Path) -> Path:
    """The directory of bundle ``path``: the path itself when it exists, else the directory
    of the installed bundle of that name. Neither: a BundleError naming the installed ones."""
    directory = Path(path)
    if directory.exists():
        return directory
    reg = registry()
    spec = reg.bundle(str(path))
    if spec is not None:
        found = Path(spec.path)
        if not found.is_dir():
            plugin = reg.bundle_plugin(spec.name)
            raise BundleError(
                f"bundle {spec.name!r} of {plugin.distribution or plugin.name} is missing its "
                f"directory {found}; reinstall {plugin.distribution or 'the plugin'}"
            )
        return found
    names = sorted(reg.bundles)
    close = difflib.get_close_matches(str(path), names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    installed = (
        f"installed bundles: {', '.join(names)}" if names else "no pretrained bundles installed"
    )
    raise BundleError(
        f"{path}: no such model bundle directory or installed bundle{hint}; {installed}"
    )


def load(path: str | Path | None = None) -> Model:
    """The model saved in bundle directory ``path`` (None: the most recently trained), or
    the installed bundle of that name (``melodynet.load("german-folk")``).

    TensorFlow is imported only when the network has no numpy form (a plugin's own layers,
    a bundle saved before numpy networks) or when ``Model.network`` is asked for."""
    directory = bundle_dir(path)
    meta = bundle.read_meta(directory)
    spec, encoding = _plugin_spec(meta, directory)
    if list(meta.vocabulary) != list(encoding.heads):
        raise BundleError(
            f"{directory}: vocabulary heads {list(meta.vocabulary)} do not match encoding "
            f"{encoding.name!r} ({list(encoding.heads)})"
        )
    codec = Codec(encoding, meta.vocabulary)
    config = ModelConfig(window=meta.window, units=meta.units, options=meta.model_options)
    bundle.check_model_file(directory)
    numpy_network = bundle.read_numpy_network(directory, meta)
    if numpy_network is not None:
        sizes = [numpy_network.w[h["weights"][1]].shape[-1] for h in numpy_network.heads]
        _check_heads(directory, codec, dict(zip(codec.heads, sizes, strict=True)))
        return Model(directory, meta, spec, config, codec, numpy_network=numpy_network)
    return Model(directory, meta, spec, config, codec, _load_keras(directory, spec, codec))


def _load_keras(directory: Path, spec: ModelSpec, codec: Codec):
    network = bundle.load_model(directory, spec.custom_objects() if spec.custom_objects else None)
    outputs = network.output if isinstance(network.output, dict) else {}
    _check_heads(directory, codec, {h: o.shape[-1] for h, o in outputs.items()})
    return network


def _check_heads(directory: Path, codec: Codec, sizes: dict[str, int]) -> None:
    for head, size in zip(codec.heads, codec.sizes, strict=True):
        if sizes.get(head) != size:
            raise BundleError(
                f"{directory}: the model's {head!r} output does not match the vocabulary "
                f"({size} labels)"
            )


def load_for_resume(directory: Path) -> Model:
    """The bundle with its training state: weights, optimizer variables, position."""
    from melodynet.training.loop import Snapshot

    model = load(directory)
    meta = model.meta
    if not meta.options:
        raise BundleError(f"{directory}: the bundle does not record its training options")
    step, partial, optimizer = bundle.read_state(directory)
    model.state = Snapshot(
        meta.epochs_run,
        step,
        model.network.get_weights(),
        optimizer,
        meta.history,
        partial,
        meta.metrics.get("best_epoch", 0),
    )
    return model
