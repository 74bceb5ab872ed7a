"""A bounded run of the coverage-guided fuzzer on every reader and on bundle loading.

The run is seeded, so CI explores the same inputs every time (a finding reproduces instead
of turning CI red at random). Longer, unseeded runs find new things:
python scripts/fuzz.py TARGET --seconds 600.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")
pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fuzz.py"


@pytest.mark.parametrize("target", ["midi", "musicxml", "abc", "text", "bundle"])
def test_fuzz_target_finds_no_crash(target, tmp_path):
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
