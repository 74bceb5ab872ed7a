"""One test per hook, named after it (tests/test_hook_coverage.py requires the name): a
plugin implementing the hook is registered in this process, and melodynet uses what it
registered through the public API."""

from fractions import Fraction

import click
import pytest
from click.testing import CliRunner

import melodynet
from melodynet import (
    EncodingSpec,
    ModelConfig,
    ModelSpec,
    Note,
    ReaderSpec,
    Song,
    SongError,
    WriterSpec,
    hookimpl,
)
from melodynet import plugins as plugin_module
from tests.conftest import BUTTERFLY


@pytest.fixture
def with_plugin(monkeypatch):
    """Make the process-wide registry the built-ins plus the given plugin objects."""

    def install(*plugins, cli=None):
        registry = plugin_module.load_registry(cli, plugins=plugins)
        monkeypatch.setattr(plugin_module, "_loaded", registry)
        return registry

    return install


class TinyModel:
    @staticmethod
    def build(inputs, config: ModelConfig):
        from keras import layers

        return layers.Dense(config.units, activation="relu")(layers.Flatten()(inputs))

    @hookimpl
    def register_models(self, register):
        register(ModelSpec("tiny-dense", self.build, description="one Dense layer"))


def test_hook_register_models(with_plugin):
    from melodynet import network
    from melodynet.codec import Codec

    registry = with_plugin(TinyModel())
    spec = registry.model("tiny-dense")
    assert registry.model_plugin("tiny-dense").name == "TinyModel"
    [song] = melodynet.read(BUTTERFLY)
    codec = Codec.fit(registry.encoding("single"), [song])
    model = network.build(spec, ModelConfig(window=4, units=8), codec)
    assert model.input_shape == (None, 4, codec.feature_size)
    assert model.output["note"].shape[-1] == len(codec.vocabulary["note"])


class ByOctave:
    @staticmethod
    def labels(note):
        if note.pitch is None:
            return ("rest", str(note.duration))
        return (str(note.pitch // 12), f"{note.pitch % 12}:{note.duration}")

    @staticmethod
    def note(labels):
        octave, rest = labels
        if octave == "rest":
            return Note(None, Fraction(rest))
        pitch_class, duration = rest.split(":")
        return Note(int(octave) * 12 + int(pitch_class), Fraction(duration))

    @hookimpl
    def register_encodings(self, register):
        register(EncodingSpec("by-octave", ("octave", "class"), self.labels, self.note))


def test_hook_register_encodings(with_plugin):
    from melodynet.codec import Codec

    registry = with_plugin(ByOctave())
    [song] = melodynet.read(BUTTERFLY)
    codec = Codec.fit(registry.encoding("by-octave"), [song])
    assert codec.heads == ("octave", "class") and codec.vocabulary["octave"] == ["5"]
    assert codec.notes(codec.classes(song.notes)) == song.notes


class NotesFiles:
    """Songs as note keys ('67:1/2 64:1/2 ...'), read and written."""

    checked: list = []

    @staticmethod
    def read(path, options):
        try:
            notes = [Note.from_key(key) for key in path.read_text().split()]
        except ValueError as exc:
            raise SongError(f"{path}: not note keys ({exc})") from None
        return [Song(notes, title=path.stem)]

    @staticmethod
    def write(song, path, options):
        path.write_text(" ".join(n.key for n in song.notes))

    @classmethod
    def check(cls, path):
        cls.checked.append(path)

    @hookimpl
    def register_readers(self, register):
        register(ReaderSpec("notes", (".notes",), self.read, "note keys"))

    @hookimpl
    def register_writers(self, register):
        register(WriterSpec("notes", (".notes",), self.write, "note keys", check=self.check))


def test_hook_register_readers(with_plugin, tmp_path):
    with_plugin(NotesFiles())
    (tmp_path / "tune.notes").write_text("67:1/2 64:1/2 64:1 rest:1/2 65:1/2")
    [song] = melodynet.read(tmp_path / "tune.notes")
    assert [n.key for n in song.notes] == ["67:1/2", "64:1/2", "64:1", "rest:1/2", "65:1/2"]
    (tmp_path / "bad.notes").write_text("67:1/2 g8")
    with pytest.raises(SongError, match="bad.notes: not note keys"):
        melodynet.read(tmp_path / "bad.notes", strict=True)


def test_hook_register_writers(with_plugin, tmp_path):
    with_plugin(NotesFiles())
    song = Song.from_text("g8 e8 e4 r8 f8")
    song.write(tmp_path / "out.notes")
    assert (tmp_path / "out.notes").read_text() == "67:1/2 64:1/2 64:1 rest:1/2 65:1/2"
    assert NotesFiles.checked[-1] == tmp_path / "out.notes"
    assert [p.name for p in tmp_path.iterdir()] == ["out.notes"]  # no temporary left behind


class Hello:
    @hookimpl
    def register_commands(self, cli):
        @cli.command()
        @click.argument("name")
        def hello(name):
            """Say hello."""
            if name == "nobody":
                raise melodynet.OptionError("name must be somebody", option="name")
            click.echo(f"hello {name}")


def test_hook_register_commands(with_plugin):
    @click.group()
    def group():
        pass

    with_plugin(Hello(), cli=group)
    result = CliRunner().invoke(group, ["hello", "world"])
    assert result.exit_code == 0 and result.output == "hello world\n"

    from melodynet.cli import cli

    with_plugin(Hello(), cli=cli)
    assert "hello" in cli.commands
    try:
        failed = CliRunner().invoke(cli, ["hello", "nobody"])
        assert failed.exit_code == 1 and failed.output == "Error: --name must be somebody\n"
    finally:
        cli.commands.pop("hello")
