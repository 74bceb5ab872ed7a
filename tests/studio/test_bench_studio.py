"""scripts/bench_studio.py runs and reports (no timing is asserted: it depends on the
machine)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_bench_studio_reports(tmp_path, small_bundle):
    out = tmp_path / "studio.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_studio.py"), "--bundle", str(small_bundle)]
        + ["--runs", "1", "--gen-runs", "2", "--no-browser", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(out.read_text())
    assert data["generated_notes"] == 68  # 4 of primer and 64 generated
    assert data["generate_round_trip"]["runs"] == 2
    assert data["page_load"]["first_s"] > 0
    assert len(data["load_average_before"]) == 3
    assert [t["met"] is not None for t in data["targets"]] == [True, True]
    assert "| generate 64 notes, constrained, median |" in done.stdout
