"""ppm: IDyOM's PPM, checked by hand on tiny sequences, against IDyOM's own test cases and
outputs, and against Pearce's published table on kinder (slow)."""

from fractions import Fraction as F

import numpy as np
import pytest

from melodynet.errors import OptionError
from melodynet.evaluation.ppm import (
    PPM,
    PPMOptions,
    combine,
    describe,
    entropy,
    predict_fold,
    resolve_params,
)

ABRACADABRA = [0, 1, 4, 0, 2, 0, 3, 0, 1, 4, 0]  # a b r a c a d a b r a; a=0 b=1 c=2 d=3 r=4


def exact(values) -> list[float]:
    values = [F(v) for v in values]
    total = sum(values)
    return [float(v / total) for v in values]


def test_escape_c_interpolated_by_hand():
    # One melody, learnt as it is predicted (an STM), alphabet {a, b, c, d, r}.
    dist = PPM(5).predict(ABRACADABRA, learn=True)
    # nothing seen: order -1 alone, uniform
    assert dist[0] == pytest.approx([0.2] * 5)
    # after a: order 0 has a:1, N 1, t 1, weight 1/2: a 1/2; escape 1/2 to order -1,
    # which shares 1 / (|A| + 1 - t(root)) = 1/5 with every symbol: a 0.6, others 0.1
    assert dist[1] == pytest.approx([0.6, 0.1, 0.1, 0.1, 0.1])
    # after a b: a, b 1/4 each; escape 1/2 * 1/(6 - 2) = 1/8 each: a, b 3/8, others 1/8,
    # sum 9/8, normalised
    assert dist[2] == pytest.approx(exact([F(3, 8), F(3, 8), F(1, 8), F(1, 8), F(1, 8)]))
    # after a b r a (predicting c): the longest context seen before is "a" (then b), and
    # it is deterministic, so PPM* uses it: weight 1/2, b += 1/2, escape 1/2.
    # Order 0 counts a:2 b:1 r:1; b is excluded from the total: N = 3, t = 3, weight 1/2:
    # a += 1/2 * 1/2 * 2/3 = 1/6, b += 1/12, r += 1/12 (b still gains: interpolation).
    # Escape 1/4, order -1 1/(5 + 1 - 3) = 1/3: 1/12 to every symbol.
    a, b, c, d, r = F(1, 6) + F(1, 12), F(1, 2) + F(1, 12) * 2, F(1, 12), F(1, 12), F(1, 6)
    assert dist[4] == pytest.approx(exact([a, b, c, d, r]))
    assert dist[4] == pytest.approx([0.2, 0.5333333, 0.0666667, 0.0666667, 0.1333333])


# training melodies over a=0 b=1 c=2 d=3 e=4 x=5, then the context a b c
TRAIN = [[0, 1, 2, 3], [5, 1, 2, 3], [2, 3], [2, 4]]
HISTORY = [0, 1, 2]


def ltm_after(history, options: PPMOptions, size: int = 6) -> np.ndarray:
    model = PPM(size, options)
    for melody in TRAIN:
        model.learn(melody)
    return model.predict([*history, 0])[len(history)]


def test_ppm_star_uses_the_shortest_deterministic_context_by_hand():
    # "a b c" and "b c" were only ever followed by d (once, twice); "c" by d 3, e 1.
    # PPM* takes "b c": weight 2/(2+1), d += 2/3, escape 1/3.
    # "c": d excluded, N = 1 (e), t = 2, weight 1/3: d += 1/3*1/3*3 = 1/3, e += 1/9;
    # escape 2/9. Order 0 (a1 b2 c4 d3 x1 e1), d and e excluded: N = 8, t = 6, weight
    # 4/7: each += 2/9 * 4/7 * count/8 = count/63; escape 2/21; order -1: 1/(6+1-6) = 1.
    expected = {
        0: F(1, 63) + F(2, 21),
        1: F(2, 63) + F(2, 21),
        2: F(4, 63) + F(2, 21),
        3: F(2, 3) + F(1, 3) + F(3, 63) + F(2, 21),
        4: F(1, 9) + F(1, 63) + F(2, 21),
        5: F(1, 63) + F(2, 21),
    }
    got = ltm_after(HISTORY, PPMOptions())
    assert got == pytest.approx(exact(expected[i] for i in range(6)))
    assert got[3] == pytest.approx(36 / 59)
    # Bounded at order 3, "a b c" (seen once) is used: weight 1/2, d += 1/2; "b c" adds
    # nothing (d excluded: N = 0); "c": weight 1/3, d += 1/2, e += 1/6; order 0 += c/42;
    # order -1 += 1/7.
    bounded = ltm_after(HISTORY, PPMOptions(order=3))
    expected = [F(7, 42), F(8, 42), F(10, 42), F(51, 42), F(14, 42), F(7, 42)]
    assert bounded == pytest.approx(exact(expected))
    assert bounded[3] == pytest.approx(51 / 97)


def test_blending_by_hand():
    # C* without interpolation: "b c" sets d = 2/3; "c" sets e (d excluded) = 1/3*1/3 =
    # 1/9; order 0 sets the rest (count/63); order -1 adds nothing, every symbol having
    # been predicted by the empty context. Sum 57/63.
    got = ltm_after(HISTORY, PPMOptions(interpolation=False))
    assert got == pytest.approx(exact([1, 2, 4, 42, 7, 1]))


@pytest.mark.parametrize(
    ("escape", "expected"),
    [
        # counts a:2 b:1 at order 0, alphabet {a, b}; order -1 gives escape / (2+1-2)
        ("a", [F(3, 5), F(2, 5)]),  # weight N/(N+1) = 3/4: a 1/2, b 1/4; + 1/4 each
        ("b", [F(3, 5), F(2, 5)]),  # k = -1: a 1, b 0, N 1, t 2: weight 1/3; + 2/3 each
        ("c", [F(4, 7), F(3, 7)]),  # weight 3/(3+2): a 2/5, b 1/5; + 2/5 each
        ("d", [F(5, 8), F(3, 8)]),  # k = -1/2, t/2: N 2, weight 2/3: a 1/2, b 1/6; + 1/3
        ("x", [F(4, 7), F(3, 7)]),  # AX: t1 + 1 = 2 (b seen once): as c here
    ],
)
def test_escape_methods_by_hand(escape, expected):
    model = PPM(2, PPMOptions(escape=escape))
    model.learn([0, 0, 1])
    assert model.predict([0])[0] == pytest.approx([float(x) for x in expected])


def test_matches_idyoms_own_test_case():
    # IDyOM testing/ppm-tests.lisp, ppm*-dataset1: abracadabra twice, C*I; the second
    # melody's distributions (alphabet a b c d r)
    idyom = [
        [0.2777778, 0.19444445, 0.16666667, 0.16666667, 0.19444445],
        [0.20245397, 0.28834355, 0.19018403, 0.19018403, 0.12883434],
        [0.15714285, 0.11428571, 0.08571428, 0.08571428, 0.55714285],
        [0.5692308, 0.12307692, 0.09230768, 0.09230768, 0.12307692],
        [0.11999999, 0.23, 0.46, 0.10999999, 0.07999999],
        [0.47272727, 0.14545456, 0.12727273, 0.10909091, 0.14545456],
        [0.111428574, 0.20571429, 0.15142857, 0.46285713, 0.068571426],
        [0.48275864, 0.13793103, 0.12068966, 0.12068966, 0.13793103],
        [0.11351351, 0.5243243, 0.14864865, 0.14864865, 0.06486486],
        [0.12612611, 0.08108108, 0.06306306, 0.06306306, 0.6666666],
        [0.6701031, 0.09278351, 0.072164945, 0.072164945, 0.09278351],
    ]
    model = PPM(5)
    model.predict(ABRACADABRA, learn=True)
    second = model.predict(ABRACADABRA, learn=True)
    assert second == pytest.approx(np.array(idyom), abs=1e-6)


def test_update_exclusion_and_ax_match_idyom():
    # IDyOM ppm-predict on ((0 1 2 0 1 3) (0 1 2 4) (0 1 2 0 1 3 2 4)), escape :x,
    # update-exclusion t, alphabet 0..4: the third melody
    idyom = [
        [0.25, 0.1875, 0.1875, 0.1875, 0.1875],
        [0.1304348, 0.6086957, 0.0869565, 0.0869565, 0.0869565],
        [0.1818182, 0.1212121, 0.3434344, 0.2323232, 0.1212121],
        [0.3043478, 0.1565217, 0.1565217, 0.1565217, 0.2260870],
        [0.1111111, 0.6666666, 0.0740741, 0.0740741, 0.0740741],
        [0.1309091, 0.0872727, 0.3272727, 0.3672727, 0.0872727],
        [0.2727273, 0.1818182, 0.1818182, 0.1818182, 0.1818182],
        [0.3106796, 0.1456311, 0.1747573, 0.1456311, 0.2233010],
    ]
    model = PPM(5, PPMOptions(escape="x", update_exclusion=True))
    model.learn([0, 1, 2, 0, 1, 3])
    model.learn([0, 1, 2, 4])
    got = model.predict([0, 1, 2, 0, 1, 3, 2, 4], learn=True)
    assert got == pytest.approx(np.array(idyom), abs=1e-6)


def test_a_long_term_model_marks_the_end_of_melodies_it_does_not_learn_as_idyom_does():
    # IDyOM (mvs:model-sequence) runs model-sentinel-event on the LTM after every test
    # melody, learnt or not: "2 1" then ends, so "1" is no longer deterministic when the
    # next melody comes to it. Figures from IDyOM's code on the same data.
    model = PPM(3)
    model.learn([1, 0])
    model.learn([2, 1, 0])
    first = model.predict([2, 1])
    assert first[1] == pytest.approx([0.25, 0.55, 0.2], abs=1e-6)
    second = model.predict([1, 2, 1, 2])
    assert second[1] == pytest.approx([0.6538462, 0.1923077, 0.1538462], abs=1e-6)
    assert second[3] == pytest.approx([0.55, 0.25, 0.2], abs=1e-6)


def test_memory_grows_with_repeated_material_not_with_length_squared():
    rng = np.random.default_rng(0)
    melody = rng.integers(0, 12, size=3000).tolist()
    model = PPM(12)
    model.learn(melody)
    nodes, todo = 0, [model.root]
    while todo:
        node = todo.pop()
        nodes += 1
        if node.kids:
            todo.extend(k for k in node.kids.values() if k is not None)
    assert nodes < 10 * len(melody)  # a full suffix trie would hold ~4.5 million


def test_combination_by_hand():
    flat, sharp = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    h = -(0.9 * np.log2(0.9) + 0.1 * np.log2(0.1))  # 0.469 bits; relative entropy h / 1
    w_flat, w_sharp = 1.0, h**-2  # bias 2
    arithmetic = (w_flat * flat + w_sharp * sharp) / (w_flat + w_sharp)
    assert combine([flat, sharp], "arithmetic", 2) == pytest.approx(arithmetic)
    geometric = flat ** (w_flat / (w_flat + w_sharp)) * sharp ** (w_sharp / (w_flat + w_sharp))
    assert combine([flat, sharp], "geometric", 2) == pytest.approx(geometric / geometric.sum())
    assert combine([flat, sharp], "arithmetic", 0) == pytest.approx([0.7, 0.3])
    assert entropy(np.array([0.5, 0.5, 0.0])) == pytest.approx(1.0)


def test_predict_fold_models():
    training, test = [ABRACADABRA[:6], ABRACADABRA[5:]], [ABRACADABRA, ABRACADABRA]
    results = {}
    for models in ("ltm", "ltm+", "stm", "both", "both+"):
        dists = predict_fold(training, test, 5, {"models": models})
        assert [d.shape for d in dists] == [(11, 5), (11, 5)]
        for d in dists:
            assert d.sum(axis=1) == pytest.approx(1.0, abs=1e-3)
        results[models] = [float(-np.log2(d[np.arange(11), ABRACADABRA]).mean()) for d in dists]
    assert results["ltm"][0] == pytest.approx(results["ltm"][1], abs=0.05)
    # the LTM+ keeps the first test melody for the second; the STM starts afresh
    assert results["ltm+"][1] < results["ltm+"][0] - 0.3
    assert results["stm"][1] == pytest.approx(results["stm"][0])
    assert results["both+"][1] < results["both+"][0]


def test_params_are_checked_and_named():
    params = resolve_params(None)
    assert params["models"] == "both+" and params["combination"] == "arithmetic"
    assert params["bias"] == 2.0 and params["order"] == "unbounded"
    assert describe(params) == "LTM+C*I-STMC*I (arithmetic, b=2)"
    assert describe(resolve_params({"models": "ltm", "escape": "X", "order": "2"})) == "LTMX2I"
    assert describe(resolve_params({"models": "stm", "stm_update_exclusion": "yes"})) == ("STMC*UI")
    assert resolve_params({"order": "*"})["order"] == "unbounded"
    for bad, fragment in (
        ({"models": "ltm++"}, "models"),
        ({"order": "-1"}, "order"),
        ({"escape": "e"}, "escape"),
        ({"ordr": 2}, "did you mean 'order'"),
        ({"bias": -1}, "bias"),
    ):
        with pytest.raises(OptionError, match=fragment) as caught:
            resolve_params(bad)
        assert caught.value.option == "param"
    with pytest.raises(OptionError):
        PPMOptions(escape="q")
    with pytest.raises(ValueError, match="outside the alphabet"):
        PPM(3).predict([3])


# Pearce (2005), Table 6.6, dataset 7 (kinder): STMC*I, LTMC*I, LTM+C*I, LTM+C*I-STMC*I b=2
PEARCE_KINDER = {"stm": 2.693, "ltm": 2.428, "ltm+": 2.237, "both+": 2.106}


@pytest.mark.slow
def test_reproduces_pearces_table_on_kinder():
    import melodynet

    songs = melodynet.read("corpus:essenFolksong/kinder0")
    for models, published in PEARCE_KINDER.items():
        result = melodynet.crossval(songs, model="ppm", folds=10, params={"models": models})
        assert result.melodies == 213 and result.notes == 8393 and len(result.alphabet) == 27
        assert result.melody_mean == pytest.approx(published, abs=0.05), models


def test_the_next_distribution_of_an_unfinished_melody():
    training = [[0, 1, 2, 0, 1, 3], [2, 1, 0, 2, 1, 0, 1]]
    prefix = [0, 1, 2, 0]
    ltm = PPM(4)
    for melody in training:
        ltm.learn(melody)
    before = [ltm.next_distribution(p) for p in ([], [1], prefix)]
    # what predict gives before a symbol appended (any symbol: it is not looked at)
    fresh = PPM(4)
    for melody in training:
        fresh.learn(melody)
    assert np.allclose(before[2], fresh.predict([*prefix, 3])[-1])
    # the model is left as it was (no end mark after the prefix): it predicts as before
    untouched = PPM(4)
    for melody in training:
        untouched.learn(melody)
    assert np.allclose(ltm.predict([*prefix, 2, 1]), untouched.predict([*prefix, 2, 1]))
    # learn: a short-term model over the prefix, as predict(learn=True) builds it
    assert np.allclose(
        PPM(4).next_distribution(prefix, learn=True), PPM(4).predict([*prefix, 1], learn=True)[-1]
    )
