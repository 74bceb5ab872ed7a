"""A trained model ready to use: bundle metadata, codec, Keras model and predictor together."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from melodynet import bundle
from melodynet.codec import Codec
from melodynet.errors import BundleError, MelodynetError
from melodynet.hookspecs import EncodingSpec, ModelConfig, ModelSpec
from melodynet.plugins import registry
from melodynet.song import Song


@dataclass
class Trained:
    directory: Path | None
    meta: bundle.BundleMeta
    spec: ModelSpec
    config: ModelConfig
    codec: Codec
    model: Any
    state: Any = None
    """The training Snapshot, when loaded to resume or just trained."""

    @functools.cached_property
    def predictor(self):
        from melodynet.predict import Predictor

        return Predictor(self.spec, self.config, self.codec, self.model)

    @functools.cached_property
    def songs(self) -> list[Song]:
        return self.meta.song_objects()


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


def open_bundle(model_dir: Path | None, say: Callable[[str], None]) -> Trained:
    """The bundle a command asked for, or the most recently trained one; says which."""
    directory = model_dir or bundle.latest()
    bundle.read_meta(directory)  # fail fast, before TensorFlow is imported
    say(f"Using model {directory}")
    return load(directory)


def load(directory: Path) -> Trained:
    directory = Path(directory)
    meta = bundle.read_meta(directory)
    spec, encoding = _plugin_spec(meta, directory)
    if list(meta.vocabulary) != list(encoding.heads):
        raise BundleError(
            f"{directory}: vocabulary heads {list(meta.vocabulary)} do not match encoding "
            f"{encoding.name!r} ({list(encoding.heads)})"
        )
    codec = Codec(encoding, meta.vocabulary)
    model = bundle.load_model(directory, spec.custom_objects() if spec.custom_objects else None)
    for head, size in zip(codec.heads, codec.sizes, strict=True):
        out = model.output.get(head) if isinstance(model.output, dict) else None
        if out is None or out.shape[-1] != size:
            raise BundleError(
                f"{directory}: the model's {head!r} output does not match the vocabulary "
                f"({size} labels)"
            )
    config = ModelConfig(window=meta.window, units=meta.units, options=meta.model_options)
    return Trained(directory, meta, spec, config, codec, model)


def load_for_resume(directory: Path) -> Trained:
    """The bundle with its training state: weights, optimizer variables, position."""
    from melodynet.training import Snapshot

    trained = load(directory)
    meta = trained.meta
    if not meta.options:
        raise BundleError(f"{directory}: the bundle does not record its training options")
    step, partial, optimizer = bundle.read_state(directory)
    trained.state = Snapshot(
        meta.epochs_run,
        step,
        trained.model.get_weights(),
        optimizer,
        meta.history,
        partial,
        meta.metrics.get("best_epoch", 0),
    )
    return trained
