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
