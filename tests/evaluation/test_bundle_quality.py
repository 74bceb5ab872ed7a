"""scripts/bundle_quality.py: the "Quality" section of docs/pretrained.md, made again."""

import importlib.util
import json
import math
import re

import pytest

from tests.conftest import ROOT, needs_plugins


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location(
        "bundle_quality", ROOT / "scripts" / "bundle_quality.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_update_docs_replaces_the_marked_section_only(script, tmp_path):
    page = tmp_path / "pretrained.md"
    page.write_text(
        f"# Title\n\nkept above\n\n{script.BEGIN}\n## Quality\n\nold figures\n{script.END}\n"
        "\n## Continuing\n\nkept below\n"
    )
    script.update_docs("## Quality\n\nnew figures\n", page)
    assert page.read_text() == (
        f"# Title\n\nkept above\n\n{script.BEGIN}\n## Quality\n\nnew figures\n{script.END}\n"
        "\n## Continuing\n\nkept below\n"
    )
    page.write_text("# no markers\n")
    with pytest.raises(SystemExit, match="quality:begin"):
        script.update_docs("x\n", page)
    assert page.read_text() == "# no markers\n"


def test_the_usual_meter_is_the_most_common(script):
    from melodynet.songs.song import Note, Song

    def song(meter):
        return Song([Note(60, 1)], time_signature=meter)

    assert script.usual_meter([song("3/4"), song("6/8"), song("6/8")]) == "6/8"
    assert script.usual_meter([song("3/4"), song("2/4")]) == "2/4"  # a tie: the first by name


@pytest.mark.slow
@needs_plugins("melodynet-folk")
def test_one_bundle_measured_end_to_end(script, tmp_path, capsys):
    import melodynet

    out = tmp_path / "quality.json"
    images = tmp_path / "images"
    argv = ["bach-chorales", "--samples", "3", "--images", str(images), "--json", str(out)]
    assert script.main(argv) == 0
    section = capsys.readouterr().out
    [result] = json.loads(out.read_text())["bundles"]

    # held out: evaluate's NLL in bits is the validation loss the bundle recorded, / ln 2
    model = melodynet.load("bach-chorales")
    history, best = model.meta.history["val_loss"], model.meta.metrics["best_epoch"]
    network = result["heldout"][0]
    assert network["bits_per_note"] == pytest.approx(history[best - 1] / math.log(2), abs=1e-4)
    assert network["total"] == sum(len(s) - model.meta.window for s in model.heldout_songs)
    assert f"| `bach-chorales` | {len(model.heldout_songs)} ({network['total']:,}) | " in section

    # three melodies of 16 bars in 4/4 (the chorales' usual meter), statistics of all three
    assert result["meter"] == "4/4" and len(result["longest_copy"]["all"]) == 3
    rows = {row["metric"]: row for row in result["stats"]}
    assert rows["pitch_range"]["generated"]["songs"] == 3
    assert rows["pitch_range"]["training"]["songs"] == len(model.songs)
    first = model.generate(meter="4/4", bars=16, temperature=1.0, random_seed=0)
    assert sum(n.duration for n in first.notes) == 16 * 4
    assert result["longest_copy"]["all"][0] == int(first.extra["longest_copy"])

    # the example: the command shown wrote an engraved SVG of that first melody
    svg = images / "quality-bach-chorales.svg"
    text = svg.read_text()
    assert text.lstrip().startswith(("<?xml", "<svg")) and 'class="note"' in text
    pitched = sum(n.pitch is not None for n in first.notes)
    assert len(re.findall(r'class="note"', text)) >= pitched  # a tied note is drawn twice
    command = "melodynet generate --model-dir bach-chorales --meter 4/4 --bars 16 "
    assert f"{command}--temperature 1 --random-seed 0 --out {svg}" in section
