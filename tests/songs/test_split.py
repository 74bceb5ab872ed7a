import random

import pytest

from melodynet.errors import MelodynetError
from melodynet.songs.song import Note, Song
from melodynet.songs.split import split_songs


def _song(i: int, name: str | None = None) -> Song:
    notes = [Note(60 + (i * 7 + k) % 24, 1) for k in range(6)] + [Note(None, i + 1)]
    return Song(notes, title=name or f"song {i}")


def _titles(songs):
    return sorted(s.title for s in songs)


def test_holds_out_whole_songs_in_the_given_fraction():
    songs = [_song(i) for i in range(20)]
    training, validation = split_songs(songs, 0.1, seed=0)
    assert len(validation) == 2 and len(training) == 18
    assert _titles(training + validation) == _titles(songs)
    # both keep the input order
    assert training == [s for s in songs if s in training]
    assert validation == [s for s in songs if s in validation]


def test_same_seed_same_split_whatever_the_order():
    songs = [_song(i) for i in range(30)]
    _, first = split_songs(songs, 0.2, seed=7)
    shuffled = songs[:]
    random.Random(1).shuffle(shuffled)
    _, again = split_songs(shuffled, 0.2, seed=7)
    assert _titles(first) == _titles(again)
    _, other = split_songs(songs, 0.2, seed=8)
    assert _titles(other) != _titles(first)  # another seed, another split (here)


def test_identical_tunes_stay_on_one_side():
    songs = [_song(i) for i in range(10)]
    twins = [_song(i, f"copy of {i}") for i in range(10)]
    training, validation = split_songs(songs + twins, 0.3, seed=3)
    held = {s.title.removeprefix("copy of song ").removeprefix("song ") for s in validation}
    kept = {s.title.removeprefix("copy of song ").removeprefix("song ") for s in training}
    assert held and not held & kept
    assert len(validation) == 6  # three tunes, both copies of each


def test_at_least_one_song_each_side():
    songs = [_song(i) for i in range(3)]
    training, validation = split_songs(songs, 0.01, seed=0)
    assert len(validation) == 1 and len(training) == 2
    training, validation = split_songs(songs, 0.99, seed=0)
    assert len(training) >= 1 and len(validation) >= 1


def test_zero_holds_nothing_out():
    songs = [_song(i) for i in range(3)]
    assert split_songs(songs, 0, seed=0) == (songs, [])


@pytest.mark.parametrize(
    "songs, fraction, message",
    [
        ([_song(1)] * 3, 1.0, "at least 0 and below 1"),
        ([_song(1)] * 3, -0.1, "at least 0 and below 1"),
        ([_song(1)], 0.5, "needs at least 2 songs"),
        ([_song(1), _song(1, "same notes")], 0.5, "all 2 songs have the same notes"),
    ],
)
def test_impossible_splits_are_errors(songs, fraction, message):
    with pytest.raises(MelodynetError, match=message):
        split_songs(songs, fraction, seed=0)
