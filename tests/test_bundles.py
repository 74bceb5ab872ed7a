"""Pretrained bundles by name: the register_bundles hook, `melodynet bundles`, and a
registered name wherever a bundle is accepted (--model-dir, melodynet.load).

Nothing here trains: the bundle is a copy of one that plugins/melodynet-folk ships, and it
generates without TensorFlow (its network runs in numpy).
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import types
from fractions import Fraction
from pathlib import Path

import pytest

import melodynet
from melodynet import BundleError, BundleSpec, ModelSpec, PluginWarning, WriterSpec, hookimpl
from melodynet import plugins as plugin_module
from tests.conftest import ROOT, Shelf, one_line_error
from tests.test_plugins import doc_blocks, make_distribution

SHIPPED = ROOT / "plugins" / "melodynet-folk" / "melodynet_folk" / "bundles"
SMALLEST = "bach-chorales"


@pytest.fixture(scope="module")
def bundle_copy(tmp_path_factory):
    """A copy of a shipped bundle, outside any package."""
    source = SHIPPED / SMALLEST
    assert (source / "melodynet.json").is_file(), f"{source} is missing: scripts/pretrain.py"
    target = tmp_path_factory.mktemp("bundles") / "copy"
    shutil.copytree(source, target)
    return target


@pytest.fixture
def with_plugin(monkeypatch):
    """The process-wide registry: the built-ins and the given plugin objects only (no
    installed plugin, so what they ship does not show)."""

    def install(*plugins, cli=None):
        monkeypatch.setenv("MELODYNET_LOAD_PLUGINS", "")
        registry = plugin_module.load_registry(cli, plugins=plugins)
        monkeypatch.setattr(plugin_module, "_loaded", registry)
        return registry

    return install


def _info(registry, name):
    return next(p for p in registry.plugins if p.name == name)


def test_hook_register_bundles(with_plugin, bundle_copy, workdir):
    spec = BundleSpec("my-chorales", bundle_copy, "chorale tunes", "corpus:bach", "public domain")
    registry = with_plugin(Shelf(spec))
    info = _info(registry, "Shelf")
    assert info.status == "ok", info.error
    assert info.hooks == ["register_bundles"] and info.provides == ["bundle:my-chorales"]
    assert registry.bundle("my-chorales") == spec
    assert registry.bundle_plugin("my-chorales").name == "Shelf"

    from melodynet.model import bundle_dir

    assert bundle_dir("my-chorales") == bundle_copy
    model = melodynet.load("my-chorales")  # a name, not a path: no such directory here
    assert model.directory == bundle_copy and model.numpy_network is not None
    melody = model.generate(key="D", bars=4, meter="4/4")
    generated = melody.notes[int(melody.extra["primer"]) :]
    assert sum(n.duration for n in melody.notes) == 16
    d_major = {2, 4, 6, 7, 9, 11, 1}
    assert all(n.pitch % 12 in d_major for n in generated if n.pitch is not None)


def test_a_directory_that_exists_wins_over_a_name(with_plugin, bundle_copy, workdir):
    with_plugin(Shelf(BundleSpec("my-chorales", bundle_copy)))
    (workdir / "my-chorales").mkdir()
    with pytest.raises(BundleError, match="my-chorales: not a melodynet bundle"):
        melodynet.load("my-chorales")


def test_an_unknown_name_lists_the_installed_bundles(with_plugin, bundle_copy, runner, workdir):
    with_plugin(Shelf(BundleSpec("my-chorales", bundle_copy), BundleSpec("other", bundle_copy)))
    line = one_line_error(
        runner("generate", "--model-dir", "my-chorale", "--bars", "4"),
        "my-chorale: no such model bundle directory or installed bundle",
        "(did you mean 'my-chorales'?)",
        "installed bundles: my-chorales, other",
    )
    assert line.startswith("Error: ")
    with pytest.raises(BundleError, match="installed bundles: my-chorales, other$"):
        melodynet.load("nothing-like-it")

    with_plugin()
    with pytest.raises(BundleError, match="no pretrained bundles installed"):
        melodynet.load("my-chorales")
    with pytest.raises(BundleError, match="no such model bundle"):  # as before for paths
        melodynet.load(workdir / "nothing")


def test_generate_takes_a_name(with_plugin, bundle_copy, runner, workdir):
    with_plugin(Shelf(BundleSpec("my-chorales", bundle_copy)))
    done = runner(
        "generate", "--model-dir", "my-chorales", "--key", "G", "--bars", "4", "--meter", "3/4"
    )
    assert done.exit_code == 0, done.output
    assert f"Using model {bundle_copy}" in done.output


def test_bundles_lists_installed_and_own(with_plugin, bundle_copy, runner, workdir):
    spec = BundleSpec("my-chorales", bundle_copy, "chorale tunes", "corpus:bach", "public domain")
    with_plugin(Shelf(spec))
    shutil.copytree(bundle_copy, workdir / "models" / "mine")
    (workdir / "models" / "broken").mkdir()
    (workdir / "models" / "broken" / "melodynet.json").write_text("{}")

    done = runner("bundles", "--json")
    assert done.exit_code == 0, done.output
    listed = {b["name"]: b for b in json.loads(done.stdout)}
    assert list(listed) == ["my-chorales", "models/broken", "models/mine"]
    mine, shipped = listed["models/mine"], listed["my-chorales"]
    meta = json.loads((bundle_copy / "melodynet.json").read_text())
    best = meta["metrics"]["best_epoch"]
    expected = {
        "source": "plugin",
        "plugin": "Shelf",
        "description": "chorale tunes",
        "corpus": "corpus:bach",
        "licence": "public domain",
        "path": str(bundle_copy),
        "model": "stateful-lstm",
        "encoding": meta["encoding"],
        "songs": len(meta["songs"]),
        "heldout_songs": len(meta["validation_songs"]),
        "training_notes": sum(len(s["notes"]) for s in meta["songs"]),
        "size_bytes": sum(p.stat().st_size for p in bundle_copy.iterdir()),
        "error": "",
    }
    assert {k: shipped[k] for k in expected} == expected
    bits = meta["history"]["val_loss"][best - 1] / math.log(2)
    assert shipped["heldout_bits_per_note"] == pytest.approx(bits)
    assert shipped["pretrained"]["heldout_bits_per_note"] == pytest.approx(bits)
    assert mine["source"] == "models" and mine["songs"] == shipped["songs"]
    assert listed["models/broken"]["error"].endswith(
        "not a melodynet bundle (expected melodynet.json and model.keras)"
    )

    table = runner("bundles")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split()[:7] == [
        "name",
        "model",
        "encoding",
        "songs",
        "notes",
        "bits/note",
        "size",
    ]
    assert lines[1].split()[:6] == [
        "my-chorales",
        "stateful-lstm",
        meta["encoding"] + ("+bars" if meta["options"].get("bar_inputs") else ""),
        str(expected["songs"]),
        str(expected["training_notes"]),
        f"{bits:.3f}",
    ]
    assert re.search(r"  \d+\.\d (kB|MB)  Shelf +chorale tunes$", lines[1]), lines[1]
    assert "BROKEN: " in lines[2] and lines[3].startswith("models/mine")


def test_the_api_lists_them(with_plugin, bundle_copy, runner, workdir):
    """melodynet.bundles(): what `melodynet bundles --json` prints, as BundleInfo objects,
    filtered by kind, from another directory, and read afresh when a bundle changes."""
    spec = BundleSpec("my-chorales", bundle_copy, "chorale tunes", "corpus:bach", "public domain")
    with_plugin(Shelf(spec))
    shutil.copytree(bundle_copy, workdir / "models" / "mine")
    (workdir / "models" / "broken").mkdir()
    (workdir / "models" / "broken" / "melodynet.json").write_text("{}")

    found = melodynet.bundles()
    assert all(isinstance(b, melodynet.BundleInfo) for b in found)
    assert [b.name for b in found] == ["my-chorales", "models/broken", "models/mine"]
    shipped, broken, mine = found
    meta = json.loads((bundle_copy / "melodynet.json").read_text())
    bits = meta["history"]["val_loss"][meta["metrics"]["best_epoch"] - 1] / math.log(2)
    assert (shipped.pretrained, shipped.source, shipped.path) == (True, "plugin", bundle_copy)
    assert (shipped.plugin, shipped.description, shipped.corpus, shipped.licence) == (
        "Shelf",
        "chorale tunes",
        "corpus:bach",
        "public domain",
    )
    assert (shipped.model, shipped.songs, shipped.heldout_songs, shipped.error) == (
        "stateful-lstm",
        len(meta["songs"]),
        len(meta["validation_songs"]),
        "",
    )
    assert shipped.training_notes == sum(len(s["notes"]) for s in meta["songs"])
    assert shipped.bar_inputs is bool(meta["options"].get("bar_inputs", False))
    assert shipped.heldout_bits_per_note == pytest.approx(bits)
    assert shipped.made == json.loads((bundle_copy / "pretrained.json").read_text())
    assert shipped.size_bytes == sum(p.stat().st_size for p in bundle_copy.iterdir())
    assert (mine.pretrained, mine.source, mine.path) == (False, "models", Path("models/mine"))
    assert mine.songs == shipped.songs and mine.plugin == mine.description == ""
    assert broken.error.endswith("not a melodynet bundle (expected melodynet.json and model.keras)")
    assert broken.model is broken.songs is broken.heldout_bits_per_note is None
    assert melodynet.load(mine.name).meta.model == mine.model  # the name is what load takes

    listed = json.loads(runner("bundles", "--json").stdout)
    assert listed == [b.to_json() for b in found]  # the command prints the API's records
    assert "model" not in listed[1] and listed[2]["pretrained"] == shipped.made

    assert [b.name for b in melodynet.bundles(pretrained=True)] == ["my-chorales"]
    own = melodynet.bundles(pretrained=False)
    assert [b.name for b in own] == ["models/broken", "models/mine"]
    elsewhere = workdir / "elsewhere"
    (workdir / "models").rename(elsewhere)
    assert melodynet.bundles(pretrained=False) == []
    assert [b.path for b in melodynet.bundles(elsewhere, pretrained=False)] == [
        elsewhere / "broken",
        elsewhere / "mine",
    ]
    with pytest.raises(melodynet.OptionError, match="^pretrained must be True, False or None"):
        melodynet.bundles(pretrained="yes")

    # a bundle rewritten (as training does: a new metadata file) is read again
    rewritten = json.loads((elsewhere / "mine" / "melodynet.json").read_text())
    rewritten["songs"] = rewritten["songs"][:3]
    (elsewhere / "new.json").write_text(json.dumps(rewritten))
    os.replace(elsewhere / "new.json", elsewhere / "mine" / "melodynet.json")
    [_, again] = melodynet.bundles(elsewhere, pretrained=False)
    assert again.songs == 3 and again.training_notes == sum(
        len(s["notes"]) for s in rewritten["songs"]
    )
    (elsewhere / "mine" / "model.keras").unlink()
    [_, gone] = melodynet.bundles(elsewhere, pretrained=False)
    assert gone.error.endswith("not a melodynet bundle (expected melodynet.json and model.keras)")


def test_bundles_with_none_says_how_to_get_some(with_plugin, runner, workdir):
    with_plugin()
    done = runner("bundles")
    assert done.exit_code == 0 and "pip install melodynet-folk" in done.stdout
    assert json.loads(runner("bundles", "--json").stdout) == []


def test_a_missing_bundle_directory_is_named(with_plugin, runner, workdir, tmp_path):
    with_plugin(Shelf(BundleSpec("gone", tmp_path / "gone")))
    with pytest.raises(BundleError, match="bundle 'gone' of Shelf is missing its directory"):
        melodynet.load("gone")
    [listed] = json.loads(runner("bundles", "--json").stdout)
    assert "no such model bundle directory" in listed["error"]


class Relative:
    """A module-like plugin: a relative path is taken from its module's directory."""


def test_a_relative_path_is_taken_from_the_plugin_module(with_plugin, tmp_path):
    module = types.ModuleType("folk_like")
    module.__file__ = str(tmp_path / "folk_like" / "__init__.py")

    @hookimpl
    def register_bundles(register):
        register(BundleSpec("relative", Path("bundles") / "relative"))

    module.register_bundles = register_bundles
    registry = with_plugin(module)
    assert registry.bundle("relative").path == tmp_path / "folk_like" / "bundles" / "relative"


class Duplicate:
    @hookimpl
    def register_bundles(self, register):
        register(BundleSpec("my-chorales", "/somewhere"))


class BadName:
    @hookimpl
    def register_bundles(self, register):
        register(BundleSpec("My Chorales", "/somewhere"))


class RelativeWithoutModule:
    @hookimpl
    def register_bundles(self, register):
        register(BundleSpec("loose", "bundles/loose"))


class NotASpec:
    @hookimpl
    def register_bundles(self, register):
        register(ModelSpec("oops", lambda inputs, config: inputs))


class OlderPlugin:
    """A plugin from before the hook existed: it keeps working."""

    @hookimpl
    def register_writers(self, register):
        register(WriterSpec("older", (".older",), lambda song, path, options: None))


def test_bad_registrations_fail_only_their_plugin(with_plugin, bundle_copy):
    plugins = [
        Shelf(BundleSpec("my-chorales", bundle_copy)),
        Duplicate(),
        BadName(),
        RelativeWithoutModule(),
        NotASpec(),
        OlderPlugin(),
    ]
    with pytest.warns(PluginWarning) as warned:
        registry = with_plugin(*plugins)
    errors = {p.name: p.error for p in registry.plugins if not p.builtin}
    assert errors == {
        "Shelf": "",
        "Duplicate": "register_bundles raised ValueError: bundle 'my-chorales' is already "
        "provided by Shelf",
        "BadName": "register_bundles raised ValueError: invalid bundle name 'My Chorales' "
        "(use lower-case words and '-')",
        "RelativeWithoutModule": "register_bundles raised ValueError: bundle 'loose': path "
        "'bundles/loose' is relative and the plugin has no module file to take it from; use "
        "Path(__file__).parent / ...",
        "NotASpec": "register_bundles raised TypeError: register expects a BundleSpec, got "
        "ModelSpec",
        "OlderPlugin": "",
    }
    assert len(warned) == 4
    assert sorted(registry.bundles) == ["my-chorales"]
    assert registry.writer(".older") is not None


def test_the_documented_example_is_a_usable_bundle(bundle_copy, tmp_path):
    """docs/plugins.md's register_bundles example, installed with a bundle beside it."""
    [code] = [code for _, code in doc_blocks("example") if "register_bundles" in code]
    root = tmp_path / "site"
    root.mkdir()
    make_distribution(root, "melodynet-my-tunes", "my-tunes-plugin", "melodynet_my_tunes", code)
    shutil.copytree(bundle_copy, root / "bundles" / "my-tunes")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
        "MELODYNET_LOAD_PLUGINS": "my-tunes-plugin",
        "MELODYNET_MODELS": str(tmp_path / "models"),
    }

    def melodynet_cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "melodynet.cli", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )

    listed = melodynet_cli("bundles", "--json")
    assert listed.returncode == 0, listed.stderr
    [bundle] = json.loads(listed.stdout)
    assert (bundle["name"], bundle["distribution"], bundle["error"]) == (
        "my-tunes",
        "melodynet-my-tunes",
        "",
    )
    assert bundle["path"] == str(root / "bundles" / "my-tunes")
    done = melodynet_cli(
        "generate", "--model-dir", "my-tunes", "--key", "G", "--bars", "8", "--out", "tune.txt"
    )
    assert done.returncode == 0, done.stderr
    [song] = melodynet.read(tmp_path / "tune.txt")
    assert sum(n.duration for n in song.notes) == Fraction(32)
