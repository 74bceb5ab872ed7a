"""`evaluate --bits` and `report --bits`: every held-out NLL per note also in bits per note.

One small model is trained with a validation split; its held-out NLL is computed here a
second way (the numpy network, note by note) and the bits must be that NLL over ln 2.
"""

import json
import math
import re

import numpy as np
import pytest

from tests.conftest import SONGS

pytestmark = pytest.mark.slow
LN2 = math.log(2)


@pytest.fixture(scope="module")
def heldout_bundle(tmp_path_factory):
    """A stateful LSTM trained briefly on the example songs, a quarter of them held out."""
    from click.testing import CliRunner

    from melodynet.cli import cli
    from melodynet.plugins import registry

    registry(cli)
    out = tmp_path_factory.mktemp("heldout") / "songs-held"
    args = ["train", str(SONGS), "--validation-split", "0.25", "--epochs", "4"]
    result = CliRunner().invoke(cli, [*args, "--units", "32", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def independent_nll(model) -> tuple[float, int]:
    """Mean -ln p(note | the true notes before it) over the held-out songs from note
    ``window`` on (the positions evaluate scores), through the numpy predictor."""
    predictor = model.predictor
    first = 1 if model.spec.sequence else model.config.window
    total, count = 0.0, 0
    for song in model.heldout_songs:
        classes = model.codec.classes(song.notes, song.name)
        probs = predictor.probabilities(classes)
        skip = model.config.window - first
        for head, p in enumerate(probs):
            chosen = p[np.arange(len(p)), classes[first:, head]][skip:]
            total -= float(np.log(chosen).sum())
        count += len(classes) - model.config.window
    return total / count, count


def test_evaluate_bits_are_the_heldout_nll_over_ln_2(heldout_bundle):
    import melodynet

    model = melodynet.load(heldout_bundle)
    assert not model.predictor.uses_tensorflow  # a path apart from evaluate's Keras batches
    nats, count = independent_nll(model)
    net, *baselines = model.evaluate()["heldout"]
    assert net["total"] == count
    assert net["nll"] == pytest.approx(nats, rel=1e-4)
    assert net["bits_per_note"] == pytest.approx(nats / LN2, rel=1e-4)
    assert net["bits_per_note"] == pytest.approx(net["nll"] / LN2, abs=1e-6)
    assert [b["name"] for b in baselines] == ["repeat previous note", "order-3 n-gram"]
    for row in baselines:
        assert row["bits_per_note"] == pytest.approx(row["nll"] / LN2, abs=1e-6)
    assert model.score(model.heldout_songs)["bits_per_note"] == net["bits_per_note"]


def test_evaluate_cli_shows_bits_only_when_asked(runner, heldout_bundle):
    plain = runner("evaluate", "--model-dir", heldout_bundle)
    assert plain.exit_code == 0, plain.output
    assert "nats/note" in plain.output and "bits" not in plain.output

    asked = runner("evaluate", "--model-dir", heldout_bundle, "--bits")
    assert asked.exit_code == 0, asked.output
    shown = re.findall(r"NLL (\d+\.\d+) nats/note \((\d+\.\d+) bits/note\)", asked.stdout)
    assert len(shown) == 3  # the network and the two baselines
    data = json.loads(runner("evaluate", "--model-dir", heldout_bundle, "--json").stdout)
    for (nats, per_note), row in zip(shown, data["heldout"], strict=True):
        assert float(nats) == pytest.approx(row["nll"], abs=5e-5)
        assert float(per_note) == pytest.approx(row["bits_per_note"], abs=5e-5)
        assert float(per_note) == pytest.approx(row["nll"] / LN2, abs=5e-5)
    # --json always has both, with or without --bits
    both = json.loads(runner("evaluate", "--model-dir", heldout_bundle, "--json", "--bits").stdout)
    assert both["heldout"] == data["heldout"]


def test_evaluate_bits_without_heldout_songs_says_so(runner, butterfly_bundle):
    result = runner("evaluate", "--model-dir", butterfly_bundle, "--bits")
    assert result.exit_code == 0, result.output
    assert "no held-out songs" in result.stderr and "bits" not in result.stdout


def loss_table(html: str) -> list[list[str]]:
    table = re.search(r'<table class="losses">(.*?)</table>', html, re.S)
    assert table, "the report has a loss table"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in rows]


def test_report_bits_beside_nats(runner, heldout_bundle, workdir):
    import melodynet

    model = melodynet.load(heldout_bundle)
    song = model.songs[0].name
    result = runner(
        "report", "--model-dir", heldout_bundle, "--song", song, "--out", "r.html", "--bits"
    )
    assert result.exit_code == 0, result.output
    html = (workdir / "r.html").read_text()
    head, training, held = loss_table(html)
    assert head == ["songs", "epoch", "NLL (nats/note)", "bits/note"]
    kept = model.meta.metrics["best_epoch"]
    assert training[:2] == ["training", str(kept)] and held[:2] == ["held out", str(kept)]
    for row in (training, held):
        assert float(row[3]) == pytest.approx(float(row[2]) / LN2, abs=1e-4)
    # the held-out loss recorded while training is the NLL evaluate measures again
    assert float(held[2]) == pytest.approx(model.evaluate()["heldout"][0]["nll"], abs=1e-4)
    assert "bits/note" in html[html.index('<div class="curves">') :]  # the curves' right axis

    model.report(workdir / "plain.html", songs=[song])
    plain = (workdir / "plain.html").read_text()
    head, training, held = loss_table(plain)
    assert head == ["songs", "epoch", "NLL (nats/note)"] and "bits/note" not in plain
