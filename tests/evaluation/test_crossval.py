"""melodynet.crossval: folds fixed by the seed, every note scored, the IC table, the
command line, and (slow) a network scored through the same protocol."""

import csv
import json
import math
from fractions import Fraction

import numpy as np
import pytest

import melodynet
from melodynet.errors import ModelError, OptionError, OutputError
from melodynet.evaluation.crossval import COLUMNS, assign_folds
from tests.conftest import one_line_error

TUNES = [
    "c4 d4 e4 c4 r4 c4 d4 e4 c4",
    "e4 f4 g2 e4 f4 g2",
    "g8 a8 g8 f8 e4 c4 r8 g8 a8 g8 f8 e4 c4",
    "c4 g4 c4 r2 g4 c4 c2",
    "d4 e4 f4 g4 a4 g4 f4 e4 d2",
    "c4 c4 d4 e4 c4 e4 d4 g4",
]


@pytest.fixture
def songs():
    return [melodynet.Song.from_text(t, title=f"tune {i + 1}") for i, t in enumerate(TUNES)]


def test_folds_are_fixed_by_the_seed_and_dealt_round_robin():
    folds = assign_folds(23, 10, random_seed=0)
    assert folds == assign_folds(23, 10, random_seed=0)
    order = np.random.default_rng(0).permutation(23)  # the documented rule
    assert folds == [int(np.flatnonzero(order == i)[0]) % 10 for i in range(23)]
    sizes = np.bincount(folds)
    assert len(sizes) == 10 and sizes.max() - sizes.min() <= 1
    assert folds != assign_folds(23, 10, random_seed=1)
    assert sorted(assign_folds(5, 5)) == [0, 1, 2, 3, 4]
    for count, k in ((5, 6), (5, 1), (5, 2.5)):
        with pytest.raises(OptionError) as caught:
            assign_folds(count, k)
        assert caught.value.option == "folds"


def test_ppm_scores_every_note_and_writes_the_ic_table(songs, tmp_path):
    seen = []
    out = tmp_path / "ic.tsv"
    result = melodynet.crossval(songs, folds=3, ic_out=out, on_fold=seen.append)
    pitched = [[n for n in s.notes if n.pitch is not None] for s in songs]
    assert result.melodies == 6 and result.notes == sum(map(len, pitched))
    assert result.alphabet == [str(p) for p in sorted({n.pitch for m in pitched for n in m})]
    assert [f.fold for f in seen] == [0, 1, 2] and sum(f.notes for f in seen) == result.notes
    assert [f.to_json() for f in seen] == [f.to_json() for f in result.folds]

    rows = list(csv.reader(out.read_text().splitlines(), delimiter="\t"))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) - 1 == result.notes
    table = [dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]]
    first = [r for r in table if r["melody.id"] == "1"]
    assert [r["note.id"] for r in first] == [str(i) for i in range(1, 9)]
    assert [r["cpitch"] for r in first] == ["60", "62", "64", "60", "60", "62", "64", "60"]
    # the rest is no event, but its time counts: the fifth note starts on beat 5
    assert [r["onset"] for r in first] == ["0", "1", "2", "3", "5", "6", "7", "8"]
    assert {r["fold"] for r in first} == {str(assign_folds(6, 3)[0] + 1)}
    third = [r for r in table if r["melody.id"] == "3"]
    assert third[1]["dur"] == "0.5" and third[1]["onset"] == "0.5"
    for r in table:
        assert float(r["information.content"]) == pytest.approx(
            -math.log2(float(r["probability"])), rel=1e-6
        )
        assert 0 <= float(r["entropy"]) <= math.log2(len(result.alphabet)) + 1e-9
    ics = [float(r["information.content"]) for r in table]
    assert result.bits_per_note == pytest.approx(np.mean(ics), rel=1e-6)
    by_melody = [
        np.mean([float(r["information.content"]) for r in table if r["melody.id"] == m])
        for m in sorted({r["melody.id"] for r in table})
    ]
    assert result.melody_mean == pytest.approx(np.mean(by_melody), rel=1e-6)

    data = json.loads(json.dumps(result.to_json()))
    assert data["notes"] == result.notes and len(data["per_fold"]) == 3
    assert data["params"]["models"] == "both+" and data["description"].startswith("ppm LTM+")
    assert result.table().splitlines()[-2].split()[:3] == ["all", "6", str(result.notes)]

    # the same seed, the same numbers; CSV by suffix
    again = melodynet.crossval(songs, folds=3, ic_out=tmp_path / "ic.csv")
    assert again.bits_per_note == result.bits_per_note
    assert (tmp_path / "ic.csv").read_text().splitlines()[0] == ",".join(COLUMNS)


def test_note_prediction_keeps_rests_as_events(songs):
    result = melodynet.crossval(songs, folds=2, predict="note", params={"models": "ltm+"})
    assert result.notes == sum(len(s.notes) for s in songs)
    rests = [s for s in result.scores if s.pitch is None]
    assert len(rests) == 3 and all(r.row()[4] == "NA" for r in rests)
    assert "rest:1" in result.alphabet and "60:1" in result.alphabet
    assert result.scores[4].onset == Fraction(4)  # the rest of tune 1


def test_mistakes_are_option_errors(songs, tmp_path):
    for kwargs, option in (
        ({"predict": "rhythm"}, "predict"),
        ({"folds": 7}, "folds"),
        ({"epochs": 3}, "epochs"),
        ({"params": {"models": "none"}}, "param"),
        ({"random_seed": 1.5}, "random_seed"),
        ({"model": "mlp", "transpose": "common"}, "transpose"),
    ):
        with pytest.raises(OptionError) as caught:
            melodynet.crossval(songs, folds=kwargs.pop("folds", 2), **kwargs)
        assert caught.value.option == option, kwargs
    with pytest.raises(ModelError):
        melodynet.crossval(songs, model="no-such-model", folds=2)
    with pytest.raises(OutputError):
        melodynet.crossval(songs, folds=2, ic_out=tmp_path / "missing" / "ic.tsv")


def test_command_line(songs, tmp_path, runner):
    paths = []
    for i, song in enumerate(songs):
        paths.append(tmp_path / f"tune{i}.txt")
        song.write(paths[-1])
    done = runner(
        "crossval", *paths, "--folds", "3", "-p", "models=stm", "--ic-out", tmp_path / "ic.tsv"
    )
    assert done.exit_code == 0, done.output
    assert "STMC*I" in done.stdout and "melody mean" in done.stdout
    assert "fold 3/3:" in done.stderr and "fold" not in done.stdout.splitlines()[-1]
    assert len((tmp_path / "ic.tsv").read_text().splitlines()) == 1 + 49
    as_json = runner("crossval", *paths, "--folds", "3", "--json")
    assert as_json.exit_code == 0
    data = json.loads(as_json.stdout)
    assert data["notes"] == 49 and data["folds"] == 3
    one_line_error(runner("crossval", *paths, "--folds", "3", "-p", "ordr=2"), "--param", "order")
    one_line_error(runner("crossval", *paths, "--folds", "3", "--epochs", "2"), "--epochs")
    one_line_error(runner("crossval", *paths, "--folds", "9"), "--folds")


@pytest.mark.slow
def test_a_network_is_scored_through_the_same_protocol(songs, tmp_path):
    out = tmp_path / "ic.tsv"
    result = melodynet.crossval(
        songs, model="mlp", folds=2, epochs=2, units=8, window=2, ic_out=out
    )
    assert result.description == "mlp (single encoding, window 2, 8 units)"
    assert result.train_options["validation_split"] == 0.1
    assert math.isfinite(result.bits_per_note) and math.isfinite(result.melody_mean)
    assert 0 < result.bits_per_note < 20
    rows = out.read_text().splitlines()
    assert (
        len(rows)
        == 1 + result.notes
        == 1 + sum(1 for s in songs for n in s.notes if n.pitch is not None)
    )
    # the first window notes of each melody get the training folds' unigram: the same
    # pitch at the start of two melodies of one fold has one probability
    starts = {}
    for s in result.scores:
        if s.index <= 2:
            starts.setdefault((s.fold, s.pitch), set()).add(round(s.probability, 9))
    assert all(len(p) == 1 for p in starts.values())
    split = melodynet.crossval(
        songs,
        model="mlp",
        folds=2,
        epochs=2,
        units=8,
        window=2,
        encoding="split",
        predict="note",
        validation_split=0,
    )
    assert math.isfinite(split.bits_per_note) and split.notes == sum(len(s) for s in songs)


def test_mix_and_ensemble_options_are_checked(songs):
    from melodynet.evaluation.mix import MixOptions, parse_mix

    for kwargs, option in (
        ({"model": "mlp", "mix": "lstm"}, "mix"),
        ({"model": "mlp", "mix": "stm", "mix_combination": "median"}, "mix_combination"),
        ({"model": "mlp", "mix": "stm", "mix_bias": -1}, "mix_bias"),
        ({"model": "mlp", "mix": "stm", "mix_bias": "2"}, "mix_bias"),
        ({"model": "mlp", "ensemble": 0}, "ensemble"),
        ({"model": "mlp", "ensemble": 1.5}, "ensemble"),
        ({"mix": "stm", "params": {"bias": 1}}, "param"),  # ppm: the mix is its models
        ({"ensemble": 2}, "ensemble"),
    ):
        with pytest.raises(OptionError) as caught:
            melodynet.crossval(songs, folds=2, **kwargs)
        assert caught.value.option == option, kwargs
    with pytest.raises(OptionError) as caught:  # interval models predict pitches
        melodynet.crossval(songs, model="mlp", folds=2, predict="note", mix="interval-stm")
    assert caught.value.option == "mix"
    assert MixOptions().models == () and not MixOptions().active
    assert MixOptions().name == "none" and MixOptions("none").describe() == ""
    both = MixOptions("both+", "arithmetic", 2)
    assert both.models == ("ltm+", "stm") and both.bias == 2.0 and not both.derived
    assert both.describe() == "mixed with PPM LTM+, STM (arithmetic, b=2)"
    assert MixOptions("stm").describe() == "mixed with PPM STM (geometric, b=1)"
    assert MixOptions("ltm").to_json() == {
        "mix": "ltm",
        "mix_combination": "geometric",
        "mix_bias": 1.0,
    }
    # several models with commas, in a fixed order; aliases expand; a list works too
    assert parse_mix(" Interval-LTM+, both+ ") == ("ltm+", "stm", "interval-ltm+")
    assert parse_mix(["stm", "ltm"]) == ("ltm", "stm") == parse_mix("both")
    assert parse_mix("none") == () == parse_mix(None)
    assert MixOptions("both+,interval-ltm+").derived
    for bad in ("ltm,ltm+", "interval-ltm,interval-ltm+", "lstm", "stm,,ltm", ["stm", 3]):
        with pytest.raises(OptionError) as caught:
            parse_mix(bad)
        assert caught.value.option == "mix", bad


def test_the_mixer_combines_a_network_with_ppm_as_ppm_combines_its_models():
    from melodynet.evaluation import ppm
    from melodynet.evaluation.mix import MixOptions, PPMMixer, mix_fold

    training = [[0, 1, 2, 0, 1, 2], [2, 1, 0, 2, 1, 0]]
    test = [[0, 1, 2, 0, 1, 2, 0], [1, 1, 1, 1]]
    network = [np.full((len(m), 4), 0.25) for m in test]
    assert mix_fold(network, training, test, 4, MixOptions()) == network
    for models in ("stm", "ltm", "ltm+", "both", "both+"):
        options = MixOptions(models, "arithmetic", 2)
        mixed = mix_fold(network, training, test, 4, options)
        assert [m.shape for m in mixed] == [(7, 4), (4, 4)]
        assert all(np.allclose(m.sum(axis=1), 1) for m in mixed)
    # both+ is ppm's LTM+ and STM, learnt the same way, with the network as a third model
    options = MixOptions("both+", "geometric", 1)
    mixed = mix_fold(network, training, test, 4, options)
    parts = ppm.predict_fold(training, test, 4, {"models": "ltm+"})
    for net, melody, long, out in zip(network, test, parts, mixed, strict=True):
        short = ppm.PPM(4).predict(melody, learn=True)
        assert np.allclose(out, ppm.combine([net, long, short], "geometric", 1))
    # a repeated motif: the mixture predicts the melody better than the uniform network
    ic = -np.log2(mixed[1][np.arange(4), test[1]]).mean()
    assert ic < 2.0
    with pytest.raises(ValueError):
        PPMMixer(training, 4, options).mix(np.ones((3, 4)) / 4, test[0])
    # interval models: a melody transposed is as predictable as the training one
    pitches = [60, 62, 64, 66, 68, 70]  # whole tones: [1, 2, 3, 2, 1] is [0, 1, 2, 1, 0] moved
    intervals = MixOptions("interval-ltm")
    with pytest.raises(OptionError):
        PPMMixer(training, 6, intervals)  # no pitches given
    mixer = PPMMixer([[0, 1, 2, 1, 0]] * 3, 6, intervals, pitches)
    uniform = np.full((5, 6), 1 / 6)
    same, moved = mixer.mix(uniform, [0, 1, 2, 1, 0]), mixer.mix(uniform, [1, 2, 3, 2, 1])
    assert np.allclose(same[0], uniform[0])  # the first note has no interval
    assert np.allclose(same.sum(axis=1), 1)
    ic = [
        -np.log2(d[np.arange(5), m]).mean()
        for d, m in ((same, [0, 1, 2, 1, 0]), (moved, [1, 2, 3, 2, 1]))
    ]
    # (the same up to the pitches each interval would leave the alphabet for)
    assert ic[0] == pytest.approx(ic[1], abs=0.25) and ic[1] < np.log2(6) - 1
    pitch_only = PPMMixer([[0, 1, 2, 1, 0]] * 3, 6, MixOptions("ltm")).mix(uniform, [1, 2, 3, 2, 1])
    assert -np.log2(pitch_only[np.arange(5), [1, 2, 3, 2, 1]]).mean() > ic[1] + 0.5


def test_command_line_mix_options(songs, tmp_path, runner):
    paths = []
    for i, song in enumerate(songs):
        paths.append(tmp_path / f"tune{i}.txt")
        song.write(paths[-1])
    ppm_mix = runner("crossval", *paths, "--folds", "3", "--mix", "stm", "-p", "bias=1")
    one_line_error(ppm_mix, "--param")
    one_line_error(runner("crossval", *paths, "--folds", "3", "--ensemble", "2"), "--ensemble")
    bad = runner("crossval", *paths, "--model", "mlp", "--folds", "3", "--mix", "lstm")
    one_line_error(bad, "--mix", "lstm")
    bias = runner("crossval", *paths, "--model", "mlp", "--mix", "stm", "--mix-bias", "-1")
    one_line_error(bias, "--mix-bias")


@pytest.mark.slow
def test_a_network_mixed_with_ppm_scores_at_least_as_well_as_its_parts():
    kinder = melodynet.read("corpus:essenFolksong/kinder0")[:12]
    common = dict(
        model="stateful-lstm",
        folds=2,
        epochs=3,
        units=16,
        encoding="split",
        augment=1,
        random_seed=0,
    )
    alone = melodynet.crossval(kinder, **common)
    mixed = melodynet.crossval(kinder, mix="both+", mix_combination="geometric", **common)
    idyom = melodynet.crossval(kinder, folds=2, random_seed=0)  # ppm's LTM+ with STM
    assert math.isfinite(mixed.melody_mean) and math.isfinite(mixed.bits_per_note)
    assert mixed.notes == alone.notes == idyom.notes
    assert mixed.mix == {"mix": "ltm+,stm", "mix_combination": "geometric", "mix_bias": 1.0}
    assert "mixed with PPM LTM+, STM" in mixed.description
    assert mixed.to_json()["mix"]["mix"] == "ltm+,stm"
    # lower than the network alone (3 epochs: weak), and comparable with ppm's own mix
    assert mixed.melody_mean < alone.melody_mean
    assert mixed.melody_mean < idyom.melody_mean + 0.25


@pytest.mark.slow
def test_an_ensemble_averages_networks_of_successive_seeds(songs):
    common = dict(model="mlp", folds=2, epochs=2, units=8, window=2)
    two = melodynet.crossval(songs, ensemble=2, mix="stm,interval-ltm+", **common)
    assert two.ensemble == 2 and "ensemble of 2" in two.description
    assert two.to_json()["ensemble"] == 2
    assert math.isfinite(two.melody_mean) and two.notes == 49


def test_ppm_with_a_mix_is_a_system_of_ppm_models(songs):
    # the mix's LTM+ and STM combined as ppm combines them: ppm's own best row
    as_mix = melodynet.crossval(
        songs, folds=3, mix="both+", mix_combination="arithmetic", mix_bias=2
    )
    assert as_mix.melody_mean == pytest.approx(melodynet.crossval(songs, folds=3).melody_mean)
    assert as_mix.description == "ppm LTM+, STM (arithmetic, b=2)"
    for song in songs:
        song.key = "C major"
    system = melodynet.crossval(songs, folds=3, mix="both+,interval-ltm+,degree-beat-ltm+")
    assert system.mix["mix"] == "ltm+,stm,interval-ltm+,degree-beat-ltm+"
    assert math.isfinite(system.melody_mean) and system.notes == as_mix.notes


@pytest.mark.slow
def test_viewpoint_models_read_the_declared_key_and_the_bar(songs):
    common = dict(model="mlp", folds=2, epochs=1, units=8, window=2, validation_split=0)
    alone = melodynet.crossval(songs, **common)
    # no song declares a key: the degree model has nothing to go on and is left out
    assert melodynet.crossval(songs, mix="degree-ltm+", **common).melody_mean == pytest.approx(
        alone.melody_mean
    )
    for song in songs:
        song.key = "C major"
    degree = melodynet.crossval(songs, mix="degree-beat-ltm+", **common)
    assert degree.mix["mix"] == "degree-beat-ltm+"
    assert "degree-beat LTM+" in degree.description
    assert math.isfinite(degree.melody_mean) and degree.melody_mean != alone.melody_mean
