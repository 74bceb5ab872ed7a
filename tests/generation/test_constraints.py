"""Constraints hold by construction: random models under every combination, checked here by
arithmetic of the test's own (not the module's checker), and impossible asks refused."""

from fractions import Fraction

import numpy as np
import pytest

import melodynet
from melodynet.codec import Codec
from melodynet.errors import OptionError
from melodynet.generation.constrained import Decoder
from melodynet.generation.constraints import (
    Constraints,
    Key,
    joint_notes,
    longest_shared_run,
    parse_duration,
    parse_meter,
    parse_range,
    plan,
)
from melodynet.generation.sampling import Sampling
from melodynet.hookspecs import ModelConfig, ModelSpec
from melodynet.plugins import registry
from melodynet.songs.song import Song
from tests.conftest import SONGS

TRAINING = [
    melodynet.Song.from_text(
        "g8 e8 e4 f8 d8 d4 c8 d8 e8 f8 g8 g8 g4 r4 a8 b8 c'4 d'2 f#8 b-8 c4 d4. e16 e16 c1",
        title="mixed",
    )
]


class RandomNetwork:
    """Stands in for a trained network: any distribution, no training."""

    def __init__(self, codec: Codec, sequence: bool, seed: int = 0) -> None:
        self.sizes, self.rng = codec.sizes, np.random.default_rng(seed)
        self.spec = ModelSpec("random", lambda x, c: x, sequence=sequence)
        self.window = 4

    def _probs(self, rows: int) -> list[np.ndarray]:
        out = []
        for size in self.sizes:
            p = self.rng.random((rows, size)) ** 3
            out.append(p / p.sum(axis=1, keepdims=True))
        return out

    def _forward(self, window):
        return self._probs(len(window))

    numpy = "numpy state: streams can start again"

    def _start(self, primer, streams):
        return self._probs(streams), []

    def _step(self, classes, state):
        return self._probs(len(classes)), state

    def _reorder(self, state, parents):
        return state

    def _window_start(self, primer, streams):
        return np.repeat(primer[None, -self.window :], streams, axis=0), None

    def _next_rows(self, classes, clock):
        return classes, clock


class FakeModel:
    def __init__(self, encoding: str) -> None:
        self.songs = TRAINING
        self.codec = Codec.fit(registry().encoding(encoding), TRAINING)
        self.config = ModelConfig(window=4)


def _decode(model, constraints, sequence=True, streams=4, seed=0, beam=None, length=None):
    resolved = plan(constraints, model, "4/4")
    primer = model.codec.classes(TRAINING[0].notes[:2])
    units = [int(n.duration / resolved.unit) for n in TRAINING[0].notes[:2]]
    decoder = Decoder(
        RandomNetwork(model.codec, sequence, seed), resolved, joint_notes(model.codec)
    )
    sampling = None if beam else Sampling(temperature=1.0, seed=seed)
    found = decoder.decode(primer, units, 1 if beam else streams, length, sampling, beam)
    return [TRAINING[0].notes[:2] + model.codec.notes(c) for c in found]


def _bars_ok(notes, bar: Fraction, pickup: Fraction, bars: int) -> bool:
    """Every note inside one bar, and the bars exactly full: counted here independently."""
    edges = (
        [pickup + k * bar for k in range(bars + 1)]
        if pickup
        else [k * bar for k in range(bars + 1)]
    )
    position = Fraction(0)
    for note in notes:
        start, end = position, position + note.duration
        if any(start < edge < end for edge in edges):
            return False
        position = end
    return position == edges[-1]


@pytest.mark.parametrize("encoding", ["single", "split"])
@pytest.mark.parametrize("sequence", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_every_melody_keeps_every_constraint(encoding, sequence, seed):
    model = FakeModel(encoding)
    meter, bars, pickup = ["3/4", "2/4", "6/8", "4/4"][seed], [2, 4, 3, 1][seed], Fraction(0)
    c = Constraints(key="G", meter=meter, bars=bars, range="D4-D6", end="tonic", form="AABA")
    for notes in _decode(model, c, sequence, seed=seed):
        generated = notes[2:]
        assert all(n.pitch is None or n.pitch % 12 in {7, 9, 11, 0, 2, 4, 6} for n in generated)
        assert all(n.pitch is None or 62 <= n.pitch <= 86 for n in generated)
        assert notes[-1].pitch is not None and notes[-1].pitch % 12 == 7  # G
        bar = parse_meter(meter)
        assert _bars_ok(notes, bar, pickup, bars * 4)
        # the form: sections 1, 2 and 4 are the same notes
        sections, position, current = [[] for _ in range(4)], Fraction(0), 0
        for note in notes:
            current = int(position // (bar * bars))
            sections[current].append(note)
            position += note.duration
        assert sections[0] == sections[1] == sections[3]


def test_pickup_and_beam_search_and_length():
    model = FakeModel("single")
    c = Constraints(key="C", meter="3/4", bars=3, pickup="4", end="tonic")
    [notes] = _decode(model, c, beam=4)
    assert _bars_ok(notes[1:], Fraction(3), Fraction(0), 3) or _bars_ok(
        notes, Fraction(3), Fraction(1), 3
    )
    assert notes[-1].pitch % 12 == 0
    [free] = _decode(model, Constraints(key="C", end="tonic"), streams=1, length=12)
    assert len(free) == 14 and free[-1].pitch % 12 == 0


def test_no_copy_leaves_no_long_runs():
    model = FakeModel("single")
    for notes in _decode(model, Constraints(no_copy=3), streams=6, length=40):
        assert longest_shared_run(notes, TRAINING, start=2) < 3


@pytest.mark.parametrize(
    ("constraints", "message"),
    [
        (Constraints(key="H"), "key 'H': expected a tonic and mode"),
        (Constraints(bars=0), "bars must be at least 1"),
        (Constraints(meter="3/4"), "need bars"),
        (Constraints(key="C", range="D4-B4", end="tonic"), "holds no C, the tonic"),
        (Constraints(end="tonic"), "end tonic needs a key"),
        (Constraints(chromatic=True), "give a key too"),
        (Constraints(meter="5/64", bars=2), "cannot be filled with the durations the model knows"),
        (Constraints(meter="3/4", bars=2, pickup="3"), "not shorter than a bar"),
        (Constraints(form="A1", bars=2), "use letters"),
        (Constraints(range="C9-C8"), "low pitch is above the high one"),
        (Constraints(no_copy=1), "no_copy must be at least 2"),
    ],
)
def test_impossible_asks_fail_before_generating(constraints, message):
    with pytest.raises(OptionError, match=message):
        plan(constraints, FakeModel("single"), "4/4")


def test_parsers_and_keys():
    assert parse_meter("6/8") == 3 and parse_range("D4-D6") == (62, 86)
    assert parse_range("B-3-C#5") == (58, 73)
    assert parse_duration("8", "pickup") == Fraction(1, 2)
    assert parse_duration("4.", "pickup") == Fraction(3, 2) == parse_duration("1.5", "pickup")
    assert Key.parse("e").pitch_classes == {4, 6, 7, 9, 11, 0, 2, 1, 3}  # raised 6th, 7th
    assert Key.parse("a dorian").pitch_classes == {9, 11, 0, 2, 4, 6, 7}
    assert Key.parse("Bb").name == "B- major"


def test_longest_shared_run_is_transposition_free():
    song = Song.from_text("c4 d4 e4 f4 g4 r4 a4 b4")
    assert longest_shared_run(Song.from_text("d4 e4 f#4 g4").notes, [song]) == 4
    assert longest_shared_run(Song.from_text("f4 g4 r4 b4").notes, [song]) == 3
    assert longest_shared_run(Song.from_text("c2 d4").notes, [song], start=2) == 0


@pytest.mark.slow
def test_the_command_line_guarantees_them(workdir, runner):
    trained = runner(
        "train", SONGS / "butterfly.txt", SONGS / "twinkle.txt", "--model", "stateful-lstm"
    )
    assert trained.exit_code == 0, trained.output
    made = runner(
        "generate",
        "--key",
        "D",
        "--bars",
        "4",
        "--meter",
        "3/4",
        "--end",
        "tonic",
        "--temperature",
        "1",
        "--num-outputs",
        "3",
        "--out",
        "t.mid",
        "--no-copy",
        "6",
    )
    assert made.exit_code == 0, made.output
    assert made.output.count("longest run shared with the training songs") == 3
    for k in (1, 2, 3):
        [song] = melodynet.read(workdir / f"t-{k}.mid")
        assert song.notes[-1].pitch % 12 == 2
        assert all(
            n.pitch is None or n.pitch % 12 in {2, 4, 6, 7, 9, 11, 1} for n in song.notes[4:]
        )
