"""Bar inputs: where each next note falls in its bar, fed to the network beside the note."""

from fractions import Fraction

import numpy as np
import pytest

import melodynet
from melodynet.positions import SIZES, TICKS, Meter, song_columns, ticks
from melodynet.songs.song import Note, Song
from melodynet.training import dataset
from tests.conftest import BUTTERFLY, butterfly_expected

Q = Fraction(1)


def test_meter_from_time_signature_and_pickup():
    assert Meter.of("3/4") == Meter(3 * TICKS, 0)
    assert Meter.of("6/8", "1/2") == Meter(3 * TICKS, TICKS // 2)
    assert Meter.of("nonsense") == Meter(4 * TICKS, 0)  # read as 4/4
    assert Meter.of("2/4", "2") == Meter(2 * TICKS, 0)  # a whole bar is no pickup
    assert ticks(Fraction(0)) == 0 and ticks(Fraction(1, 1000)) == 1  # no pickup; a note


def test_columns_of_a_waltz_with_a_pickup_counted_by_hand():
    # 3/4 with a one-quarter pickup: | c4 | e4 e8 e8 g4 | c'2. | d4 ...
    notes = [(60, 1), (64, 1), (64, Q / 2), (64, Q / 2), (67, 1), (72, 3), (62, 1)]
    song = Song([Note(p, Fraction(d)) for p, d in notes], time_signature="3/4")
    song.extra["pickup"] = "1"
    columns = song_columns([ticks(n.duration) for n in song.notes], Meter.of_song(song))
    # Each row describes the NEXT note: (sixteenth slot in the bar, off the grid, bar bits).
    slots_and_bars = [(0, 0), (4, 0), (6, 0), (8, 0), (0, 1), (0, 2), (4, 2)]
    for row, (slot, bar) in zip(columns, slots_and_bars, strict=True):
        assert row[0] == slot and row[1] == 0
        assert [int(b) for b in row[2:]] == [(bar >> k) & 1 for k in range(5)]


def test_pickup_bar_is_bar_minus_one_and_triplets_are_off_the_grid():
    meter = Meter.of("2/4", "1/2")
    clock = meter.start(1)
    assert clock.tolist() == [-TICKS // 2]
    row = meter.columns(clock)[0]
    assert row[0] == 6 and row[1] == 0  # the pickup's eighth: slot 6 of 8 in bar -1
    assert row[2:].tolist() == [1, 1, 1, 1, 1]  # -1 in two's complement
    triplet = meter.columns(np.array([ticks(Fraction(1, 3))]))[0]
    assert triplet[0] == 1 and triplet[1] == 1  # a third of a quarter: between sixteenths


def test_store_with_bar_inputs_keeps_targets_apart():
    from melodynet.codec import Codec
    from melodynet.plugins import registry

    song = melodynet.read(BUTTERFLY)[0]
    codec = Codec.fit(registry().encoding("single"), [song])
    store = dataset.encode(codec, [song], bar_inputs=True)
    assert store.classes.shape == (len(song), 1 + len(SIZES)) and store.targets == 1
    plain = dataset.encode(codec, [song])
    assert (store.classes[:, :1] == plain.classes).all()
    x, y, *_ = next(iter(dataset.batches(store, 4, True, 1, shuffle=False)))
    assert x.shape[-1] == 1 + len(SIZES) and y.shape[-1] == 1
    assert (np.asarray(y)[0, :, 0] == plain.classes[1:, 0]).all()


def test_ceiling_counts_bar_inputs_as_context():
    # c c c d, twice: a window of two notes cannot tell the third c from the d, but the
    # position of the note it predicts can.
    notes = [Note(60 if p == "c" else 62, Q) for p in "cccdcccd"]
    song = Song(notes, time_signature="4/4")
    classes = np.array([[0 if n.pitch == 60 else 1] for n in notes])
    columns = song_columns([ticks(n.duration) for n in notes], Meter.of_song(song))
    plain = dataset.ceiling([classes], 2)
    with_bars = dataset.ceiling([np.concatenate([classes, columns], axis=1)], 2, targets=1)
    assert plain < 1.0 and with_bars == 1.0


@pytest.mark.slow
def test_a_window_model_uses_the_position_it_is_given(tmp_path):
    """The same two-note context is followed by c or d: only the bar position tells."""
    tune = tmp_path / "bars.txt"
    tune.write_text("4/4 " + " ".join("d4" if p == "d" else "c4" for p in "cccd" * 4))
    kwargs = dict(model="mlp", window=2, epochs=300, learning_rate=0.01)
    with_bars = melodynet.train(tune, bar_inputs=True, **kwargs)
    without = melodynet.train(tune, **kwargs)
    truth = with_bars.songs[0].notes
    for model, expect_all in ((with_bars, True), (without, False)):
        predicted = model.generate(2, mode="one-step").notes
        right = sum(a == b for a, b in zip(predicted[2:], truth[2:], strict=True))
        assert (right == len(truth) - 2) is expect_all, (model.bar_inputs, right)
    assert with_bars.meta.metrics["one_step_ceiling"] == 1.0
    assert without.meta.metrics["one_step_ceiling"] < 1.0


@pytest.mark.slow
def test_butterfly_with_bar_inputs_round_trips_on_every_path(tmp_path):
    model = melodynet.train(BUTTERFLY, model="stateful-lstm", bar_inputs=True, out=tmp_path / "b")
    expected = butterfly_expected()
    song = model.generate(4)
    assert [(n.pitch, float(n.duration)) for n in song.notes] == expected
    loaded = melodynet.load(tmp_path / "b")
    assert loaded.bar_inputs and not loaded.predictor.uses_tensorflow
    assert loaded.generate(4).notes == song.notes
    assert loaded.generate(4, beam_size=3).notes == song.notes
    sampled = loaded.generate(4, temperature=1.0, random_seed=5, num_outputs=3)
    # Keras runs the same network: the same notes, greedy and sampled.
    loaded.numpy_network = None
    loaded.__dict__.pop("predictor", None)
    assert loaded.predictor.uses_tensorflow
    assert loaded.generate(4).notes == song.notes
    again = loaded.generate(4, temperature=1.0, random_seed=5, num_outputs=3)
    assert [s.notes for s in again] == [s.notes for s in sampled]
    from melodynet.evaluation.scores import score_song

    scored = score_song(loaded, loaded.songs[0])
    assert scored.full_song_matches == scored.full_song_length == len(expected) - 4
    # The held-out scorer (Keras, batched) reads the same bar inputs as generation (numpy).
    classes = loaded.codec.classes(loaded.songs[0].notes)
    probs = loaded.predictor.with_meter(Meter.of_song(loaded.songs[0])).probabilities(classes)[0]
    truth = classes[1:, 0]
    nll = -np.log(probs[np.arange(len(truth)), truth])[4 - 1 :].mean()
    assert loaded.score(loaded.songs)["nll"] == pytest.approx(nll, abs=1e-4)


@pytest.mark.slow
def test_window_model_with_bar_inputs_decodes_under_constraints():
    """The constrained decoder feeds a window model its bar inputs as it goes: the first
    choice after the primer is the unconstrained one when no rule forbids it, and every
    output fills its bars."""
    model = melodynet.train(BUTTERFLY, model="mlp", bar_inputs=True, epochs=40)
    free = model.generate(4, length=1)
    barred = model.generate(4, meter="2/4", bars=4)
    assert barred.notes[4] == free.notes[4]
    for song in [
        barred,
        model.generate(4, meter="2/4", bars=4, beam_size=3),
        *model.generate(4, meter="3/4", bars=3, temperature=1.0, num_outputs=3),
    ]:
        meter = Fraction(song.time_signature.split("/")[0]) * 4
        meter /= int(song.time_signature.split("/")[1])
        assert sum(n.duration for n in song.notes) == meter * (4 if meter == 2 else 3)
