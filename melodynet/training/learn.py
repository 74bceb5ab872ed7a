"""From songs and options to a trained model: encode, cut examples, build, train, checkpoint."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from melodynet import network
from melodynet.bundle import BundleMeta
from melodynet.codec import Codec
from melodynet.errors import SongError
from melodynet.hookspecs import ModelConfig
from melodynet.model import Model
from melodynet.plugins import registry
from melodynet.songs import cache
from melodynet.songs.preprocess import augment_transpositions, song_label
from melodynet.songs.song import Song
from melodynet.songs.split import split_songs
from melodynet.training import dataset
from melodynet.training.distribute import is_chief, make_strategy
from melodynet.training.loop import Snapshot, Trainer, TrainResult, seed_everything
from melodynet.training.options import TrainOptions


def check_songs(songs: Sequence[Song], window: int) -> None:
    for song in songs:
        if len(song) < window + 1:
            raise SongError(
                f"{song_label(song)}: {len(song)} notes is too short; a window of {window} "
                f"needs at least {window + 1}"
            )


def learn(
    songs: Sequence[Song],
    options: TrainOptions,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    checkpoint: Callable[[Model, Snapshot], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    resume: Model | None = None,
    checkpoint_every: int | None = None,
) -> tuple[Model, TrainResult]:
    """Train a new model on ``songs``, or continue ``resume`` (a bundle with its training
    state) to ``options.epochs``. ``checkpoint(trained, snapshot)`` saves progress."""
    reg = registry()
    spec = reg.model(options.model)
    encoding = reg.encoding(options.encoding)
    if resume is None:
        check_songs(songs, options.window)
        train_songs, held_out = split_songs(songs, options.validation_split, options.random_seed)
    else:
        train_songs = resume.songs
        held_out = [Song.from_json(s) for s in resume.meta.validation_songs]
    fitted = (
        augment_transpositions(train_songs, options.augment) if options.augment else train_songs
    )

    seed_everything(options.random_seed)
    strategy = make_strategy(options.strategy)
    config = ModelConfig(window=options.window, units=options.units, options=dict(options.params))
    codec = resume.codec if resume else Codec.fit(encoding, [*fitted, *held_out])
    with strategy.scope() if strategy else contextlib.nullcontext():
        sizes = network.input_sizes(codec, options.bar_inputs)
        model = network.build(spec, config, codec, sizes=sizes)
    if resume is not None:
        model.set_weights(resume.network.get_weights())
    store = dataset.encode(codec, fitted, cache.default_dir(), options.bar_inputs)
    validation = (
        dataset.encode(codec, held_out, bar_inputs=options.bar_inputs) if held_out else None
    )
    best = dataset.ceiling(
        store.songs(), options.window, whole_history=spec.sequence, targets=len(codec.heads)
    )
    plugin = reg.model_plugin(spec.name)

    def trained_at(epochs_run: int, history, status: str, **metrics) -> Model:
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
            random_seed=options.random_seed,
            epochs=options.epochs,
            epochs_run=epochs_run,
            batch_size=options.batch_size,
            learning_rate=options.learning_rate,
            options=options.to_json(),
            model_options=dict(options.params),
            status=status,
            history=history,
            metrics={
                **{k: v[-1] for k, v in history.items() if v},
                "one_step_ceiling": best,
                **metrics,
            },
        )
        return Model(None, meta, spec, config, codec, model)

    trainer = Trainer(
        model,
        codec,
        options,
        spec.sequence,
        strategy,
        stop_at=best if options.stop_when_perfect else None,
        checkpoint_every=checkpoint_every,
    )
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
