from collections import Counter, defaultdict
from fractions import Fraction

import numpy as np

from melodynet.codec import Codec
from melodynet.plugins import registry
from melodynet.songs.song import Note, Song
from melodynet.training import dataset
from tests.conftest import BUTTERFLY_TOKENS


def _by_hand_ceiling(tokens, window):
    """Count, straight from the note names, how often a 4-note context is followed by its
    most common next note."""
    follow = defaultdict(Counter)
    for i in range(window, len(tokens)):
        follow[tuple(tokens[i - window : i])][tokens[i]] += 1
    return sum(max(c.values()) for c in follow.values()), len(tokens) - window


def test_butterfly_window_ceiling_is_46_of_50():
    best, total = _by_hand_ceiling(BUTTERFLY_TOKENS, 4)
    assert (best, total) == (46, 50)
    ambiguous = {}
    for i in range(4, len(BUTTERFLY_TOKENS)):
        ambiguous.setdefault(tuple(BUTTERFLY_TOKENS[i - 4 : i]), set()).add(BUTTERFLY_TOKENS[i])
    assert sum(len(v) > 1 for v in ambiguous.values()) == 4
    index = {t: i for i, t in enumerate(sorted(set(BUTTERFLY_TOKENS)))}
    classes = np.array([[index[t]] for t in BUTTERFLY_TOKENS])
    assert dataset.ceiling([classes], 4) == 46 / 50
    assert dataset.ceiling([classes], 4, whole_history=True) == 1.0


def _songs(*lengths):
    """Songs whose notes are 1..n quarter notes of ascending pitch: class = pitch order."""
    return [Song([Note(60 + i, Fraction(1)) for i in range(n)], title=f"s{n}") for n in lengths]


def _codec(songs):
    return Codec.fit(registry().encoding("single"), songs)


def _epoch(store, window, sequence, batch, **kwargs):
    return [
        tuple(t.numpy() for t in b)
        for b in dataset.batches(store, window, sequence, batch, **kwargs)
    ]


def test_store_is_written_once_per_content_and_memory_mapped(tmp_path):
    songs = _songs(10, 6)
    codec = _codec(songs)
    store = dataset.encode(codec, songs, tmp_path)
    assert isinstance(store.classes, np.memmap) and store.directory.parent.parent == tmp_path
    assert [list(s[:, 0]) for s in store.songs()] == [list(range(10)), list(range(6))]
    stamp = (store.directory / "classes.npy").stat().st_mtime_ns
    again = dataset.encode(codec, songs, tmp_path)
    assert again.directory == store.directory
    assert (store.directory / "classes.npy").stat().st_mtime_ns == stamp
    other = dataset.encode(codec, songs[:1], tmp_path)
    assert other.directory != store.directory and len(other) == 1
    in_memory = dataset.encode(codec, songs)
    assert in_memory.directory is None and np.array_equal(in_memory.classes, store.classes)


def test_a_damaged_store_is_written_again(tmp_path):
    songs = _songs(10, 6)
    store = dataset.encode(_codec(songs), songs, tmp_path)
    (store.directory / "offsets.npy").write_bytes(b"garbage")
    again = dataset.encode(_codec(songs), songs, tmp_path)
    assert list(again.lengths) == [10, 6]


def test_windows_cover_every_target_once_and_shuffle_by_seed_and_epoch():
    songs = _songs(10, 6)
    store = dataset.encode(_codec(songs), songs)
    plain = _epoch(store, 3, False, 4, shuffle=False)
    x = np.concatenate([b[0] for b in plain])[..., 0]
    y = np.concatenate([b[1] for b in plain])[..., 0]
    # Every window is three consecutive notes of one song, followed by the next.
    expected = [(list(range(t - 3, t)), t) for n in (10, 6) for t in range(3, n)]
    assert [(list(a), b) for a, b in zip(x, y, strict=True)] == expected
    assert dataset.steps(store, 3, False, 4) == len(plain) == 3
    assert [len(b[0]) for b in plain] == [4, 4, 2]
    assert all(np.all(b[4] == len(b[0])) for b in plain)  # batch weight: the batch's notes

    def order(**kwargs):
        return [int(v) for b in _epoch(store, 3, False, 4, **kwargs) for v in b[1][:, 0]]

    first = order(seed=0, epochs=[1])
    assert sorted(first) == sorted(int(v) for v in y) and first != list(y)
    assert order(seed=0, epochs=[1]) == first
    assert order(seed=0, epochs=[2]) != first and order(seed=1, epochs=[1]) != first
    assert order(seed=0, epochs=[1], skip=2) == first[8:]
    assert order(seed=0, epochs=[1, 2]) == first + order(seed=0, epochs=[2])


def test_window_steps_are_the_batches_of_the_stream_stacked():
    songs = _songs(12, 7, 9)
    store = dataset.encode(_codec(songs), songs)
    stream = _epoch(store, 3, False, 4, seed=5, epochs=[2])
    assert [len(b[0]) for b in stream] == [4, 4, 4, 4, 3]
    # steps 1..3 in one read, then the short last batch alone
    stacked = dataset.window_steps(store, 3, 4, seed=5, epoch=2, step=1, count=3)
    last = dataset.window_steps(store, 3, 4, seed=5, epoch=2, step=4, count=1)
    assert [a.shape[:2] for a in stacked] == [(3, 4)] * 5
    assert [a.shape[:2] for a in last] == [(1, 3)] * 5
    for k, batch in enumerate(stream[1:4]):
        for got, expected in zip(stacked, batch, strict=True):
            np.testing.assert_array_equal(got[k], expected)
    for got, expected in zip(last, stream[4], strict=True):
        np.testing.assert_array_equal(got[0], expected)


def test_sequences_pad_each_batch_to_its_longest_song():
    songs = _songs(10, 6, 5)
    store = dataset.encode(_codec(songs), songs)
    (x, y, loss_weight, score_weight, batch_weight), last = _epoch(store, 3, True, 2, shuffle=False)
    assert x.shape == (2, 9, 1)
    assert list(x[1, :, 0]) == [0, 1, 2, 3, 4, -1, -1, -1, -1]  # -1: no feature, masked
    assert list(y[0, :, 0]) == list(range(1, 10))
    assert list(loss_weight.sum(1)) == [9, 5] and list(score_weight.sum(1)) == [7, 3]
    assert list(y[0, :, 0][score_weight[0] > 0]) == list(range(3, 10))  # from note 3 on
    assert np.all(batch_weight == 14)
    assert last[0].shape == (1, 4, 1)


def test_sequence_batches_group_songs_of_similar_length():
    lengths = list(range(5, 69))
    store = dataset.encode(_codec(_songs(*lengths)), _songs(*lengths))
    order = dataset.song_order(store, 8, seed=0, epoch=1)
    assert sorted(order) == list(range(len(lengths)))
    batch_lengths = store.lengths[order].reshape(-1, 8)
    assert np.all(np.diff(batch_lengths, axis=1) >= 0)  # sorted inside each batch
    # 64 songs in one run: each batch holds 8 neighbouring lengths, not a random spread.
    assert np.all(batch_lengths[:, -1] - batch_lengths[:, 0] == 7)
    other = dataset.song_order(store, 8, seed=0, epoch=2)
    assert not np.array_equal(order, other)


def test_a_short_last_batch_is_padded_with_weightless_rows_for_every_replica():
    songs = _songs(10, 6, 5)
    store = dataset.encode(_codec(songs), songs)
    *_, last = _epoch(store, 3, True, 2, shuffle=False, replicas=2)
    x, y, loss_weight, score_weight, batch_weight = last
    assert x.shape[0] == 2 and np.array_equal(x[0], x[1])
    assert list(loss_weight.sum(1)) == [4, 0] and list(score_weight.sum(1)) == [2, 0]
    assert np.all(batch_weight == 4)


def test_whole_history_ceiling_matches_the_quadratic_count():
    rng = np.random.default_rng(0)
    songs = [rng.integers(0, 3, size=(int(n), 1)) for n in rng.integers(5, 30, size=40)]
    songs += [songs[0][:10], songs[1].copy()]  # shared beginnings, one song twice
    for window in (1, 3):
        follow = defaultdict(Counter)
        total = 0
        for s in songs:
            rows = [tuple(r) for r in s.tolist()]
            for t in range(window, len(rows)):
                follow[tuple(rows[:t])][rows[t]] += 1
                total += 1
        expected = sum(max(c.values()) for c in follow.values()) / total
        assert dataset.ceiling(songs, window, whole_history=True) == expected
