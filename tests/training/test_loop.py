"""The training loop: window models take several steps per call, exactly as one per call."""

import numpy as np
import pytest

import melodynet
from melodynet.codec import Codec
from melodynet.hookspecs import ModelConfig
from melodynet.plugins import registry
from melodynet.training import dataset, loop
from melodynet.training.options import TrainOptions
from tests.conftest import BUTTERFLY

pytestmark = pytest.mark.slow


def _train(monkeypatch, steps_per_call, model="lstm", stop_after=None):
    """Two epochs on butterfly (50 windows, batches of 8: 7 steps, the last short), a
    checkpoint every 5 steps; the snapshots offered, the weights and the history."""
    from melodynet import network

    monkeypatch.setattr(loop, "STEPS_PER_CALL", steps_per_call)
    songs = melodynet.read(BUTTERFLY)
    options = TrainOptions(model=model, window=4, units=8, epochs=2, batch_size=8)
    loop.seed_everything(0)
    spec, codec = registry().model(model), Codec.fit(registry().encoding("single"), songs)
    config = ModelConfig(window=4, units=8)
    net = network.build(spec, config, codec, sizes=network.input_sizes(codec))
    trainer = loop.Trainer(net, codec, options, spec.sequence, checkpoint_every=5)
    snapshots, asked = [], []

    def should_stop():
        asked.append(len(snapshots))
        return stop_after is not None and len(asked) > stop_after

    result = trainer.run(
        dataset.encode(codec, songs),
        checkpoint=snapshots.append,
        should_stop=should_stop,
    )
    return [(s.epoch, s.step) for s in snapshots], net.get_weights(), result, len(asked)


def test_several_steps_per_call_train_exactly_as_one_per_call(monkeypatch):
    one = _train(monkeypatch, 1)
    several = _train(monkeypatch, 32)
    # a checkpoint every 5 steps of 7 per epoch: the calls end there, and at the short batch
    assert one[0] == several[0] == [(0, 5), (1, 3)]
    assert all(np.array_equal(a, b) for a, b in zip(one[1], several[1], strict=True))
    assert one[2].history == several[2].history and len(one[2].history["loss"]) == 2
    assert one[3] == 14 and several[3] == 6  # asked before each call: 5+1+1, 3+3+1


def test_a_stop_between_calls_is_snapshotted_where_it_happened(monkeypatch):
    snapshots, _, result, _ = _train(monkeypatch, 32, stop_after=2)
    assert result.interrupted and snapshots[-1] == (0, 6)  # 5 steps, then the 6th alone
