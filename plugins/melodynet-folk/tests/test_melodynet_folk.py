"""melodynet-folk as users meet it: three bundles listed by name, each recording how it
was made, each generating tunes in any key and meter without training anything."""

import json
import math
from fractions import Fraction
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

import melodynet
from melodynet.testing import assert_one_line_error

NAMES = ["bach-chorales", "german-folk", "irish-dance"]
BUNDLES = Path(__file__).resolve().parents[1] / "melodynet_folk" / "bundles"
MAX_BUNDLE_BYTES = 5_000_000
MAX_TOTAL_BYTES = 15_000_000
SCALES = {  # pitch classes of the keys the tests ask for
    "G": {7, 9, 11, 0, 2, 4, 6},
    "D": {2, 4, 6, 7, 9, 11, 1},
    "e": {4, 6, 7, 9, 11, 0, 2, 1, 3},  # E minor with the raised 6th and 7th
    "F# major": {6, 8, 10, 11, 1, 3, 5},
    "a dorian": {9, 11, 0, 2, 4, 6, 7},
}


@pytest.fixture(scope="module", autouse=True)
def installed():
    try:
        distribution("melodynet-folk")
    except PackageNotFoundError:
        pytest.fail("melodynet-folk is not installed: pip install -e plugins/melodynet-folk")


def _size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def test_listed_by_name(melodynet_cli):
    listed = {
        b["name"]: b
        for b in json.loads(melodynet_cli("bundles", "--json").stdout)
        if b["distribution"] == "melodynet-folk"
    }
    assert sorted(listed) == NAMES
    for name, bundle in listed.items():
        assert bundle["error"] == "" and bundle["model"] == "stateful-lstm", bundle
        assert bundle["description"] and bundle["corpus"] and bundle["licence"]
        assert Path(bundle["path"]) == BUNDLES / name
        assert 0 < bundle["heldout_bits_per_note"] < 6
        assert bundle["songs"] >= 100 and bundle["heldout_songs"] >= 10
        assert bundle["size_bytes"] == _size(BUNDLES / name) <= MAX_BUNDLE_BYTES
    assert sum(b["size_bytes"] for b in listed.values()) <= MAX_TOTAL_BYTES
    table = melodynet_cli("bundles").stdout.splitlines()
    for name in NAMES:
        [line] = [line for line in table if line.split()[0] == name]
        assert "melodynet-folk 0.1.0" in line


@pytest.mark.parametrize("name", NAMES)
def test_records_how_it_was_made(name):
    from melodynet.generation.constraints import in_common_key

    directory = BUNDLES / name
    assert sorted(p.name for p in directory.iterdir()) == [
        "melodynet.json",
        "model.keras",
        "network.npz",
        "pretrained.json",
    ]
    made = json.loads((directory / "pretrained.json").read_text())
    meta = json.loads((directory / "melodynet.json").read_text())
    assert made["command"].startswith("melodynet train corpus:")
    for flag in ("--model stateful-lstm", "--transpose common", "--validation-split 0.1"):
        assert flag in made["command"]
    assert made["corpus"] and all(c.startswith("corpus:") for c in made["corpus"])
    assert made["songs"] == len(meta["songs"]) and made["melodynet_version"]
    assert made["heldout_songs"] == len(meta["validation_songs"]) > 0
    best = meta["metrics"]["best_epoch"]
    bits = meta["history"]["val_loss"][best - 1] / math.log(2)
    assert made["heldout_bits_per_note"] == pytest.approx(bits)
    assert made["train_seconds"] > 0 and len(made["load_average_start"]) == 3
    assert meta["options"]["validation_split"] == 0.1 and meta["options"]["patience"]
    model = melodynet.load(name)
    assert model.numpy_network is not None  # generating needs no TensorFlow
    assert in_common_key(model.songs)  # so --key moves the melody into any key


def test_an_unknown_name_lists_the_bundles(melodynet_cli):
    result = melodynet_cli("generate", "--model-dir", "german-folks", check=False)
    assert_one_line_error(
        result, "german-folks", "did you mean 'german-folk'", "installed bundles:", *NAMES
    )


def _generated(path: Path, primer: int = 4):
    [song] = melodynet.read(path)
    return song, song.notes[primer:]


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, key, meter, bars",
    [
        ("german-folk", "G", "3/4", 16),
        ("german-folk", "F# major", "2/4", 16),
        ("irish-dance", "D", "6/8", 16),
        ("irish-dance", "a dorian", "4/4", 8),
        ("bach-chorales", "e", "4/4", 16),
        ("bach-chorales", "G", "3/4", 16),
    ],
)
def test_generates_in_any_key_and_meter(melodynet_cli, name, key, meter, bars):
    args = ["generate", "--model-dir", name, "--key", key, "--meter", meter, "--bars", str(bars)]
    melodynet_cli(*args, "--out", "tune.txt", "--out", "tune.mid")
    assert (melodynet_cli.path / "tune.mid").stat().st_size > 0
    song, generated = _generated(melodynet_cli.path / "tune.txt")
    bar = Fraction(meter.split("/")[0]) * 4 / Fraction(meter.split("/")[1])
    assert sum(n.duration for n in song.notes) == bar * bars
    assert len(generated) >= bars  # at least a note a bar
    assert all(n.pitch % 12 in SCALES[key] for n in generated if n.pitch is not None), song.tiny()


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_samples_several_tunes(melodynet_cli, name):
    melodynet_cli(
        "generate",
        "--model-dir",
        name,
        "--key",
        "G",
        "--bars",
        "16",
        "--meter",
        "3/4",
        "--temperature",
        "1",
        "--num-outputs",
        "3",
        "--out",
        "tune.txt",
    )
    tunes = [_generated(melodynet_cli.path / f"tune-{k}.txt")[1] for k in (1, 2, 3)]
    assert len({tuple(t) for t in tunes}) == 3  # three different melodies
    for notes in tunes:
        assert all(n.pitch % 12 in SCALES["G"] for n in notes if n.pitch is not None)
