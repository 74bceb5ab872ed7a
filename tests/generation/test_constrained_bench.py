"""scripts/bench.py's constraints section: what it calls, and how its figures become ratios,
targets and table rows. No timing is asserted here: the script reports the figures."""

import sys

from melodynet.songs.song import Note, Song
from tests.conftest import ROOT


def _bench():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bench
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return bench


class Recorder:
    """Stands in for a loaded model: records each generate call, writes 3 notes per bar."""

    def __init__(self) -> None:
        self.calls = []

    def generate(self, primer, **options):
        self.calls.append(options)
        per_stream = options["length"] if "length" in options else 3 * options["bars"] * 4
        song = Song([Note(60, 1)] * (primer + per_stream))
        count = options.get("num_outputs", 1)
        return song if count == 1 else [song] * count


def test_constrained_and_unconstrained_calls_write_as_many_notes():
    bench = _bench()
    model = Recorder()
    figures = bench.constrained_rates(model, 2, (2, 8), repeats=2)
    constrained = [c for c in model.calls if "bars" in c]
    free = [c for c in model.calls if "length" in c]
    assert all(c["no_copy"] == 6 and c["form"] == "AABA" for c in constrained)
    assert not any(k in c for c in free for k in bench.CONSTRAINTS)
    assert all(c["temperature"] == 1.0 and c["num_outputs"] == 2 for c in model.calls)
    assert figures["notes"] == [2 * 24, 2 * 96]  # two streams, 3 notes x bars x 4 sections
    assert figures["unconstrained"]["lengths"] == [24, 96]
    assert len(free) == 2 * 2  # each size, each round, after the constrained warm-ups
    assert figures["notes_per_s"] > 0 and figures["unconstrained"]["notes_per_s"] > 0


def test_constraint_figures_become_ratios_targets_and_rows():
    bench = _bench()
    streams = bench.STREAMS
    figures = {
        "constraints": {
            "constraints": dict(bench.CONSTRAINTS),
            "streams_1": {
                "bars_per_section": [8, 64],
                "notes": [200, 1700],
                "notes_per_s": 4000,
                "unconstrained": {"notes_per_s": 10000},
            },
            f"streams_{streams}": {
                "bars_per_section": [2, 8],
                "notes": [14000, 56000],
                "notes_per_s": 60000,
                "unconstrained": {"notes_per_s": 100000},
            },
            "beam": {
                "width": 8,
                "bars": 32,
                "notes": 218,
                "best_s": 0.5,
                "all_s": [0.5, 0.6],
                "unconstrained_best_s": 0.2,
            },
        }
    }
    ratios = bench.compute_ratios(figures, {})
    assert ratios["constrained_1_stream_vs_unconstrained"] == 0.4
    assert ratios[f"constrained_{streams}_streams_vs_unconstrained"] == 0.6
    assert ratios["constrained_beam_vs_unconstrained"] == 0.4
    verdicts = {
        v["figure"]: v["met"]
        for v in bench.judge({"figures": figures, "ratios": ratios, "reference": {}})
    }
    assert verdicts["constraints.streams_1.notes_per_s"] is True  # 4,000 >= 2,500
    assert verdicts["ratios.constrained_1_stream_vs_unconstrained"] is False  # 0.4 < 0.5
    assert verdicts[f"ratios.constrained_{streams}_streams_vs_unconstrained"] is True
    assert verdicts["constraints.beam.best_s"] is True
    table = bench.table({"figures": figures, "reference": {}, "ratios": ratios})
    assert "4,000 notes/s; without constraints, same run: 10,000 notes/s" in table
    assert "0.4×" in table and "beam search 8 with every constraint, 32 bars" in table
