from fractions import Fraction

import numpy as np
import pytest

from melodynet.codec import Codec
from melodynet.errors import MelodynetError
from melodynet.plugins import registry
from melodynet.songs.song import Note, Song

SONG = Song([Note(67, Fraction(1, 2)), Note(64, 1), Note(None, 1), Note(67, 1)])


@pytest.mark.parametrize("encoding", ["single", "split"])
def test_classes_round_trip(encoding):
    codec = Codec.fit(registry().encoding(encoding), [SONG])
    classes = codec.classes(SONG.notes)
    assert codec.notes(classes) == SONG.notes
    from melodynet.network import features

    feats = features(classes, codec.sizes).numpy()
    assert feats.shape == (4, codec.feature_size)
    assert np.all(feats.sum(axis=1) == len(codec.heads))


def test_single_has_one_class_per_distinct_note_and_split_decodes_any_pair():
    single = Codec.fit(registry().encoding("single"), [SONG])
    assert single.sizes == [4]
    split = Codec.fit(registry().encoding("split"), [SONG])
    assert split.sizes == [3, 2]
    every_pair = np.array([[p, d] for p in range(3) for d in range(2)])
    notes = split.notes(every_pair)
    assert len(set(notes)) == 6  # every combination is a valid, distinct note


def test_unknown_note_is_a_user_error():
    codec = Codec.fit(registry().encoding("single"), [SONG])
    with pytest.raises(MelodynetError, match=r"--seed: note 1 \(a4\) is not in the model"):
        codec.classes([Note(69, 1)], "--seed")
