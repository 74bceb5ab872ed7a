import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Parsed songs are cached by content; keep the tests' cache out of the user's ~/.cache.
os.environ.setdefault("MELODYNET_CACHE", tempfile.mkdtemp(prefix="melodynet-test-cache-"))

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
