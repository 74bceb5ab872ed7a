import math

import numpy as np
import pytest

from melodynet.errors import MelodynetError
from melodynet.evaluation.baselines import (
    NGram,
    RepeatPrevious,
    Vocabulary,
    evaluate_baselines,
    score,
)
from melodynet.songs.song import Note, Song

A, B, C = Note(60, 1), Note(62, 1), Note(64, 1)
TRAIN = [Song([A, B, A, B])]


def test_repeat_previous_by_hand():
    # training: 3 transitions, no repeat -> P(repeat) = (0 + 1) / (3 + 2) = 1/5
    # unigram, add-one over a, b and unknown: a 3/7, b 3/7, unknown 1/7
    model = RepeatPrevious(TRAIN)
    assert model.repeat == pytest.approx(1 / 5)
    assert model.unigram == pytest.approx([3 / 7, 3 / 7, 1 / 7])
    result = score(model, [Song([A, A, B])], window=1)
    # note 2: a after a, a repeat: 1/5; note 3: b after a: 4/5 * (3/7) / (1 - 3/7) = 3/5
    assert result.total == 2
    assert result.nll == pytest.approx(-(math.log(1 / 5) + math.log(3 / 5)) / 2)
    assert result.perplexity == pytest.approx(math.exp(result.nll))
    assert result.correct == 1  # a after a right, a for b wrong
    assert result.pitch_correct == 1 and result.duration_correct == 2


def test_bigram_witten_bell_by_hand():
    # vocabulary a, b (+ unknown: 3 classes, uniform 1/3)
    # unigram: c(a) = c(b) = 2, N = 4, T = 2: P(a) = (2 + 2/3) / 6 = 4/9, P(unknown) = 1/9
    # after a: c(a b) = 2, N = 2, T = 1: P(b|a) = (2 + 4/9) / 3 = 22/27, P(a|a) = 4/27
    model = NGram(TRAIN, order=2)
    unigram = model.distribution([])
    assert unigram == pytest.approx([4 / 9, 4 / 9, 1 / 9])
    after_a = model.distribution([0])
    assert after_a == pytest.approx([4 / 27, 22 / 27, 1 / 27])
    result = score(model, [Song([A, A, B])], window=1)
    assert result.nll == pytest.approx(-(math.log(4 / 27) + math.log(22 / 27)) / 2)
    assert result.correct == 1  # predicts b after a both times


def test_trigram_backs_off_from_unseen_contexts():
    model = NGram(TRAIN, order=3)
    # (b, b) never seen -> P(.|b): c(b a) = 1, N = 1, T = 1: P(a|b) = (1 + 4/9) / 2 = 13/18
    assert model.distribution([1, 1]) == pytest.approx([13 / 18, 2 / 9, 1 / 18])
    # (a, b) seen once, followed by a: P(a|a b) = (1 + 13/18) / 2 = 31/36
    assert model.distribution([0, 1])[0] == pytest.approx(31 / 36)


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_every_distribution_sums_to_one(order):
    songs = [Song([A, B, C, A, A, B, C, C, B, A]), Song([C, B, A, C])]
    model = NGram(songs, order=order)
    for context in ([], [0], [2, 1], [3, 3], [0, 1, 2, 0], [-1, -1, 0, 1]):
        probs = model.distribution(context)
        assert probs.sum() == pytest.approx(1.0)
        assert np.all(probs > 0)


def test_unknown_notes_get_finite_nll():
    results = evaluate_baselines(TRAIN, [Song([A, C, C, B])], window=1)
    for result in results:
        assert math.isfinite(result.nll)
        assert result.unknown == 2
    repeat, trigram = results
    assert repeat.name == "repeat previous note" and trigram.name == "order-3 n-gram"
    assert repeat.correct == 1  # c after c: right even though c was never trained on


def test_scores_from_the_window_on():
    held = [Song([A, B, A, B, A, B]), Song([A, B])]
    result = score(NGram(TRAIN), held, window=4)
    assert result.total == 2  # notes 5 and 6 of the first song; the second is too short
    with pytest.raises(MelodynetError, match="no held-out notes"):
        score(NGram(TRAIN), [Song([A, B])], window=4)


def test_memorised_song_is_predicted_perfectly():
    song = Song([A, A, B, A, C, B, B, C, C, A])  # every two notes have one follower
    repeat, trigram = evaluate_baselines([song], [song], window=2, order=3)
    assert trigram.accuracy == 1.0
    assert trigram.nll < repeat.nll


def test_vocabulary_order_breaks_ties():
    vocab = Vocabulary([Song([B, A])])
    assert vocab.keys == ["60:1", "62:1"]
    assert vocab.ids(Song([A, C])) == [0, 2]
    model = NGram([Song([B, A])], order=1)  # a and b equally likely: a comes first
    assert model.predict([A], [0], 1) == A


def test_the_vocabulary_can_be_the_codecs():
    held = [Song([A, C, C, B])]
    [repeat, trigram] = evaluate_baselines(TRAIN, held, window=1, vocabulary_songs=TRAIN + held)
    assert repeat.unknown == trigram.unknown == 0
    # c is a known class now, never seen in training: Witten-Bell still gives it a little
    assert math.isfinite(trigram.nll)
