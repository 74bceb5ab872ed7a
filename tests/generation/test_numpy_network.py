"""Generating without TensorFlow: the numpy network gives the notes the Keras network gives,
for every built-in model and encoding, greedy, sampled, by beam search and one step ahead."""

import subprocess
import sys

import numpy as np
import pytest

import melodynet
from melodynet.evaluation.mix import MixOptions
from melodynet.generation.constraints import joint_notes
from melodynet.generation.mixing import GenerationMix
from melodynet.generation.numpy_network import NumpyNetwork, export
from melodynet.generation.predict import Predictor, one_hot
from melodynet.generation.sampling import Sampling
from tests.conftest import BUTTERFLY, ROOT, SONGS, needs_plugins

SONG_FILES = [BUTTERFLY, SONGS / "twinkle.txt", SONGS / "ode-to-joy.txt"]


def test_one_hot_is_the_networks_input():
    from melodynet.network import features

    classes = np.array([[[0, 2], [1, -1]], [[2, 0], [-1, -1]]])
    assert np.array_equal(one_hot(classes, [3, 4]), features(classes, [3, 4]).numpy())


def _both(model):
    """The model's Predictor on the numpy network, and one on its Keras network."""
    found = export(model.network, model.codec.heads)
    assert found is not None, "built-in models run in numpy"
    fast = Predictor(model.spec, model.config, model.codec, numpy=NumpyNetwork(*found))
    keras = Predictor(model.spec, model.config, model.codec, model.network)
    return fast, keras


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["single", "split"])
@pytest.mark.parametrize("name", ["mlp", "lstm", "stateful-lstm", "cnn"])
def test_same_notes_on_both_paths(name, encoding):
    # half-trained: unsure models make the choices close, so agreement means something
    model = melodynet.train(
        SONG_FILES,
        model=name,
        encoding=encoding,
        epochs=6,
        stop_when_perfect=False,
        params={"layers": 2} if name != "cnn" else {"kernel-size": 3},
    )
    fast, keras = _both(model)
    [song] = melodynet.read(BUTTERFLY)
    classes = model.codec.classes(song.notes)
    primer = classes[:4]
    for a, b in zip(fast.probabilities(classes), keras.probabilities(classes), strict=True):
        assert np.allclose(a, b, atol=1e-5)
    assert np.array_equal(fast.one_step(classes), keras.one_step(classes))
    assert np.array_equal(fast.continue_song(primer, 30, 3), keras.continue_song(primer, 30, 3))
    sampled = Sampling(temperature=1.2, top_p=0.95, seed=7)
    assert np.array_equal(
        fast.continue_song(primer, 30, 4, sampled), keras.continue_song(primer, 30, 4, sampled)
    )
    assert np.array_equal(fast.beam_search(primer, 20, 4), keras.beam_search(primer, 20, 4))
    # mixed with PPM models (generate(mix=...)), the two paths still choose alike
    mix = GenerationMix(
        joint_notes(model.codec), model.codec.sizes, model.songs, MixOptions("both,interval-ltm")
    )
    fast, keras = fast.with_mix(mix), keras.with_mix(mix)
    assert np.array_equal(
        fast.continue_song(primer, 20, 3, sampled), keras.continue_song(primer, 20, 3, sampled)
    )
    assert np.array_equal(fast.beam_search(primer, 12, 3), keras.beam_search(primer, 12, 3))


@pytest.mark.slow
@needs_plugins("melodynet-gru")
def test_the_gru_plugin_runs_in_numpy_too():
    for name in ("gru", "stateful-gru"):
        model = melodynet.train(SONG_FILES, model=name, epochs=6, stop_when_perfect=False)
        fast, keras = _both(model)
        primer = model.codec.classes(model.songs[0].notes[:4])
        assert np.array_equal(fast.continue_song(primer, 30, 2), keras.continue_song(primer, 30, 2))


@pytest.mark.slow
@needs_plugins("melodynet-transformer")
def test_custom_layers_fall_back_to_keras_with_the_same_interface(tmp_path):
    model = melodynet.train(
        [BUTTERFLY], model="transformer", epochs=3, stop_when_perfect=False, out=tmp_path / "t"
    )
    assert export(model.network, model.codec.heads) is None  # its own layers: not numpy's
    loaded = melodynet.load(tmp_path / "t")
    assert loaded.numpy_network is None and loaded.predictor.uses_tensorflow
    assert len(loaded.generate(4, length=8)) == 12


@pytest.mark.slow
def test_generate_from_a_bundle_never_imports_tensorflow(tmp_path):
    melodynet.train([BUTTERFLY], model="stateful-lstm", out=tmp_path / "b")
    code = (
        "import sys, melodynet\n"
        f"model = melodynet.load({str(tmp_path / 'b')!r})\n"
        "song = model.generate(4)\n"
        "sampled = model.generate(4, temperature=1.0, num_outputs=2, random_seed=3)\n"
        "beam = model.generate(4, beam_size=3)\n"
        "print(song.extra['matches'], beam.extra['matches'], 'tensorflow' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["50", "50", "False"]
