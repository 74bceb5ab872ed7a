"""From songs and options to a trained model: encode, cut examples, build, train, score."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from melodynet import dataset, network
from melodynet.bundle import BundleMeta
from melodynet.codec import Codec
from melodynet.errors import MelodynetError, SongError
from melodynet.hookspecs import ModelConfig
from melodynet.plugins import registry
from melodynet.song import Song
from melodynet.trained import Trained
from melodynet.training import TrainSettings, seed_everything, train


@dataclass(frozen=True)
class LearnOptions:
    model: str = "stateful-lstm"
    encoding: str = "single"
    window: int = 4
    units: int = 128
    epochs: int = 500
    batch_size: int = 32
    learning_rate: float = 0.003
    seed: int = 0
    stop_when_perfect: bool = True


def check_songs(songs: Sequence[Song], window: int) -> None:
    if window < 1:
        raise MelodynetError(f"--window must be at least 1, not {window}")
    for song in songs:
        if len(song) < window + 1:
            raise SongError(
                f"{song.path or song.name}: {len(song)} notes is too short; --window {window} "
                f"needs at least {window + 1}"
            )


def learn(
    songs: Sequence[Song],
    options: LearnOptions,
    on_epoch: Callable[[int, float, float], None] | None = None,
) -> Trained:
    reg = registry()
    spec = reg.model(options.model)
    encoding = reg.encoding(options.encoding)
    check_songs(songs, options.window)

    codec = Codec.fit(encoding, songs)
    classes = [codec.classes(s.notes, s.path) for s in songs]
    cut = dataset.sequences if spec.sequence else dataset.windows
    examples = cut(classes, options.window)
    best = dataset.ceiling(classes, options.window, whole_history=spec.sequence)

    seed_everything(options.seed)
    config = ModelConfig(window=options.window, units=options.units)
    model = network.build(spec, config, codec)
    settings = TrainSettings(
        epochs=options.epochs,
        batch_size=options.batch_size,
        learning_rate=options.learning_rate,
        seed=options.seed,
        stop_at=best if options.stop_when_perfect else None,
    )
    result = train(model, codec, examples, settings, on_epoch)

    plugin = reg.model_plugin(spec.name)
    meta = BundleMeta(
        model=spec.name,
        model_plugin=plugin.name,
        model_distribution=plugin.distribution,
        encoding=encoding.name,
        window=options.window,
        units=options.units,
        vocabulary=codec.vocabulary,
        songs=[s.to_json() for s in songs],
        random_seed=options.seed,
        epochs=options.epochs,
        epochs_run=result.epochs_run,
        batch_size=options.batch_size,
        learning_rate=options.learning_rate,
        history=result.history,
        metrics={
            "loss": result.history["loss"][-1],
            "accuracy": result.history["accuracy"][-1],
            "one_step_ceiling": best,
            "stopped_early": result.stopped_early,
        },
    )
    return Trained(None, meta, spec, config, codec, model)
