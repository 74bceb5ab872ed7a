"""PPM viewpoints (IDyOM's cpint, cpintfref, fib, ioi and links), checked by hand."""

import numpy as np
import pytest

from melodynet.errors import OptionError
from melodynet.evaluation import ppm
from melodynet.evaluation.mix import MixOptions, PPMMixer, parse_mix
from melodynet.evaluation.viewpoints import Melody, Viewpoint, parse_viewpoint, song_melody
from melodynet.positions import TICKS
from melodynet.songs.song import Song

PITCHES = np.array([60, 62, 64, 67])  # C D E G


def test_viewpoint_names_are_attributes_in_a_fixed_order():
    assert parse_viewpoint("degree-interval") == Viewpoint(("interval", "degree"))
    assert parse_viewpoint("beat-degree").name == "degree-beat"
    for bad in ("fib", "ioi-beat", "pitch-pitch", "tonic", "interval-"):
        assert parse_viewpoint(bad) is None, bad
    assert parse_mix("both+, degree-interval-LTM+") == ("ltm+", "stm", "interval-degree-ltm+")
    assert parse_mix("beat-degree-stm,interval-ltm") == ("interval-ltm", "degree-beat-stm")
    for bad in ("fib-ltm+", "degree-ltm,degree-ltm+", "degree-lstm", "key-ltm"):
        with pytest.raises(OptionError) as caught:
            parse_mix(bad)
        assert caught.value.option == "mix", bad
    assert MixOptions("degree-ltm+").derived and not MixOptions("both+").derived
    assert MixOptions("ltm+,interval-degree-stm").describe() == (
        "mixed with PPM LTM+, interval-degree STM (geometric, b=1)"
    )


def test_symbols_of_pitch_viewpoints():
    # C D E G in G major: degrees 5 7 9 0; intervals +2 +2 +3 (the alphabet spans 7)
    melody = Melody((0, 1, 2, 3), tonic=7)
    assert Viewpoint(("pitch",)).sequence(melody, PITCHES) == [0, 1, 2, 3]
    assert Viewpoint(("degree",)).sequence(melody, PITCHES) == [5, 7, 9, 0]
    interval = Viewpoint(("interval",))
    assert interval.first == 1 and interval.size(PITCHES) == 15
    assert interval.sequence(melody, PITCHES) == [2 + 7, 2 + 7, 3 + 7]
    # before the second note (after C), each pitch of the alphabet is an interval from C
    assert interval.candidates(melody, PITCHES)[0].tolist() == [7, 9, 11, 14]
    linked = Viewpoint(("interval", "degree"))
    assert linked.size(PITCHES) == 15 * 12
    assert linked.sequence(melody, PITCHES) == [9 * 12 + 7, 9 * 12 + 9, 10 * 12 + 0]
    assert not Viewpoint(("degree",)).applies(Melody((0, 1)))  # no declared key


def test_symbols_of_time_viewpoints():
    # 4/4 (192 ticks a bar): a quarter pickup, then half, quarter, a triplet eighth
    melody = Melody((0, 1, 2, 3), tonic=0, onsets=(-48, 0, 96, 144), bar=192)
    assert Viewpoint(("pitch", "fib")).sequence(melody, PITCHES) == [0, 3, 4, 6]
    beat = [s % 64 for s in Viewpoint(("pitch", "beat")).sequence(melody, PITCHES)]
    assert beat == [12, 0, 8, 12]  # sixteenths into the bar; the pickup's bar is bar -1
    ioi = [s % 66 for s in Viewpoint(("pitch", "ioi")).sequence(melody, PITCHES)]
    assert ioi == [0, 4, 8, 4]
    off = Melody((0, 1), tonic=0, onsets=(0, 16), bar=192)
    assert Viewpoint(("pitch", "beat")).sequence(off, PITCHES)[1] % 64 == 1 + 32
    assert Viewpoint(("pitch", "ioi")).sequence(off, PITCHES)[1] % 66 == 1 + 33
    assert not Viewpoint(("pitch", "fib")).applies(Melody((0, 1), tonic=0))  # no onsets


def test_a_degree_is_shared_by_its_octaves():
    pitches = np.array([60, 62, 72])
    melody = Melody((0, 1), tonic=0)
    degree = Viewpoint(("degree",))
    dist = np.zeros((2, 12))
    dist[:, 0] = 1.0  # certain of the tonic
    assert np.allclose(degree.as_pitches(dist, melody, pitches), [[0.5, 0, 0.5]] * 2)


def test_a_degree_model_carries_a_tune_into_every_key():
    # the same tune in C and (moved up a tone) in D, each with its key declared
    pitches = np.arange(60, 72)  # one octave: no degree is shared
    tune = [0, 2, 4, 5, 7, 7, 9, 9, 7, 5, 5, 4, 4, 2, 2, 0]
    in_c = Melody(tuple(tune), tonic=0)
    in_d = Melody(tuple(s + 2 for s in tune), tonic=2)
    uniform = np.full((len(tune), len(pitches)), 1 / len(pitches))

    def bits(models: str, melody: Melody, training=(in_c,)) -> float:
        mixed = PPMMixer(training, len(pitches), MixOptions(models), pitches).mix(uniform, melody)
        return float(-np.log2(mixed[np.arange(len(tune)), melody.symbols]).mean())

    assert bits("degree-ltm", in_d) == pytest.approx(bits("degree-ltm", in_c))
    assert bits("degree-ltm", in_d) < bits("ltm", in_d) - 0.5  # pitches: a new key
    # a melody that declares no key is mixed without the degree model
    bare = Melody(in_d.symbols)
    assert bits("ltm,degree-ltm", bare) == pytest.approx(bits("ltm", bare))
    # nor does the degree model learn training melodies without one
    assert bits("degree-ltm", in_d, training=(Melody(in_c.symbols),)) == pytest.approx(
        bits("degree-ltm", in_d, training=())
    )


def test_a_linked_model_mixes_like_ppm_over_its_own_symbols():
    training = [Melody((0, 1, 2, 1, 0), tonic=0), Melody((2, 3, 2, 1, 0), tonic=7)]
    test = Melody((0, 1, 2, 3, 2), tonic=0)
    viewpoint = Viewpoint(("interval", "degree"))
    mixer = PPMMixer(training, 4, MixOptions("interval-degree-ltm"), PITCHES)
    ((part, first),) = mixer.parts(test)
    assert first == 1
    model = ppm.PPM(viewpoint.size(PITCHES))
    for melody in training:
        model.learn(viewpoint.sequence(melody, PITCHES))
    symbols = viewpoint.sequence(test, PITCHES)
    own = model.predict(symbols)
    table = viewpoint.candidates(test, PITCHES)
    for t in range(1, len(test)):  # each pitch: its symbol's probability, renormalised
        expected = own[t - 1][table[t - 1]] / own[t - 1][table[t - 1]].sum()
        assert np.allclose(part[t], expected)


def test_a_song_as_the_viewpoints_see_it():
    # 3/4 with a quarter pickup, a rest that takes its time, and a declared key
    song = Song.from_text("g4 c2 r4 e4 g8 c8", title="t", time_signature="3/4", key="C major")
    song.extra["pickup"] = "1"
    events = [n.pitch is not None for n in song.notes]
    melody = song_melody(song, [0, 1, 2, 3, 4], events)
    assert melody.tonic == 0 and melody.bar == 3 * TICKS
    # onsets in quarters from bar 0's downbeat: -1, 0, (rest 2), 3, 4, 4.5
    assert melody.onsets == tuple(int(q * TICKS) for q in (-1, 0, 3, 4, 4.5))
    assert song_melody(Song.from_text("c4 d4"), [0, 1], [True, True]).tonic is None
