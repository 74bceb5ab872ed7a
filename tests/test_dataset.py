from collections import Counter, defaultdict

import numpy as np

from melodynet import dataset

from .conftest import BUTTERFLY_TOKENS


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


def test_windows_and_sequences_cover_the_same_targets():
    song = np.arange(10).reshape(10, 1)
    w = dataset.windows([song], 3)
    assert w.x.shape == (7, 3, 1) and list(w.y[:, 0]) == list(range(3, 10))
    s = dataset.sequences([song, song[:6]], 3)
    assert s.x.shape == (2, 9, 1)
    scored = s.y[0, :, 0][s.score_weight[0] > 0]
    assert list(scored) == list(range(3, 10))
    assert s.loss_weight[1].sum() == 5 and s.score_weight[1].sum() == 3
