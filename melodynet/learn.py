"""From songs and options to a trained model: encode, cut examples, build, train, checkpoint."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields

from melodynet import cache, dataset, network
from melodynet.bundle import BundleMeta
from melodynet.codec import Codec
from melodynet.distribute import is_chief, make_strategy
from melodynet.errors import MelodynetError, SongError
from melodynet.hookspecs import ModelConfig
from melodynet.plugins import registry
from melodynet.preprocess import augment_transpositions
from melodynet.song import Song
from melodynet.split import split_songs
from melodynet.trained import Trained
from melodynet.training import Snapshot, Trainer, TrainResult, TrainSettings, seed_everything


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
    validation_split: float = 0.0
    patience: int | None = None
    strategy: str = "none"
    augment: int = 0
    """Also train on every training song transposed by -augment..+augment semitones."""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> LearnOptions:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def check_songs(songs: Sequence[Song], window: int) -> None:
    if window < 1:
        raise MelodynetError(f"--window must be at least 1, not {window}")
    for song in songs:
        if len(song) < window + 1:
            raise SongError(
                f"{song.path or song.name}: {len(song)} notes is too short; --window {window} "
                f"needs at least {window + 1}"
            )


def split_validation(songs: Sequence[Song], fraction: float, seed: int):
    """Hold out whole songs (never windows of a song the model trains on)."""
    if not fraction:
        return list(songs), []
    if not 0 < fraction < 1:
        raise MelodynetError(f"--validation-split must be between 0 and 1, not {fraction}")
    if len(songs) < 2:
        raise MelodynetError(
            f"--validation-split {fraction} needs at least 2 songs (it holds out whole songs); "
            f"got {len(songs)}"
        )
    return split_songs(songs, fraction, seed)


def learn(
    songs: Sequence[Song],
    options: LearnOptions,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    checkpoint: Callable[[Trained, Snapshot], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    resume: Trained | None = None,
    checkpoint_every: int | None = None,
) -> tuple[Trained, TrainResult]:
    """Train a new model on ``songs``, or continue ``resume`` (a bundle with its training
    state) to ``options.epochs``. ``checkpoint(trained, snapshot)`` saves progress."""
    reg = registry()
    spec = reg.model(options.model)
    encoding = reg.encoding(options.encoding)
    if resume is None:
        check_songs(songs, options.window)
        train_songs, held_out = split_validation(songs, options.validation_split, options.seed)
        if options.augment:
            fitted = augment_transpositions(train_songs, options.augment)
        else:
            fitted = train_songs
    else:
        train_songs = resume.songs
        held_out = [Song.from_json(s) for s in resume.meta.validation_songs]
        fitted = (
            augment_transpositions(train_songs, options.augment)
            if options.augment
            else (train_songs)
        )

    seed_everything(options.seed)
    strategy = make_strategy(options.strategy)
    config = ModelConfig(window=options.window, units=options.units)
    codec = resume.codec if resume else Codec.fit(encoding, [*fitted, *held_out])
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = network.build(spec, config, codec)
    if resume is not None:
        model.set_weights(resume.model.get_weights())
    store = dataset.encode(codec, fitted, cache.default_dir())
    validation = dataset.encode(codec, held_out) if held_out else None
    best = dataset.ceiling(store.songs(), options.window, whole_history=spec.sequence)
    settings = TrainSettings(
        epochs=options.epochs,
        batch_size=options.batch_size,
        learning_rate=options.learning_rate,
        seed=options.seed,
        stop_at=best if options.stop_when_perfect else None,
        patience=options.patience,
        checkpoint_every=checkpoint_every,
    )
    plugin = reg.model_plugin(spec.name)

    def trained_at(epochs_run: int, history, status: str, **metrics) -> Trained:
        meta = BundleMeta(
            model=spec.name,
            model_plugin=plugin.name,
            model_distribution=plugin.distribution,
            encoding=encoding.name,
            window=options.window,
            units=options.units,
            vocabulary=codec.vocabulary,
            songs=[s.to_json() for s in train_songs],
            validation_songs=[s.to_json() for s in held_out],
            random_seed=options.seed,
            epochs=options.epochs,
            epochs_run=epochs_run,
            batch_size=options.batch_size,
            learning_rate=options.learning_rate,
            options=options.to_json(),
            status=status,
            history=history,
            metrics={
                **{k: v[-1] for k, v in history.items() if v},
                "one_step_ceiling": best,
                **metrics,
            },
        )
        return Trained(None, meta, spec, config, codec, model)

    trainer = Trainer(model, codec, settings, options.window, spec.sequence, strategy)
    start = resume.state if resume is not None else None

    def save(snapshot: Snapshot) -> None:
        if checkpoint is not None and is_chief():
            status = "interrupted" if should_stop() else "training"
            trained = trained_at(
                snapshot.epoch, snapshot.history, status, best_epoch=snapshot.best_epoch
            )
            trained.state = snapshot
            checkpoint(trained, snapshot)

    result = trainer.run(store, validation, start, on_epoch, save, should_stop)
    if result.interrupted:
        return None, result
    trained = trained_at(
        result.epochs_run,
        result.history,
        "complete",
        stopped_early=result.stopped_early,
        best_epoch=result.best_epoch,
    )
    trained.state = trainer.snapshot(result.epochs_run, 0, result.history, best=result.best_epoch)
    return trained, result
