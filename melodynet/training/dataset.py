"""Training data: encoded songs kept on disk and streamed through tf.data in batches.

A corpus is encoded once into a store, two ``.npy`` files (every note's class indices, and
where each song starts) in the cache, keyed by the vocabulary and the notes, so a second
run over the same songs reads it back. Training memory-maps the store; each epoch visits
the examples in an order drawn from (seed, epoch) alone, and each batch is gathered from
the map when it is needed: sequence models through one tf.data pipeline for the whole
run, window models a few dozen batches at a time by ``window_steps`` (the same batches,
read by step number, for several steps per call). Only a few batches live in memory,
however large the corpus; what grows with it is a few numbers per song (where it starts,
the epoch's song order), and the store's pages, which the OS can drop.

Every batch is (x, y, loss_weight, score_weight, batch_weight), all from class indices
(features are made from them inside the compiled step). A store made with bar inputs has
``positions.SIZES`` more columns after the heads: x has them, y only the heads.

- window models: x (B, window, heads), y (B, heads), weights (B,);
- sequence models: x (B, T, heads) padded with -1 (no feature: masked), y (B, T, heads),
  weights (B, T) with padding at 0; ``score_weight`` also leaves out targets inside the
  first window, so scores count the same notes for every model.

``batch_weight`` repeats, for every example, the loss weight of its whole batch, so
replicas that each see part of a batch can scale their gradients to the batch mean.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from melodynet.atomic import atomic_dir
from melodynet.codec import Codec
from melodynet.errors import MelodynetError
from melodynet.positions import SIZES, Meter, song_columns, ticks
from melodynet.songs.song import Song

FORMAT = 1
SORT_BATCHES = 128
"""Sequence models: songs are sorted by length within runs of this many batches. Each run's
last batch holds its longest songs, padded to the longest of them: on essenFolksong (7,663
songs, a long tail of long ones) runs of 32 batches padded 15% of an epoch's time steps,
one run of every song 4%."""
EVAL_BATCH = {False: 2048, True: 64}
"""Examples per batch when measuring (window models, sequence models)."""


@dataclass
class Store:
    """Encoded songs: ``classes`` (notes, heads [+ bar inputs]) and ``offsets`` (songs + 1,),
    usually memory-mapped from ``directory``; ``targets``: how many columns are the heads
    (the rest are inputs only)."""

    classes: np.ndarray
    offsets: np.ndarray
    directory: Path | None = None
    targets: int | None = None
    _window_starts: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.targets is None:
            self.targets = self.classes.shape[1]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def window_starts(self, window: int) -> np.ndarray:
        """Where each song's windows start in the count of all windows, and their total;
        computed once per window (every read of a batch looks songs up in it)."""
        if window not in self._window_starts:
            starts = np.concatenate([[0], np.cumsum(self.lengths - window)])
            self._window_starts[window] = starts
        return self._window_starts[window]

    def song(self, index: int) -> np.ndarray:
        return np.asarray(self.classes[self.offsets[index] : self.offsets[index + 1]])

    def songs(self):
        for i in range(len(self)):
            yield self.song(i)


def store_key(codec: Codec, songs: Sequence[Song], bar_inputs: bool = False) -> str:
    digest = hashlib.sha256(json.dumps([FORMAT, codec.spec.name, codec.vocabulary]).encode())
    for song in songs:
        if bar_inputs:
            meter = Meter.of_song(song)
            digest.update(f"{meter.bar}/{meter.pickup}:".encode())
        digest.update(" ".join(n.key for n in song.notes).encode())
        digest.update(b"\n")
    if bar_inputs:
        digest.update(b"bar inputs")
    return digest.hexdigest()


def encode(
    codec: Codec, songs: Sequence[Song], cache: Path | None = None, bar_inputs: bool = False
) -> Store:
    """The songs' store: read from ``cache`` when it is there, else written there (or, with
    no cache or one that cannot be written, kept in memory). ``bar_inputs`` adds the
    columns of ``melodynet.positions``."""
    heads = len(codec.heads)
    width = heads + (len(SIZES) if bar_inputs else 0)
    if cache is not None:
        directory = Path(cache) / "encoded" / store_key(codec, songs, bar_inputs)
        with contextlib.suppress(OSError, ValueError):
            return _open(directory, len(songs), width, heads)
        # A cache that cannot be written costs only speed (the songs stay in memory); a
        # note outside the vocabulary fails again below, with its message.
        with contextlib.suppress(OSError, ValueError, MelodynetError):
            with atomic_dir(directory, replace=True) as tmp:
                _write(codec, songs, tmp, bar_inputs)
            return _open(directory, len(songs), width, heads)
    classes = [np.zeros((0, width), dtype=np.int32)]
    classes += [song_rows(codec, s, bar_inputs) for s in songs]
    return Store(np.concatenate(classes), _offsets(songs), targets=heads)


def song_rows(codec: Codec, song: Song, bar_inputs: bool = False) -> np.ndarray:
    """A song's classes (notes, heads), with its bar inputs after them when asked."""
    classes = codec.classes(song.notes, song.path or song.name)
    if not bar_inputs:
        return classes
    columns = song_columns([ticks(n.duration) for n in song.notes], Meter.of_song(song))
    return np.concatenate([classes, columns], axis=1)


def _offsets(songs: Sequence[Song]) -> np.ndarray:
    offsets = np.zeros(len(songs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(s) for s in songs])
    return offsets


def _write(codec: Codec, songs: Sequence[Song], directory: Path, bar_inputs: bool) -> None:
    """One song at a time into a memory map: nothing corpus-sized is built in memory."""
    offsets = _offsets(songs)
    width = len(codec.heads) + (len(SIZES) if bar_inputs else 0)
    classes = np.lib.format.open_memmap(
        directory / "classes.npy", "w+", np.int32, (int(offsets[-1]), width)
    )
    for i, song in enumerate(songs):
        classes[offsets[i] : offsets[i + 1]] = song_rows(codec, song, bar_inputs)
    classes.flush()
    del classes
    np.save(directory / "offsets.npy", offsets)


def _open(directory: Path, songs: int, width: int, heads: int) -> Store:
    offsets = np.load(directory / "offsets.npy")
    classes = np.load(directory / "classes.npy", mmap_mode="r")
    if offsets.shape != (songs + 1,) or classes.shape != (offsets[-1], width):
        raise ValueError(f"{directory}: not the store of these songs")
    return Store(classes, offsets, directory, heads)


def song_order(store: Store, batch: int, seed: int, epoch: int, shuffle: bool = True):
    """Sequence models: the songs of one epoch, in an order from (seed, epoch) alone.

    Songs are sorted by length within runs of ``SORT_BATCHES`` batches, cut into batches
    and the full batches shuffled (the short one stays last), so a batch pads its songs to
    little more than their own length.
    """
    n = len(store)
    if not shuffle:
        return np.arange(n)
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(n)
    if n <= batch:
        return order
    lengths = store.lengths
    run = batch * SORT_BATCHES
    for begin in range(0, n, run):
        piece = order[begin : begin + run]
        order[begin : begin + run] = piece[np.argsort(lengths[piece], kind="stable")]
    full = n // batch
    batches = order[: full * batch].reshape(full, batch)[rng.permutation(full)]
    return np.concatenate([batches.reshape(-1), order[full * batch :]])


def batches(
    store: Store,
    window: int,
    sequence: bool,
    batch: int,
    seed: int = 0,
    epochs: Sequence[int] = (0,),
    shuffle: bool = True,
    skip: int = 0,
    replicas: int = 1,
):
    """The tf.data dataset of the batches of ``epochs``, one epoch after the other, from
    batch ``skip`` of the first on. Built once for a whole run (building costs more than
    a small epoch); each batch is read from the store by one call into numpy.

    Window models visit every window once per epoch in a random permutation that
    ``index_shuffle`` computes window by window from (seed, epoch): a full shuffle that
    holds nothing in memory. Sequence models take their songs in ``song_order``.

    Under a strategy with ``replicas``, a last batch smaller than that is padded with
    weightless copies of its last example: every replica must get one (an empty batch
    breaks Keras' LSTM and stalls the other workers).
    """
    from melodynet.tfenv import tensorflow

    tf = tensorflow()
    width, heads = store.classes.shape[1], store.targets
    types = (tf.int32, tf.int32, tf.float32, tf.float32)

    if sequence:

        def order(epoch):
            return song_order(store, batch, seed, int(epoch), shuffle)

        def read(indices):
            songs = [store.song(int(i)) for i in indices]
            longest = max(len(s) for s in songs) - 1
            x = np.full((len(songs), longest, width), -1, dtype=np.int32)  # -1: masked
            y = np.zeros((len(songs), longest, heads), dtype=np.int32)
            loss_weight = np.zeros((len(songs), longest), dtype=np.float32)
            for row, song in enumerate(songs):
                x[row, : len(song) - 1] = song[:-1]
                y[row, : len(song) - 1] = song[1:, :heads]
                loss_weight[row, : len(song) - 1] = 1.0
            score_weight = loss_weight.copy()
            score_weight[:, : window - 1] = 0.0
            return x, y, loss_weight, score_weight

        def epoch_batches(epoch):
            songs = tf.numpy_function(order, [epoch], tf.int64, stateful=False)
            return tf.data.Dataset.from_tensor_slices(songs).batch(batch)

    else:
        total = int(store.window_starts(window)[-1])

        def read(indices):
            x, y = read_windows(store, window, indices)
            ones = np.ones(len(indices), dtype=np.float32)
            return x, y, ones, ones

        def epoch_batches(epoch):
            data = tf.data.Dataset.range(total).batch(batch)
            if not shuffle:
                return data
            return data.map(lambda i: _shuffle(i, seed, epoch, total))

    def load(indices):
        x, y, loss_weight, score_weight = tf.numpy_function(read, [indices], types, stateful=False)
        rank = 2 if sequence else 1
        x = tf.ensure_shape(x, [None] * rank + ([width] if sequence else [window, width]))
        y = tf.ensure_shape(y, [None] * rank + [heads])
        loss_weight = tf.ensure_shape(loss_weight, [None] * rank)
        score_weight = tf.ensure_shape(score_weight, [None] * rank)
        return weigh(x, y, loss_weight, score_weight)

    def weigh(x, y, loss_weight, score_weight):
        rows = tf.shape(x)[0]
        batch_weight = tf.fill([rows], tf.reduce_sum(loss_weight))
        if replicas > 1:
            keep = tf.range(tf.maximum(rows, replicas))
            source = tf.minimum(keep, rows - 1)
            real = tf.cast(keep < rows, tf.float32)
            real = tf.reshape(real, [-1] + [1] * (len(loss_weight.shape) - 1))
            x, y, batch_weight = (tf.gather(t, source) for t in (x, y, batch_weight))
            loss_weight = tf.gather(loss_weight, source) * real
            score_weight = tf.gather(score_weight, source) * real
        return x, y, loss_weight, score_weight, batch_weight

    epochs = tf.data.Dataset.from_tensor_slices(np.asarray(epochs, dtype=np.int64))
    return epochs.flat_map(epoch_batches).skip(skip).map(load).prefetch(2)


def read_windows(store: Store, window: int, indices: np.ndarray):
    """Windows ``indices`` of the store, counted song after song: x (n, window, columns), y
    (n, heads), the note after each window."""
    # Window k is window k - first[s] of the song s with first[s] <= k < first[s + 1].
    first = store.window_starts(window)
    song = np.searchsorted(first, indices, side="right") - 1
    start = store.offsets[song] + indices - first[song]
    notes = np.asarray(store.classes[start[:, None] + np.arange(window + 1)])
    return notes[:, :window], notes[:, window, : store.targets]


def window_steps(
    store: Store, window: int, batch: int, seed: int, epoch: int, step: int, count: int
):
    """Window models: batches ``step`` to ``step + count - 1`` of ``epoch``, exactly as
    ``batches`` gives them, read at once and stacked as (count, batch, ...) numpy arrays
    for ``Trainer``'s several steps per call: (x, y, loss_weight, score_weight,
    batch_weight). An epoch's last batch, when it is short, comes alone (count 1)."""
    total = int(store.window_starts(window)[-1])
    begin, end = step * batch, min((step + count) * batch, total)
    assert count == 1 or end == (step + count) * batch, "a short batch comes alone"
    indices = _shuffle(np.arange(begin, end, dtype=np.int64), seed, epoch, total).numpy()
    x, y = read_windows(store, window, indices)
    rows = (count, len(indices) // count)
    ones = np.ones(rows, dtype=np.float32)
    return x.reshape(*rows, *x.shape[1:]), y.reshape(*rows, -1), ones, ones, ones * rows[1]


def _shuffle(indices, seed: int, epoch, total: int):
    """The epoch's permutation of the ``total`` windows at ``indices``: the same function
    inside tf.data and out of it."""
    from melodynet.tfenv import tensorflow

    tf = tensorflow()
    key = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
    return tf.random.experimental.index_shuffle(indices, key, tf.constant(total - 1, tf.int64))


def eval_batches(store: Store, window: int, sequence: bool):
    """Every example once, in store order, in large batches: for measuring, not training."""
    return batches(store, window, sequence, EVAL_BATCH[sequence], shuffle=False)


def steps(store: Store, window: int, sequence: bool, batch: int) -> int:
    examples = len(store) if sequence else int(store.window_starts(window)[-1])
    return -(-examples // batch)


def ceiling(songs, window: int, whole_history: bool = False, targets: int | None = None) -> float:
    """Best one-step accuracy reachable by a model that sees ``window`` notes, or
    (``whole_history``) everything before the note; scored from note ``window`` on.
    Songs are rows of classes; only the first ``targets`` columns (default: all) are
    predicted, the others (bar inputs) are context alone.

    Contexts followed by different notes in different places can only be right as often
    as their most common continuation. Each context is named by a 64-bit hash, so counting
    takes a few numpy arrays of one number per note, not a Python object per context.
    """
    keys, nexts = [], []
    for classes in songs:
        classes = np.asarray(classes)
        rows = _row_ids(classes)
        targets_of = _row_ids(classes[:, :targets]) if targets else rows
        if len(rows) <= window:
            continue
        if whole_history:
            prefix, history = np.empty(len(rows), dtype=np.uint64), 0
            for t, row in enumerate(rows.tolist()):
                prefix[t] = history
                history = (history * _HASH + row + 1) & _MASK
            keys.append(prefix[window:])
        else:
            contexts = np.lib.stride_tricks.sliding_window_view(rows, window)[:-1]
            keys.append(contexts.astype(np.uint64) @ _powers(window))
        nexts.append(targets_of[window:])
    if not keys:
        return 0.0
    pairs = np.stack([np.concatenate(keys).view(np.int64), np.concatenate(nexts)], axis=1)
    unique, counts = np.unique(pairs, axis=0, return_counts=True)
    starts = np.flatnonzero(np.r_[True, unique[1:, 0] != unique[:-1, 0]])
    return float(np.maximum.reduceat(counts, starts).sum() / len(pairs))


_HASH = 0x9E3779B97F4A7C15  # odd, so multiplying by it mixes without losing bits
_MASK = (1 << 64) - 1


def _powers(window: int) -> np.ndarray:
    with np.errstate(over="ignore"):  # wrapping arithmetic modulo 2**64 is the point
        return np.cumprod(np.full(window, _HASH, dtype=np.uint64))[::-1].copy()


def _row_ids(classes: np.ndarray) -> np.ndarray:
    """One int64 per note: its class in every head (each below 2**20) side by side, or
    for more than three columns a 64-bit hash of them."""
    assert classes.ndim == 2 and (classes < 1 << 20).all()
    if classes.shape[1] <= 3:
        shifts = np.arange(classes.shape[1], dtype=np.int64) * 20
        return (classes.astype(np.int64) << shifts).sum(axis=1)
    ids = np.zeros(len(classes), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in classes.T:
            ids = ids * np.uint64(_HASH) + column.astype(np.uint64) + np.uint64(1)
    return ids.view(np.int64)
