"""No-copy dead ends: greedy decoding and beam search go back to earlier choices instead of
giving up, the notes of a repeated section obey no-copy too, and a search that finds
nothing fails in one line.

The network here is a fixed preference (the same distribution at every step, whatever came
before), so the tests can say by hand which melody each search must find: the likeliest
choices walk into a dead end, the next likeliest do not. Every melody is checked against the
training songs with ``longest_shared_run`` (an independent dynamic programme)."""

from fractions import Fraction

import numpy as np
import pytest

import melodynet
from melodynet.codec import Codec
from melodynet.errors import MelodynetError
from melodynet.generation.constrained import Decoder
from melodynet.generation.constraints import Constraints, joint_notes, longest_shared_run, plan
from melodynet.generation.sampling import Sampling
from melodynet.hookspecs import ModelConfig, ModelSpec
from melodynet.plugins import registry
from melodynet.songs.song import Note, Song


class Preference:
    """A network that always gives the same probabilities: ``likes`` (note -> weight)."""

    def __init__(self, codec: Codec, likes: dict, sequence: bool, snapshots: bool) -> None:
        self.sizes = codec.sizes
        self.spec = ModelSpec("preference", lambda x, c: x, sequence=sequence)
        self.window = 1
        weights = np.array([likes.get(n, 0.01) for n in joint_notes(codec)])
        self.probs = weights / weights.sum()
        # without snapshots of its state, a search that goes back feeds the notes again
        self.numpy = "snapshots" if snapshots else None

    def _rows(self, rows: int) -> list[np.ndarray]:
        return [np.repeat(self.probs[None], rows, axis=0)]

    def _forward(self, window):
        return self._rows(len(window))

    def _start(self, primer, streams):
        return self._rows(streams), [np.zeros(streams)]

    def _step(self, classes, state):
        return self._rows(len(classes)), [state[0] + 1]

    def _reorder(self, state, parents):
        return [state[0][parents]]

    def _window_start(self, primer, streams):
        return np.repeat(primer[None, -self.window :], streams, axis=0), None

    def _next_rows(self, classes, clock):
        return classes, clock


class Model:
    def __init__(self, *songs: str) -> None:
        self.songs = [Song.from_text(text) for text in songs]
        self.codec = Codec.fit(registry().encoding("single"), self.songs)
        self.config = ModelConfig(window=1)


def q(pitch: int, duration: str = "1") -> Note:
    return Note(pitch, Fraction(duration))


def decode(model, constraints, primer, likes, beam=None, streams=1, seed=None, length=None, **net):
    resolved = plan(constraints, model, "2/4")
    classes = model.codec.classes(primer)
    units = [int(n.duration / resolved.unit) for n in primer]
    network = Preference(model.codec, likes, **{"sequence": True, "snapshots": True, **net})
    decoder = Decoder(network, resolved, joint_notes(model.codec))
    sampling = None if seed is None else Sampling(temperature=1.0, seed=seed)
    found = decoder.decode(classes, units, streams, length, sampling, beam)
    return [primer + model.codec.notes(c) for c in found], decoder


# Quarter notes copy in every interval the training songs know (0, +2, -2): after a
# quarter note, every quarter note copies two notes. Half notes were only ever a step up.
TRAPPED = Model("c4 c4 d4 c4", "c2 d2")
PRIMER = [q(60, "2")]  # bar 1 of 2/4 is full; bar 2 is left
QUARTERS_FIRST = {q(60): 5.0, q(62): 4.0, q(60, "2"): 2.0, q(62, "2"): 3.0}
NO_PAIRS = Constraints(meter="2/4", bars=2, no_copy=2)


@pytest.mark.parametrize(
    "network",
    [
        {"sequence": True, "snapshots": True},
        {"sequence": True, "snapshots": False},  # goes back by feeding the notes again
        {"sequence": False, "snapshots": False},
    ],
)
def test_greedy_goes_back_past_a_dead_end(network):
    # Greedy takes C4 (a quarter), then every quarter that could end the bar copies a
    # training pair: a dead end, where decoding used to raise. Going back, the other
    # quarter is a dead end too, D half copies "c2 d2", and C half is the melody.
    [notes], decoder = decode(TRAPPED, NO_PAIRS, PRIMER, QUARTERS_FIRST, **network)
    assert notes == [q(60, "2"), q(60, "2")]
    assert decoder.backtracks == 2
    assert longest_shared_run(notes, TRAPPED.songs, start=1) < 2


@pytest.mark.parametrize("width", [1, 2, 3])
def test_beam_search_keeps_its_alternatives(width):
    # Both quarters die at the next note; all the beams used to die with them and the
    # search raised. Now it takes the next candidates of the step before.
    [notes], _ = decode(TRAPPED, NO_PAIRS, PRIMER, QUARTERS_FIRST, beam=width)
    assert notes == [q(60, "2"), q(60, "2")]


# One training pair, a step down: in 2/4 form AA with a one-bar section, the model's
# favourite D after the primer's C makes the repeat begin with D C, a copy.
STEP_DOWN = Model("d4 c4")
FORM = Constraints(meter="2/4", bars=1, form="AA", no_copy=2)
LIKES_D = {q(62): 5.0, q(60): 1.0}


@pytest.mark.parametrize("beam", [None, 2])
def test_a_repeated_section_copies_nothing(beam):
    # Before, the notes a repeat copies were not checked: C D | C D holds "D C".
    [notes], decoder = decode(STEP_DOWN, FORM, [q(60)], LIKES_D, beam=beam)
    assert notes == [q(60), q(60), q(60), q(60)]
    assert longest_shared_run(notes, STEP_DOWN.songs, start=1) < 2


def test_sampled_streams_that_would_copy_at_a_repeat_start_again():
    found, _ = decode(STEP_DOWN, FORM, [q(60)], LIKES_D, streams=16, seed=3)
    for notes in found:
        assert notes[2:] == notes[:2] and longest_shared_run(notes, STEP_DOWN.songs, 1) < 2


def test_a_search_that_finds_nothing_says_so_in_one_line():
    # Every pair of quarter notes of C and D copies one: nothing can follow the primer.
    model = Model("c4 c4 d4 d4 c4")
    with pytest.raises(MelodynetError) as caught:
        decode(model, Constraints(no_copy=2), [q(60)], {q(60): 1.0}, length=3)
    message = str(caught.value)
    assert "\n" not in message and "no_copy 2" in message and "training song" in message


def test_a_primer_the_form_would_repeat_into_a_copy_fails_up_front():
    model = Model("c4 d4 e4 f4")
    with pytest.raises(MelodynetError, match="primer's notes in section A.*repeats"):
        decode(model, Constraints(meter="2/4", bars=2, form="AA", no_copy=2), [q(62), q(64)], {})


@pytest.mark.slow
def test_the_api_finds_original_melodies_in_a_form(butterfly_bundle):
    model = melodynet.load(butterfly_bundle)
    asked = dict(key="C", meter="4/4", bars=2, range="C4-C6", end="tonic", form="AABA")
    for extra in ({}, {"beam_size": 4}, {"temperature": 1.0, "num_outputs": 8}):
        songs = model.generate(4, **asked, no_copy=6, **extra)
        for song in songs if isinstance(songs, list) else [songs]:
            assert longest_shared_run(song.notes, model.songs, start=4) < 6
            assert int(song.extra["longest_copy"]) < 6
            assert song.notes[-1].pitch % 12 == 0


def test_the_search_is_bounded(monkeypatch):
    # The trapped melody needs two choices retaken: allowed one, the search gives up.
    monkeypatch.setattr("melodynet.generation.constrained.MAX_BACKTRACKS", 1)
    with pytest.raises(MelodynetError, match=r"^no_copy 2: .*\(1 choices retaken"):
        decode(TRAPPED, NO_PAIRS, PRIMER, QUARTERS_FIRST)
