import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Parsed songs are cached by content; keep the tests' cache out of the user's ~/.cache.
os.environ.setdefault("MELODYNET_CACHE", tempfile.mkdtemp(prefix="melodynet-test-cache-"))

from melodynet.hookspecs import hookimpl  # noqa: E402 (after the environment it reads)

ROOT = Path(__file__).resolve().parents[1]
SONGS = ROOT / "songs"
BUTTERFLY = SONGS / "butterfly.txt"
# The song as the issue gives it, typed independently of songs/butterfly.txt.
BUTTERFLY_TOKENS = (
    "g8 e8 e4 f8 d8 d4 c8 d8 e8 f8 g8 g8 g4 g8 e8 e8 e8 f8 d8 d4 c8 e8 g8 g8 e8 e8 e4 "
    "d8 d8 d8 d8 d8 e8 f4 e8 e8 e8 e8 e8 f8 g4 g8 e8 e4 f8 d8 d4 c8 e8 g8 g8 e8 e8 e4"
).split()
# tinyNotation letter -> MIDI pitch in octave 4, and duration digit -> quarter lengths
LETTER_MIDI = {"c": 60, "d": 62, "e": 64, "f": 65, "g": 67, "a": 69, "b": 71}
DIGIT_QL = {"4": 1.0, "8": 0.5}


def butterfly_expected() -> list[tuple[int, float]]:
    """(MIDI pitch, quarter length) of each butterfly note, decoded by hand."""
    return [(LETTER_MIDI[t[0]], DIGIT_QL[t[1]]) for t in BUTTERFLY_TOKENS]


def needs_plugins(*distributions: str):
    """Skip (saying how to install them) unless the sibling plugin packages are installed."""
    from importlib.metadata import PackageNotFoundError, distribution

    missing = []
    for name in distributions:
        try:
            distribution(name)
        except PackageNotFoundError:
            missing.append(name)
    return pytest.mark.skipif(
        bool(missing),
        reason=f"needs the plugin packages {', '.join(missing)}: "
        + " ".join(f"pip install -e plugins/{name}" for name in missing),
    )


def one_line_error(result, *fragments):
    """The one 'Error:' line of a failed command, with no traceback; it holds ``fragments``."""
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


class Shelf:
    """A plugin shipping the bundles it is given (``register_bundles``)."""

    def __init__(self, *specs):
        self.specs = specs

    @hookimpl
    def register_bundles(self, register):
        for spec in self.specs:
            register(spec)


TRAINING_FIXTURES = {"butterfly_bundle", "half_trained", "weak_bundle", "single"}
"""Fixtures that train a model: a test using one is slow (``pytest -m "not slow"`` trains
nothing)."""


def pytest_collection_modifyitems(items):
    for item in items:
        if TRAINING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _fast_tests_train_nothing(request, monkeypatch):
    """A test not marked slow that trains a model in this process fails, saying so."""
    if request.node.get_closest_marker("slow") is None:
        from melodynet.training.loop import Trainer

        def refuse(*_args, **_kwargs):
            raise AssertionError("this test trains a model: mark it @pytest.mark.slow")

        monkeypatch.setattr(Trainer, "run", refuse)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh working directory, so models/ and outputs land in tmp."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MELODYNET_MODELS", raising=False)
    return tmp_path


@pytest.fixture
def runner():
    from click.testing import CliRunner

    from melodynet.cli import cli
    from melodynet.plugins import registry

    registry(cli)

    def invoke(*args, **kwargs):
        return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)

    return invoke


@pytest.fixture(scope="session")
def butterfly_bundle(tmp_path_factory):
    """One stateful LSTM trained on butterfly through the CLI, shared by read-only tests."""
    from click.testing import CliRunner

    from melodynet.cli import cli
    from melodynet.plugins import registry

    registry(cli)
    out = tmp_path_factory.mktemp("bundle") / "butterfly"
    result = CliRunner().invoke(cli, ["train", str(BUTTERFLY), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out
