import numpy as np
import pytest

from melodynet.errors import MelodynetError
from melodynet.generation.sampling import Sampling, choose

PROBS = np.array([[0.5, 0.3, 0.15, 0.05]] * 4000, dtype=np.float32)


def _draw(sampling, seed=1):
    return choose(PROBS, sampling, np.random.default_rng(seed).random(len(PROBS)))


def test_greedy_takes_the_most_likely():
    assert set(_draw(Sampling())) == {0}
    assert set(choose(PROBS, Sampling(temperature=1.0), None)) == {0}  # no numbers: greedy


def test_the_uniform_number_picks_by_cumulative_probability():
    # cumulative .5, .8, .95, 1: u in [0, .5) -> 0, [.5, .8) -> 1, [.8, .95) -> 2, else 3
    u = np.array([0.0, 0.49, 0.51, 0.79, 0.81, 0.94, 0.96, 0.999])
    assert list(choose(PROBS[: len(u)], Sampling(temperature=1.0), u)) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_temperature_one_follows_the_distribution():
    counts = np.bincount(_draw(Sampling(temperature=1.0)), minlength=4) / len(PROBS)
    assert np.allclose(counts, PROBS[0], atol=0.03)


def test_low_temperature_sharpens_and_high_flattens():
    cold = np.bincount(_draw(Sampling(temperature=0.2)), minlength=4) / len(PROBS)
    hot = np.bincount(_draw(Sampling(temperature=5.0)), minlength=4) / len(PROBS)
    assert cold[0] > 0.9 and hot[3] > 0.15


def test_top_k_and_top_p_cut_the_tail():
    assert set(_draw(Sampling(temperature=1.0, top_k=2))) == {0, 1}
    # cumulative mass before each class: 0, .5, .8, .95 -> top-p .75 keeps classes 0 and 1
    assert set(_draw(Sampling(temperature=1.0, top_p=0.75))) == {0, 1}
    assert set(_draw(Sampling(temperature=1.0, top_p=0.5))) == {0}


def test_same_seed_same_draws():
    a, b = _draw(Sampling(temperature=1.0)), _draw(Sampling(temperature=1.0))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, _draw(Sampling(temperature=1.0), seed=2))


@pytest.mark.parametrize("bad", [{"temperature": 0}, {"top_k": 0}, {"top_p": 1.5}])
def test_bad_settings_are_user_errors(bad):
    with pytest.raises(MelodynetError):
        Sampling(**bad)
