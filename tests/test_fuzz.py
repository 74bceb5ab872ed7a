"""A bounded run of the coverage-guided fuzzer on every reader and on bundle loading.

The run is seeded, so CI explores the same inputs every time (a finding reproduces instead
of turning CI red at random). Longer, unseeded runs find new things:
python scripts/fuzz.py TARGET --seconds 600.
"""

import subprocess
import sys
from pathlib import Path

import pytest

import melodynet

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fuzz.py"


@pytest.mark.slow
@pytest.mark.parametrize("target", ["midi", "musicxml", "abc", "text", "bundle"])
def test_fuzz_target_finds_no_crash(target, tmp_path):
    pytest.importorskip("atheris")
    result = subprocess.run(
        [
            *(sys.executable, str(SCRIPT), target, "--seconds", "6"),
            *("--corpus", str(tmp_path), "-seed=1"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done" in result.stderr


@pytest.fixture
def odd_reader(monkeypatch, tmp_path):
    """Install a reader for .odd files, as a plugin would; returns a setter for its code."""
    from melodynet import plugins

    monkeypatch.setenv("MELODYNET_CACHE", "off")

    def install(read, read_tunes=None):
        spec = melodynet.ReaderSpec("odd", (".odd",), read, read_tunes=read_tunes)
        fake = plugins.Registry(readers={".odd": plugins.Provided(spec, "odd-plugin")})
        monkeypatch.setattr(plugins, "_loaded", fake)
        path = tmp_path / "tunes.odd"
        path.write_text("anything")
        return path

    return install


def _tune(title):
    return melodynet.Song([melodynet.Note(60 + i, 1) for i in range(6)], title=title)


def test_a_reader_that_raises_is_a_crash_for_the_fuzzer(odd_reader):
    # melodynet.read never lets a reader's bug out: the fuzzer must see it in the skip.
    from scripts import fuzz

    def read(path, options):
        raise TypeError("the reader broke")

    path = odd_reader(read)
    with pytest.raises(fuzz.ReaderCrash, match=r"reader 'odd' failed \(TypeError: the reader"):
        fuzz.read_checked(path)


def test_a_reader_bug_after_good_tunes_is_a_crash_too(odd_reader):
    from scripts import fuzz

    def read_tunes(path, options):
        yield _tune("first")
        yield "not a song"

    path = odd_reader(lambda path, options: [], read_tunes)
    with pytest.raises(fuzz.ReaderCrash, match="reader 'odd' gave a str"):
        fuzz.read_checked(path)


def test_bad_input_is_not_a_crash(odd_reader):
    from scripts import fuzz

    def read_tunes(path, options):
        yield _tune("first")
        yield melodynet.SongError(f"{path} tune 2: not a melody")

    fuzz.read_checked(odd_reader(lambda path, options: [], read_tunes))

    def read(path, options):
        raise melodynet.SongError(f"{path}: line 1: not a note")

    fuzz.read_checked(odd_reader(read))
