"""Beam search finds melodies at least as likely as greedy choice; beam 1 is greedy."""

import numpy as np
import pytest

from melodynet.network import features
from tests.conftest import BUTTERFLY, SONGS


@pytest.fixture(scope="module")
def half_trained():
    """An MLP that is still unsure (8 epochs on four songs), so the choices matter."""
    import melodynet

    songs = [
        BUTTERFLY,
        *(SONGS / n for n in ("twinkle.txt", "ode-to-joy.txt", "frere-jacques.txt")),
    ]
    return melodynet.train(songs, model="mlp", epochs=8, stop_when_perfect=False)


def _log_likelihood(trained, primer, continuation):
    """Sum of log p(note | the window before it), computed straight from the model."""
    codec, w = trained.codec, trained.config.window
    notes = np.concatenate([primer, continuation])
    total = 0.0
    for t in range(len(primer), len(notes)):
        out = trained.network(features(notes[None, t - w : t], codec.sizes), training=False)
        for j, head in enumerate(codec.heads):
            total += float(np.log(np.asarray(out[head])[0, notes[t, j]]))
    return total


def test_beam_of_one_is_greedy(half_trained):
    primer = half_trained.codec.classes(half_trained.songs[0].notes[:4])
    greedy = half_trained.predictor.continue_song(primer, 20)[0]
    assert np.array_equal(half_trained.predictor.beam_search(primer, 20, 1), greedy)


def test_wider_beams_find_likelier_melodies(half_trained):
    primer = half_trained.codec.classes(half_trained.songs[1].notes[:4])
    greedy = half_trained.predictor.continue_song(primer, 20)[0]
    beam = half_trained.predictor.beam_search(primer, 20, 8)
    assert (
        _log_likelihood(half_trained, primer, beam)
        >= _log_likelihood(half_trained, primer, greedy) - 1e-4
    )


def test_beam_search_plays_butterfly_with_the_stateful_lstm(runner, butterfly_bundle):
    result = runner("generate", "--model-dir", butterfly_bundle, "--beam-size", "4")
    assert result.exit_code == 0, result.output
    assert "50/50" in result.output
