"""Generating with PPM models mixed in: only the pitch changes, as crossval mixes it."""

from fractions import Fraction

import numpy as np
import pytest

import melodynet
from melodynet.errors import OptionError
from melodynet.evaluation import ppm
from melodynet.evaluation.mix import MixOptions
from melodynet.generation.mixing import GenerationMix
from melodynet.songs.song import Note, Song
from tests.conftest import BUTTERFLY

HALF, WHOLE = Fraction(1, 2), Fraction(1)
# a split-like encoding: pitch head (C4, D4, rest) times duration head (eighth, quarter)
NOTES = [Note(p, d) for p in (60, 62, None) for d in (HALF, WHOLE)]
SONGS = [Song([Note(60, HALF), Note(62, HALF)] * 8)]


def test_the_pitch_head_is_mixed_and_the_rest_and_durations_kept():
    mix = GenerationMix(NOTES, [3, 2], SONGS, MixOptions("ltm"))
    assert mix.head == 0 and mix.head_symbol.tolist() == [0, 1, -1]
    pitch, duration = np.array([[0.45, 0.45, 0.1]]), np.array([[0.3, 0.7]])
    after_c = [np.array([0])]  # joint class of C4 eighth
    mixed_pitch, mixed_duration = mix.apply([pitch, duration], after_c)
    assert mixed_pitch[0, 2] == pytest.approx(0.1)  # the rest's probability
    assert mixed_pitch.sum() == pytest.approx(1.0)
    assert mixed_pitch[0, 1] > 0.7  # up from 0.45: in the training song D4 follows C4
    assert np.array_equal(mixed_duration, duration)
    # exactly the entropy-weighted mean crossval uses, over the pitches
    ltm = ppm.PPM(2)
    ltm.learn([0, 1] * 8)
    expected = ppm.combine(
        [np.array([[0.5, 0.5]]), ltm.next_distribution([0])[None]], "geometric", 1
    )
    assert mixed_pitch[0, :2] / 0.9 == pytest.approx(expected[0])


def test_a_single_token_head_keeps_each_pitchs_split_between_durations():
    mix = GenerationMix(NOTES, [6], SONGS, MixOptions("ltm"))
    assert mix.head == 0 and mix.head_symbol.tolist() == [0, 0, 1, 1, -1, -1]
    tokens = np.array([[0.1, 0.3, 0.2, 0.2, 0.1, 0.1]])
    [mixed] = mix.apply([tokens], [np.array([0])])
    assert mixed[0, 0] / mixed[0, 1] == pytest.approx(1 / 3)
    assert mixed[0, 2] / mixed[0, 3] == pytest.approx(1.0)
    assert mixed[0, 4:] == pytest.approx([0.1, 0.1])
    assert mixed[0, 2:4].sum() > tokens[0, 2:4].sum()


def test_no_head_that_fixes_the_pitch_is_an_error():
    scrambled = [NOTES[i] for i in (0, 2, 1, 3, 4, 5)]  # pitch depends on both heads
    with pytest.raises(OptionError) as caught:
        GenerationMix(scrambled, [2, 3], SONGS, MixOptions("ltm"))
    assert caught.value.option == "mix"


def test_the_long_term_model_is_left_as_it_was():
    mix = GenerationMix(NOTES, [3, 2], SONGS, MixOptions("ltm+"))
    before = [np.array([0, 2, 0, 2, 0])]  # C D C D C
    first = mix.apply([np.full((1, 3), 1 / 3), np.full((1, 2), 0.5)], before)
    again = mix.apply([np.full((1, 3), 1 / 3), np.full((1, 2), 0.5)], before)
    assert np.array_equal(first[0], again[0])  # generating taught the LTM+ nothing


@pytest.mark.slow
def test_generate_with_a_mix():
    model = melodynet.train(BUTTERFLY, model="mlp", epochs=2, random_seed=0)
    plain = model.generate(4, length=30)
    mixed = model.generate(4, length=30, mix="both+,interval-degree-ltm")
    assert len(mixed.notes) == len(plain.notes) == 34
    assert mixed.notes[:4] == plain.notes[:4] and mixed.notes != plain.notes
    # the PPM models know butterfly: a weak network follows it at least as far with them
    assert int(mixed.extra["matches"]) >= int(plain.extra["matches"])
    # with the constraints too: the mix changes likelihoods, never what is allowed
    constrained = model.generate(4, mix="both", key="G", bars=6, end="tonic")
    assert constrained.notes[-1].pitch % 12 == 7
    for bad, option in (({"mix": "lstm"}, "mix"), ({"mix": "ltm", "mode": "one-step"}, "mix")):
        with pytest.raises(OptionError) as caught:
            model.generate(4, **bad)
        assert caught.value.option == option
