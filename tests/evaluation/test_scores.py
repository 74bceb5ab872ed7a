"""Held-out NLL in bits per note beside nats (the conversion, the line people read), and
the musical statistics of melodies the caller gives ``evaluate``."""

import math
from fractions import Fraction

import pytest

from melodynet.errors import OptionError
from melodynet.evaluation.scores import bits, heldout_line, with_bits
from melodynet.songs.song import Note, Song
from tests.conftest import butterfly_expected

SCORE = {
    "name": "order-3 n-gram",
    "nll": 2.0,
    "perplexity": math.exp(2.0),
    "accuracy": 0.5,
    "pitch_accuracy": 0.6,
    "duration_accuracy": 0.7,
    "correct": 5,
    "total": 10,
    "unknown": 0,
}


def test_bits_are_nats_over_ln_2():
    # 1 bit is ln 2 nats; a uniform choice among 8 notes is 3 bits, ln 8 nats.
    assert bits(math.log(2)) == pytest.approx(1.0)
    assert bits(math.log(8)) == pytest.approx(3.0)
    assert bits(0.0) == 0.0


def test_with_bits_adds_bits_per_note_after_nll():
    out = with_bits(SCORE)
    assert list(out)[:3] == ["name", "nll", "bits_per_note"]
    assert out["bits_per_note"] == round(2.0 / math.log(2), 6) == 2.885390
    assert {k: v for k, v in out.items() if k != "bits_per_note"} == SCORE


def test_heldout_line_shows_bits_only_when_asked():
    plain = heldout_line(SCORE)
    assert "NLL 2.0000 nats/note," in plain and "bits" not in plain
    asked = heldout_line(with_bits(SCORE), show_bits=True)
    assert "NLL 2.0000 nats/note (2.8854 bits/note), perplexity 7.39" in asked
    # a score without the field (as BaselineScore.to_json gives it) is converted too
    assert heldout_line(SCORE, show_bits=True) == asked


@pytest.mark.parametrize(
    ("stats", "fragment"),
    [
        (-1, "stats must be 0 or more, not -1"),
        ("many", "lists a str, not a Song"),
        ([Song([Note(60, Fraction(1))]), "x"], "lists a str, not a Song"),
        ([], "an empty list of melodies"),
        (Song([Note(60, Fraction(1))]), "a list of Songs"),
    ],
)
def test_bad_stats_are_one_line_option_errors(stats, fragment):
    from melodynet.evaluation.scores import evaluate

    with pytest.raises(OptionError, match=fragment) as caught:
        evaluate(None, stats)  # refused before the model is used
    assert "\n" not in str(caught.value) and caught.value.option == "stats"


def test_evaluate_compares_the_melodies_it_is_given(butterfly_bundle):
    import melodynet

    half = Fraction(1, 2)
    fifth = Song([Note(p, half) for p in (60, 62, 64, 67, 67)])  # range 7, 1 repeat in 4
    octave = Song([Note(p, half) for p in (60, None, 72, 71, 72)])  # range 12, rest skipped
    report = melodynet.load(butterfly_bundle).evaluate(stats=[fifth, octave])
    rows = {row["metric"]: row for row in report["stats"]}
    assert rows["pitch_range"]["generated"] == {"mean": 9.5, "std": 2.5, "songs": 2}
    assert rows["repeated_note_rate"]["generated"]["mean"] == pytest.approx((1 / 4 + 0) / 2)
    # the training song: butterfly, c4 to g4, 50 notes
    pitches = [p for p, _ in butterfly_expected()]
    assert rows["pitch_range"]["training"]["mean"] == max(pitches) - min(pitches) == 7
    assert rows["pitch_range"]["training"]["songs"] == 1
