"""Plugins as users meet them: broken ones are one-line warnings, the rest keeps working;
the examples in docs/plugins.md work.

Throwaway plugins are made as ``*.dist-info`` directories with an ``entry_points.txt``
on a temporary path, put on PYTHONPATH for subprocess runs only: the venv is not touched.
The tutorial plugin is built from the page's code blocks and installed with pip into a
temporary directory, also put on PYTHONPATH.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

from tests.conftest import BUTTERFLY, ROOT, SONGS, needs_plugins

DOC = ROOT / "docs" / "plugins.md"
HOOKS = [
    "register_bundles",
    "register_commands",
    "register_encodings",
    "register_models",
    "register_readers",
    "register_writers",
]

PLUGIN_WARNING = "melodynet: warning: plugin "

# distribution -> (entry point name, module name, module source)
FAKES = {
    "melodynet-broken-import": (
        "broken-import",
        "melodynet_fake_broken_import",
        "import melodynet_no_such_module  # noqa\n",
    ),
    "melodynet-hook-raises": (
        "hook-raises",
        "melodynet_fake_hook_raises",
        """
        from melodynet import ModelSpec, hookimpl

        def build(inputs, config):
            from keras import layers
            return layers.Flatten()(inputs)

        @hookimpl
        def register_models(register):
            register(ModelSpec("half-registered", build))
            raise RuntimeError("the hook exploded")
        """,
    ),
    "melodynet-duplicate-mlp": (
        "duplicate-mlp",
        "melodynet_fake_duplicate_mlp",
        """
        from melodynet import ModelSpec, hookimpl

        def build(inputs, config):
            from keras import layers
            return layers.Flatten()(inputs)

        @hookimpl
        def register_models(register):
            register(ModelSpec("mlp", build, description="an impostor"))
        """,
    ),
    "melodynet-misspelt-hook": (
        "misspelt-hook",
        "melodynet_fake_misspelt_hook",
        """
        from melodynet import hookimpl

        @hookimpl
        def register_model(register):
            pass
        """,
    ),
    "melodynet-hello": (
        "hello",
        "melodynet_fake_hello",
        """
        import click

        from melodynet import hookimpl

        @hookimpl
        def register_commands(cli):
            @cli.command()
            @click.argument("name")
            def hello(name):
                \"\"\"Say hello (a plugin command).\"\"\"
                click.echo(f"hello {name} from a plugin")
        """,
    ),
}
BROKEN = {
    "broken-import": "could not load melodynet_fake_broken_import: ModuleNotFoundError",
    "hook-raises": "register_models raised RuntimeError: the hook exploded",
    "duplicate-mlp": "model 'mlp' is already provided by melodynet.default_plugins.models",
    "misspelt-hook": "register_model",
}


def make_distribution(root, dist, entry_point, module, source):
    """An installed-looking distribution: a module and its dist-info, under ``root``."""
    (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[melodynet]\n{entry_point} = {module}\n", encoding="utf-8"
    )


ALL_THREE = needs_plugins("melodynet-gru", "melodynet-transformer", "melodynet-abc")


@pytest.fixture(scope="session")
def fake_plugins(tmp_path_factory):
    root = tmp_path_factory.mktemp("fake-plugins")
    for dist, (entry_point, module, source) in FAKES.items():
        make_distribution(root, dist, entry_point, module, source)
    return root


def run(*args, path=None, load=None, cwd=None):
    """`melodynet ARGS` in a fresh process, with ``path`` on PYTHONPATH."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("MELODYNET_LOAD_PLUGINS", None)
    if load is not None:
        env["MELODYNET_LOAD_PLUGINS"] = load
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "melodynet.cli", *map(str, args)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def warnings_in(stderr):
    return [line for line in stderr.splitlines() if line.startswith(PLUGIN_WARNING)]


@ALL_THREE
def test_broken_plugins_are_one_line_warnings(fake_plugins):
    done = run("models", path=fake_plugins)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    warned = warnings_in(done.stderr)
    assert len(warned) == len(BROKEN), done.stderr
    assert len(done.stderr.strip().splitlines()) == len(BROKEN), done.stderr
    for name, reason in BROKEN.items():
        dist = next(d for d, (ep, _, _) in FAKES.items() if ep == name)
        [line] = [w for w in warned if w.startswith(f"{PLUGIN_WARNING}{name!r} ({dist}) failed")]
        assert reason in line, line
    listed = {line.split()[0]: line for line in done.stdout.splitlines()}
    for model in ("mlp", "lstm", "stateful-lstm", "cnn", "gru", "stateful-gru", "transformer"):
        assert model in listed, done.stdout
    assert "built-in" in listed["mlp"] and "impostor" not in done.stdout
    assert "half-registered" not in listed  # what a failed plugin registered is dropped


@ALL_THREE
def test_plugins_json_shows_failed_plugins(fake_plugins):
    done = run("plugins", "--json", path=fake_plugins)
    assert done.returncode == 0, done.stderr
    plugins = {p["name"]: p for p in json.loads(done.stdout)}
    for name, reason in BROKEN.items():
        assert plugins[name]["status"] == "failed"
        assert reason in plugins[name]["error"]
        assert plugins[name]["version"] == "0.1" and not plugins[name]["builtin"]
    assert plugins["hello"]["status"] == "ok"
    assert plugins["hello"]["hooks"] == ["register_commands"]
    for name in ("gru", "transformer", "abc"):
        assert plugins[name]["status"] == "ok", plugins[name]
    builtin = [p for p in plugins.values() if p["builtin"]]
    assert {p["distribution"] for p in builtin} == {"melodynet"}
    assert all(p["status"] == "ok" for p in builtin)

    table = run("plugins", path=fake_plugins)
    assert table.returncode == 0
    failed = [line for line in table.stdout.splitlines() if "FAILED" in line]
    assert sorted(line.split()[0] for line in failed) == sorted(BROKEN)


def test_plugin_commands_and_help_still_work(fake_plugins):
    hello = run("hello", "world", path=fake_plugins)
    assert hello.returncode == 0, hello.stderr
    assert hello.stdout == "hello world from a plugin\n"
    shown = run("--help", path=fake_plugins)
    assert shown.returncode == 0 and "hello" in shown.stdout and "train" in shown.stdout
    assert len(warnings_in(shown.stderr)) == len(BROKEN)


@ALL_THREE
def test_load_plugins_env_selects_plugins(fake_plugins):
    none = run("plugins", "--json", path=fake_plugins, load="")
    assert none.returncode == 0 and warnings_in(none.stderr) == []
    assert all(p["builtin"] for p in json.loads(none.stdout))
    models = run("models", path=fake_plugins, load="")
    assert "gru" not in models.stdout.split() and "mlp" in models.stdout.split()

    only = run("plugins", "--json", path=fake_plugins, load="gru")
    assert only.returncode == 0 and warnings_in(only.stderr) == []
    assert [p["name"] for p in json.loads(only.stdout) if not p["builtin"]] == ["gru"]

    # a distribution name selects too, and a broken plugin still only warns
    by_dist = run("plugins", "--json", path=fake_plugins, load="melodynet-hook-raises, abc")
    assert by_dist.returncode == 0
    chosen = {p["name"]: p["status"] for p in json.loads(by_dist.stdout) if not p["builtin"]}
    assert chosen == {"abc": "ok", "hook-raises": "failed"}
    assert len(warnings_in(by_dist.stderr)) == 1


@pytest.mark.slow
@needs_plugins("melodynet-gru")
def test_bundle_from_a_missing_plugin_names_its_distribution(workdir, runner):
    trained = runner("train", BUTTERFLY, "--model", "gru", "--epochs", "1", "--out", "b")
    assert trained.exit_code == 0, trained.output
    meta = json.loads((workdir / "b" / "melodynet.json").read_text())
    assert (meta["model_plugin"], meta["model_distribution"]) == ("gru", "melodynet-gru")

    done = run("generate", "--model-dir", "b", load="", cwd=workdir)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, done.stderr
    assert "'gru'" in errors[0] and "pip install melodynet-gru" in errors[0]
    assert done.stdout == ""


# The examples in docs/plugins.md


def doc_blocks(marker: str) -> list[tuple[str, str]]:
    """(label, code) of each fenced block right after an ``<!-- marker... -->`` line."""
    pattern = rf"<!-- {marker}:?\s*(\S*)\s*-->\n```[a-z]*\n(.*?)\n```"
    return re.findall(pattern, DOC.read_text(encoding="utf-8"), flags=re.S)


def _env(**extra):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **extra}
    env.pop("MELODYNET_LOAD_PLUGINS", None)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _pythonpath(*paths):
    return os.pathsep.join([*map(str, paths), *filter(None, [os.environ.get("PYTHONPATH")])])


@pytest.mark.slow
def test_the_tutorial_plugin_installs_and_passes_its_tests(tmp_path):
    files = dict(doc_blocks("file"))
    assert set(files) == {"pyproject.toml", "melodynet_bilstm/__init__.py", "tests/test_bilstm.py"}
    package = tmp_path / "melodynet-bilstm"
    for name, code in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(code + "\n", encoding="utf-8")
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps"]
    if importlib.util.find_spec("setuptools"):  # build offline with the venv's setuptools
        pip.append("--no-build-isolation")
    installed = subprocess.run(
        [*pip, "--target", str(site), str(package)], capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr
    assert (site / "melodynet_bilstm-0.1.0.dist-info" / "entry_points.txt").is_file()

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=package,
        env=_env(PYTHONPATH=_pythonpath(site)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout


@pytest.fixture(scope="module")
def hook_examples(tmp_path_factory):
    """The page's hook examples as one installed-looking plugin, ``doc-examples``."""
    root = tmp_path_factory.mktemp("doc-examples")
    source = "\n\n".join(code for _, code in doc_blocks("example"))
    make_distribution(root, "melodynet-doc-examples", "doc-examples", "melodynet_doc_ex", source)
    return root


def _melodynet(path, *args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "melodynet.cli", *map(str, args)],
        env=_env(PYTHONPATH=_pythonpath(path)),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_hook_examples_load_as_a_plugin(hook_examples):
    done = _melodynet(hook_examples, "plugins", "--json")
    assert done.returncode == 0, done.stderr
    [plugin] = [p for p in json.loads(done.stdout) if p["name"] == "doc-examples"]
    assert plugin["status"] == "ok", plugin["error"]
    assert plugin["hooks"] == HOOKS
    assert sorted(plugin["provides"]) == [
        "bundle:my-tunes",
        "encoding:octave-split",
        "model:stateful-simple-rnn",
        "reader:notes .notes",
        "writer:notes .notes",
    ]
    summary = _melodynet(hook_examples, "notes-summary", "67:1/2", "rest:1")
    assert summary.returncode == 0 and summary.stdout == "2 notes, 3/2 quarter notes\n"
    bad = _melodynet(hook_examples, "notes-summary", "g8")
    assert bad.returncode != 0 and "Error: expected note keys" in bad.stderr


def test_hook_examples_encode_read_and_write(hook_examples, tmp_path, monkeypatch):
    from melodynet import Note, ReadOptions, Song, SongError, WriteOptions
    from melodynet.songs.files import read_songs

    songs = {path.stem: read_songs([path])[0] for path in SONGS.glob("*.txt")}
    # Only now: the process-wide registry must not pick up the example plugin.
    monkeypatch.syspath_prepend(str(hook_examples))
    import melodynet_doc_ex as ex

    for stem, song in songs.items():
        for note in song.notes:
            labels = ex.octave_labels(note)
            assert len(labels) == 3 and ex.octave_note(labels) == note
        out = tmp_path / f"{stem}.notes"
        ex.write_notes(song, out, WriteOptions())
        [back] = ex.read_notes(out, ReadOptions())
        assert back.notes == song.notes and back.title == stem
    (tmp_path / "bad.notes").write_text("67:1/2 g8\n")
    with pytest.raises(SongError, match="note 2: 'g8'"):
        ex.read_notes(tmp_path / "bad.notes", ReadOptions())
    assert ex.octave_note(("rest", "rest", "1/2")) == Note(None, Fraction(1, 2))
    assert isinstance(back, Song)


def test_a_plugin_reader_with_read_tunes_skips_only_the_bad_tune(
    hook_examples, tmp_path, monkeypatch
):
    """The example `.notes` reader, installed as a plugin, gets what the built-in ABC reader
    gets: collect keeps the good tunes of a file and skips only the bad one."""
    from melodynet import SongError, plugins
    from melodynet.songs.cache import SongCache
    from melodynet.songs.corpus import collect
    from melodynet.songs.files import read_songs

    monkeypatch.syspath_prepend(str(hook_examples))
    monkeypatch.setenv("MELODYNET_LOAD_PLUGINS", "doc-examples")
    loaded = plugins.load_registry()  # through entry points and pluggy, as installed
    monkeypatch.setattr(plugins, "_loaded", loaded)  # the process-wide one, for this test
    [plugin] = [p for p in loaded.plugins if p.name == "doc-examples"]
    assert plugin.status == "ok", plugin.error
    assert loaded.reader(".notes").read_tunes is not None

    book = tmp_path / "book.notes"
    tunes = ["60:1 62:1 64:1 65:1 67:1", "60:1 g8 64:1 65:1 67:1", "", "67:1 65:1 rest:1 64:1 60:2"]
    book.write_text("\n".join(tunes) + "\n")
    bad = f"{book} tune 2: note 2: 'g8' is not PITCH:DURATION"
    said = []
    result = collect([str(book)], say=said.append, cache=SongCache(None))
    assert [s.name for s in result.songs] == ["book#1", "book#3"]
    assert [len(s) for s in result.songs] == [5, 5]
    assert all(s.path == str(book) for s in result.songs)
    assert [(s.where, s.kind, s.message) for s in result.skips] == [
        (f"{book} tune 2", "unreadable", bad)
    ]
    assert said[0] == f"read 2 tunes from 1 file; skipped 1: 1 unreadable ({bad})"

    with pytest.raises(SongError, match=re.escape(f"{bad} (strict)")):
        collect([str(book)], strict=True, say=said.append, cache=SongCache(None))
    # `read` takes the file whole: the bad tune fails it
    with pytest.raises(SongError, match=re.escape(bad)):
        read_songs([book])


@pytest.mark.slow
def test_hook_examples_train_and_generate(hook_examples, tmp_path):
    """The example reader, encoding, model and writer together in one real run."""
    from melodynet.songs.files import read_songs

    [song] = read_songs([BUTTERFLY])
    (tmp_path / "butterfly.notes").write_text(" ".join(n.key for n in song.notes))
    # both commands in one process: TensorFlow starts once
    driver = (
        "import json, sys\n"
        "from melodynet.cli import cli\n"
        "from melodynet.plugins import registry\n"
        "registry(cli)\n"
        "for args in json.loads(sys.argv[1]):\n"
        "    cli.main(args, prog_name='melodynet', standalone_mode=False)\n"
    )
    commands = [
        ["train", "butterfly.notes", "--model", "stateful-simple-rnn"]
        + ["--encoding", "octave-split", "--epochs", "30", "--out", "b"],
        ["generate", "--model-dir", "b", "--seed", "4", "--out", "song.notes"],
    ]
    done = subprocess.run(
        [sys.executable, "-c", driver, json.dumps(commands)],
        cwd=tmp_path,
        env=_env(PYTHONPATH=_pythonpath(hook_examples), MELODYNET_MODELS=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    meta = json.loads((tmp_path / "b" / "melodynet.json").read_text())
    assert meta["encoding"] == "octave-split" and meta["model_plugin"] == "doc-examples"
    assert list(meta["vocabulary"]) == ["pitch_class", "octave", "duration"]
    generated = (tmp_path / "song.notes").read_text().split()
    assert len(generated) == len(song.notes)
    assert generated[:4] == [n.key for n in song.notes[:4]]
