"""melodynet's performance benchmark, with the tutorial-style reference in the same run.

Measures every figure of the performance targets and prints them as a table of
figure / melodynet / reference / ratio / target, then writes all of it as JSON:

- start-up: `melodynet --help`, `melodynet models`, `melodynet plugins` (whole commands);
- time to learn: `melodynet train songs/butterfly.txt --model stateful-lstm`, the whole
  command, import included, checked to end with the song reproduced (full song 50/50),
  and its peak RSS;
- `melodynet generate --seed 4 --out song.mid` from the saved bundle (whole command);
- generation throughput through the Python API (``melodynet.load(...).predictor``, its
  continue_song after a warm-up):
  two lengths and the difference, 1 stream and 256 streams; and the same difference
  through the command line (`generate --length`), as a user would time it;
- the other built-in models (mlp, lstm, cnn): whole `train` command to their best
  one-step accuracy;
- the reference (../shared/reference/tutorial.py) with fewer epochs, extrapolated to its
  2000 epochs, and its per-note generation time (one model.predict per note).

Each command runs in its own temporary working directory (bundles under
$MELODYNET_MODELS there) and is timed from start to exit; peak RSS comes from wait4().
Times are min and median of several runs; targets are judged on the median.

    .venv/bin/python scripts/bench.py                 # about 5 minutes on 2 cores
    .venv/bin/python scripts/bench.py --quick         # about a minute
    .venv/bin/python scripts/bench.py --json out.json --no-reference
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # this process imports TensorFlow last

ROOT = Path(__file__).resolve().parents[1]
SONG = ROOT / "songs" / "butterfly.txt"
REFERENCE = ROOT.parent / "shared" / "reference" / "tutorial.py"
SECTIONS = ("startup", "train", "generate", "models", "throughput", "reference")
OTHER_MODELS = ("mlp", "lstm", "cnn")
STREAMS = 256
SONG_NOTES_GENERATED = 50  # butterfly has 54 notes; a 4-note primer leaves 50

# Issue 5's targets: (key in figures, comparison, bound, description)
TARGETS = [
    ("train_stateful.median_s", "<=", 10.0, "train butterfly stateful-lstm, whole command"),
    ("train_stateful.reproduced", "==", True, "the trained model plays butterfly back 50/50"),
    ("ratios.train_stateful_vs_reference", ">=", 40.0, "time to learn vs the reference"),
    ("train_stateful.peak_rss_mb", "<=", 1000.0, "peak RSS of the training run (MB, 1 GB)"),
    ("throughput.streams_1.notes_per_s", ">=", 5000.0, "notes/s, 1 stream (API)"),
    (f"throughput.streams_{STREAMS}.notes_per_s", ">=", 100000.0, f"notes/s, {STREAMS} streams"),
    ("startup.help.median_s", "<=", 0.5, "melodynet --help"),
    ("startup.models.median_s", "<=", 0.5, "melodynet models"),
    ("startup.plugins.median_s", "<=", 0.5, "melodynet plugins"),
    ("generate.median_s", "<=", 5.0, "melodynet generate, 54-note song, whole command"),
]


# ------------------------------------------------------------------ measuring commands
@dataclass
class Run:
    wall_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Timed:
    runs: list[Run] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.returncode == 0 for r in self.runs)

    def summary(self) -> dict:
        walls = [r.wall_s for r in self.runs]
        return {
            "runs": len(walls),
            "min_s": round(min(walls), 3),
            "median_s": round(statistics.median(walls), 3),
            "all_s": [round(w, 3) for w in walls],
            "peak_rss_mb": round(max(r.peak_rss_mb for r in self.runs), 1),
            "ok": self.ok,
        }


def run_command(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> Run:
    """Run to completion; wall time from spawn to reaped exit, peak RSS of that child."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            wall,
            usage.ru_maxrss * 1024 / 1e6,  # ru_maxrss is in KiB on Linux; MB = 10**6 bytes
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def melodynet_command() -> list[str]:
    script = Path(sys.executable).parent / "melodynet"
    return [str(script)] if script.exists() else [sys.executable, "-m", "melodynet"]


class Workspace:
    """A temporary working directory with songs/butterfly.txt and its own models/."""

    def __init__(self, base: Path, name: str) -> None:
        self.dir = base / name
        (self.dir / "songs").mkdir(parents=True)
        shutil.copy(SONG, self.dir / "songs" / SONG.name)
        self.env = {**os.environ, "MELODYNET_MODELS": str(self.dir / "models")}

    def run(self, args: list[str], timeout: float = 900) -> Run:
        return run_command(args, self.dir, self.env, timeout)


def timed(ws: Workspace, args: list[str], runs: int, check=None, label: str = "") -> Timed:
    result = Timed()
    for i in range(runs):
        r = ws.run(args)
        result.runs.append(r)
        note = "" if r.returncode == 0 else f"  FAILED rc={r.returncode}"
        log(f"  {label or ' '.join(args[-3:])} run {i + 1}/{runs}: {r.wall_s:.2f} s{note}")
        if r.returncode != 0:
            log("    " + (r.stderr.strip().splitlines() or ["(no stderr)"])[-1])
            break
        if check:
            check(r)
    return result


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ machine
def machine() -> dict:
    info: dict = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram_gb"] = round(int(line.split()[1]) / 1024**2, 1)
    with contextlib.suppress(OSError):
        quota = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota and quota[0] != "max":
            info["cgroup_cpus"] = round(int(quota[0]) / int(quota[1]), 2)
    versions = {}
    for dist in ("melodynet", "tensorflow", "tensorflow-cpu", "keras", "numpy", "music21"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[dist] = metadata.version(dist)
    info["versions"] = versions
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        info["git_commit"] = commit + ("+dirty" if dirty else "")
    return info


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ------------------------------------------------------------------ sections
def bench_startup(base: Path, runs: int) -> dict:
    log("start-up: melodynet --help / models / plugins")
    ws = Workspace(base, "startup")
    mn = melodynet_command()
    out = {}
    for name, args in (("help", ["--help"]), ("models", ["models"]), ("plugins", ["plugins"])):
        mn_args = mn + args
        ws.run(mn_args)  # warm the file cache once, as any second run would be
        out[name] = timed(ws, mn_args, runs, label=f"melodynet {args[0]}").summary()
    return out


def bundle_scores(bundle: Path) -> dict:
    meta = json.loads((bundle / "melodynet.json").read_text(encoding="utf-8"))
    song = (meta.get("metrics", {}).get("songs") or [{}])[0]
    return {
        "epochs_run": meta.get("epochs_run"),
        "stopped_early": meta.get("metrics", {}).get("stopped_early"),
        "one_step_accuracy": song.get("one_step_accuracy"),
        "one_step": f"{song.get('one_step_correct')}/{song.get('one_step_total')}",
        "full_song": f"{song.get('full_song_matches')}/{song.get('full_song_length')}",
        "reproduced": song.get("full_song_length") is not None
        and song.get("full_song_matches") == song.get("full_song_length"),
    }


def bench_train(base: Path, model: str, runs: int) -> tuple[dict, Path | None]:
    """The user's command, in a fresh directory per run (so nothing is reused)."""
    log(f"train: melodynet train songs/butterfly.txt --model {model}")
    result, scores, bundle = Timed(), [], None
    for i in range(runs):
        ws = Workspace(base, f"train-{model}-{i}")
        r = ws.run(melodynet_command() + ["train", "songs/butterfly.txt", "--model", model])
        result.runs.append(r)
        log(f"  run {i + 1}/{runs}: {r.wall_s:.2f} s, peak RSS {r.peak_rss_mb:.0f} MB")
        if r.returncode != 0:
            log("    " + (r.stderr.strip().splitlines() or ["(no stderr)"])[-1])
            break
        bundle = ws.dir / "models" / f"butterfly-{model}"
        scores.append(bundle_scores(bundle))
    summary = result.summary()
    if scores:
        summary.update(scores[0])
        summary["reproduced"] = all(s["reproduced"] for s in scores)
        summary["epochs_run_all"] = [s["epochs_run"] for s in scores]
    return summary, bundle


def bench_generate(base: Path, bundle: Path, runs: int, lengths: tuple[int, int] | None) -> dict:
    log("generate: melodynet generate --seed 4 --out song.mid")
    ws = Workspace(base, "generate")
    mn = melodynet_command() + ["generate", "--model-dir", str(bundle)]
    matched = []

    def check(r: Run) -> None:
        matched.append(f"{SONG_NOTES_GENERATED}/{SONG_NOTES_GENERATED}" in r.stderr)

    out = timed(ws, mn + ["--seed", "4", "--out", "song.mid"], runs, check, "generate").summary()
    out["plays_song_back"] = bool(matched) and all(matched)
    if lengths:
        # As a user would: two lengths, the difference in wall time.
        walls = {}
        for n in lengths:
            t = timed(
                ws,
                mn + ["--seed", "4", "--length", str(n), "--out", f"long{n}.txt"],
                max(1, runs // 2),
                label=f"generate --length {n}",
            )
            walls[n] = t.summary()
        a, b = lengths
        dt = walls[b]["min_s"] - walls[a]["min_s"]
        out["cli_lengths"] = {
            "lengths": list(lengths),
            **{f"length_{n}": w for n, w in walls.items()},
            "notes_per_s": round((b - a) / dt) if dt > 0 else None,
        }
        help_text = ws.run(melodynet_command() + ["generate", "--help"]).stdout
        out["cli_has_num_outputs"] = "--num-outputs" in help_text
    return out


def rate_of(predictor, primer, streams: int, short: int, long: int, repeats: int) -> dict:
    """notes/s from two lengths: streams × (long − short) / (t_long − t_short), best of runs."""
    t0 = time.perf_counter()
    predictor.continue_song(primer, 10, streams)  # first call: anything built lazily
    compile_s = time.perf_counter() - t0
    best = {}
    for n in (short, long):
        predictor.continue_song(primer, n, streams)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            notes = predictor.continue_song(primer, n, streams)
            times.append(time.perf_counter() - t0)
        assert notes.shape[:2] == (streams, n)
        best[n] = min(times)
    dt = best[long] - best[short]
    return {
        "lengths": [short, long],
        "best_s": {str(n): round(t, 4) for n, t in best.items()},
        "first_call_s": round(compile_s, 3),
        "notes_per_s": round(streams * (long - short) / dt) if dt > 0 else None,
        "notes_per_s_long_run": round(streams * long / best[long]),
    }


def bench_throughput(bundle: Path, others: dict[str, Path], quick: bool) -> dict:
    """In-process, through the API: warm up, then time two lengths and take the difference."""
    log(f"throughput: Predictor.continue_song, 1 and {STREAMS} streams")
    t0 = time.perf_counter()
    import melodynet

    trained = melodynet.load(bundle)
    loaded_s = time.perf_counter() - t0
    predictor, codec = trained.predictor, trained.codec
    classes = codec.classes(trained.songs[0].notes)
    primer = classes[:4]

    t0 = time.perf_counter()
    first = predictor.continue_song(primer, SONG_NOTES_GENERATED)
    first_call_s = time.perf_counter() - t0
    out: dict = {
        "import_and_load_s": round(loaded_s, 3),
        "first_call_50_notes_s": round(first_call_s, 3),
        "reproduces_song": bool((first[0] == classes[4:]).all()),
    }
    plans = {
        1: (1000, 5000) if quick else (2000, 20000),
        STREAMS: (200, 1000) if quick else (500, 5000),
    }
    repeats = 2 if quick else 3
    for streams, (short, long) in plans.items():
        out[f"streams_{streams}"] = rate_of(predictor, primer, streams, short, long, repeats)
        log(f"  {streams} stream(s): {fmt(out[f'streams_{streams}']['notes_per_s'])} notes/s")
    for model, path in others.items():
        other = melodynet.load(path)
        primer = other.codec.classes(other.songs[0].notes)[:4]
        out[model] = {"streams_1": rate_of(other.predictor, primer, 1, 1000, 5000, 2)}
        log(f"  {model}, 1 stream: {fmt(out[model]['streams_1']['notes_per_s'])} notes/s")
    return out


def bench_reference(base: Path, script: Path, kind: str, epochs: int) -> dict:
    log(f"reference: tutorial.py {kind} --epochs {epochs}")
    ws = Workspace(base, f"reference-{kind}")
    r = ws.run([sys.executable, str(script), kind, "--epochs", str(epochs)], timeout=1800)
    if r.returncode != 0:
        log("  FAILED: " + (r.stderr.strip().splitlines() or ["(no stderr)"])[-1])
        return {"ok": False, "error": r.stderr[-2000:]}
    rec = json.loads(r.stdout[r.stdout.index("{") :])
    gen_s = rec["full_song_gen_s_predict"]
    out = {
        "ok": True,
        "epochs": epochs,
        "wall_s": round(r.wall_s, 2),
        "peak_rss_mb": round(r.peak_rss_mb, 1),
        "train_s": rec["train_s"],
        "first_epoch_s": rec["first_epoch_s"],
        "steady_s_per_epoch": rec["steady_s_per_epoch"],
        "extrapolated_2000_epoch_s": rec["extrapolated_2000_epoch_s"],
        "one_step_acc": rec["one_step_acc"],
        "full_song_matches_of_50": rec["full_song_matches_of_50"],
        "gen_50_notes_predict_s": gen_s,
        "gen_50_notes_direct_call_s": rec["full_song_gen_s_direct_call"],
        "notes_per_s_predict": round(50 / gen_s, 2) if gen_s else None,
        "predict_ms_median": rec.get("predict_ms_median"),
        "call_ms_median": rec.get("call_ms_median"),
    }
    log(
        f"  {rec['steady_s_per_epoch']:.3f} s/epoch → {rec['extrapolated_2000_epoch_s']:.0f} s "
        f"for 2000 epochs; {1000 * gen_s / 50:.0f} ms/note"
    )
    return out


def reference_import(base: Path, runs: int) -> dict:
    ws = Workspace(base, "reference-import")
    return timed(ws, [sys.executable, "-c", "import keras"], runs, label="import keras").summary()


# ------------------------------------------------------------------ report
def lookup(data: dict, dotted: str):
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def ratio(a, b) -> float | None:
    return round(a / b, 1) if a and b else None


def compute_ratios(figures: dict, reference: dict) -> dict:
    out = {}
    ref = reference.get("stateful", {})
    train = figures.get("train_stateful", {})
    if ref.get("ok") and train.get("ok"):
        # the reference's 2000 epochs (training only) vs melodynet's whole command
        out["train_stateful_vs_reference"] = ratio(
            ref["extrapolated_2000_epoch_s"], train["median_s"]
        )
    ref_rate = ref.get("notes_per_s_predict") if ref.get("ok") else None
    for streams in (1, STREAMS):
        rate = lookup(figures, f"throughput.streams_{streams}.notes_per_s")
        if rate and ref_rate:
            out[f"generation_{streams}_streams_vs_reference"] = ratio(rate, ref_rate)
    gen = figures.get("generate", {})
    if ref.get("ok") and gen.get("ok"):
        # a whole generate command vs the reference's 50 model.predict calls + TF import
        imp = reference.get("import", {}).get("median_s")
        if imp:
            out["generate_command_vs_reference"] = ratio(
                imp + ref["gen_50_notes_predict_s"], gen["median_s"]
            )
    for model in ("mlp", "lstm"):
        r, m = reference.get(model, {}), figures.get("models", {}).get(model, {})
        if r.get("ok") and m.get("ok"):
            out[f"train_{model}_vs_reference"] = ratio(
                r["extrapolated_2000_epoch_s"], m["median_s"]
            )
    return out


def judge(results: dict) -> list[dict]:
    verdicts = []
    data = {**results["figures"], "ratios": results["ratios"]}
    for key, op, bound, what in TARGETS:
        value = lookup(data, key)
        if value is None:
            met = None
        elif op == "<=":
            met = value <= bound
        elif op == ">=":
            met = value >= bound
        else:
            met = value == bound
        verdicts.append(
            {"figure": key, "what": what, "value": value, "target": f"{op} {bound}", "met": met}
        )
    return verdicts


def fmt(value, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float) and value >= 1000 or isinstance(value, int) and value >= 1000:
        return f"{value:,.0f}{unit}"
    if isinstance(value, float):
        return f"{value:.3g}{unit}" if value < 10 else f"{value:.1f}{unit}"
    return f"{value}{unit}"


def table(results: dict) -> str:
    f, ref, ratios = results["figures"], results["reference"], results["ratios"]
    rows = []

    def row(name, mn, reference="-", rat="-", target="-"):
        rows.append((name, mn, reference, rat, target))

    for name in ("help", "models", "plugins"):
        s = lookup(f, f"startup.{name}")
        if s:
            cmd = "--help" if name == "help" else name
            row(
                f"`melodynet {cmd}` (min / median)",
                f"{fmt(s['min_s'])} / {fmt(s['median_s'])} s",
                target="≤ 0.5 s",
            )
    t = f.get("train_stateful")
    if t:
        rs = ref.get("stateful", {})
        row(
            "train butterfly, stateful-lstm, whole command (min / median)",
            f"{fmt(t['min_s'])} / {fmt(t['median_s'])} s, {t.get('epochs_run')} epochs, "
            f"full song {t.get('full_song')}",
            f"{fmt(rs.get('extrapolated_2000_epoch_s'))} s (2000 epochs)" if rs.get("ok") else "-",
            f"{fmt(ratios.get('train_stateful_vs_reference'))}×",
            "≤ 10 s, ≥ 40×, 50/50",
        )
        row(
            "peak RSS of that training run",
            f"{fmt(t['peak_rss_mb'])} MB",
            f"{fmt(rs.get('peak_rss_mb'))} MB" if rs.get("ok") else "-",
            target="≤ 1000 MB",
        )
    g = f.get("generate")
    if g:
        rs = ref.get("stateful", {})
        imp = lookup(ref, "import.median_s")
        ref_gen = (imp + rs["gen_50_notes_predict_s"]) if rs.get("ok") and imp else None
        row(
            "`melodynet generate` 54-note song, whole command (min / median)",
            f"{fmt(g['min_s'])} / {fmt(g['median_s'])} s",
            f"{fmt(ref_gen)} s (import + 50 predict)" if ref_gen else "-",
            f"{fmt(ratios.get('generate_command_vs_reference'))}×",
            "≤ 5 s",
        )
        cli = g.get("cli_lengths")
        if cli:
            a, b = cli["lengths"]
            row(
                f"`generate --length {b}` − `--length {a}` (CLI, 1 stream)",
                f"{fmt(cli['notes_per_s'])} notes/s",
            )
    th = f.get("throughput")
    if th:
        rs = ref.get("stateful", {})
        for streams in (1, STREAMS):
            s = th.get(f"streams_{streams}")
            if s:
                row(
                    f"generation, {streams} stream{'s' * (streams > 1)} (API, "
                    f"{s['lengths'][1]}−{s['lengths'][0]} notes)",
                    f"{fmt(s['notes_per_s'])} notes/s",
                    f"{fmt(rs.get('notes_per_s_predict'))} notes/s" if rs.get("ok") else "-",
                    f"{fmt(ratios.get(f'generation_{streams}_streams_vs_reference'))}×",
                    "≥ 5,000" if streams == 1 else "≥ 100,000",
                )
        row(
            "first generation call (build + compile, 50 notes)",
            f"{fmt(th['first_call_50_notes_s'])} s",
        )
    for model, m in f.get("models", {}).items():
        r = ref.get(model, {})
        row(
            f"train butterfly, {model}, whole command (min / median)",
            f"{fmt(m['min_s'])} / {fmt(m['median_s'])} s, {m.get('epochs_run')} epochs, "
            f"one-step {m.get('one_step')}",
            f"{fmt(r.get('extrapolated_2000_epoch_s'))} s (2000 epochs)" if r.get("ok") else "-",
            f"{fmt(ratios.get(f'train_{model}_vs_reference'))}×" if r.get("ok") else "-",
        )
        gen = lookup(f, f"throughput.{model}.streams_1")
        if gen:
            row(
                f"generation, {model}, 1 stream (API, "
                f"{gen['lengths'][1]}−{gen['lengths'][0]} notes)",
                f"{fmt(gen['notes_per_s'])} notes/s",
            )
    head = ("figure", "melodynet", "reference", "ratio", "target")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a one-minute version")
    parser.add_argument("--json", default="bench.json", help="where to write the results")
    parser.add_argument("--runs", type=int, default=None, help="runs per timed command")
    parser.add_argument("--no-reference", action="store_true", help="skip the tutorial runs")
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="tutorial.py")
    parser.add_argument(
        "--reference-epochs",
        type=int,
        default=None,
        help="epochs for the reference (default 100; --quick 20)",
    )
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)}",
    )
    parser.add_argument(
        "--bundle",
        type=Path,
        default=None,
        help="use this stateful-lstm bundle for generate/throughput "
        "instead of the one the train section makes",
    )
    args = parser.parse_args(argv)

    reference_script = args.reference
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if args.no_reference:
        sections.discard("reference")
    if "reference" in sections and not reference_script.exists():
        log(f"reference {reference_script} not found: skipping it")
        sections.discard("reference")
    if args.quick and args.sections == ",".join(SECTIONS):
        sections.discard("models")  # a minute is not enough for three more trainings
    runs = args.runs or (2 if args.quick else 5)
    train_runs = args.runs or (1 if args.quick else 3)
    ref_epochs = args.reference_epochs or (20 if args.quick else 100)

    results: dict = {
        "benchmark": "melodynet scripts/bench.py",
        "mode": "quick" if args.quick else "full",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "load_average_before": loadavg(),
        "settings": {
            "runs": runs,
            "train_runs": train_runs,
            "reference_epochs": ref_epochs,
            "sections": sorted(sections),
        },
        "figures": {},
        "reference": {},
    }
    started = time.perf_counter()
    figures, reference = results["figures"], results["reference"]
    with tempfile.TemporaryDirectory(prefix="melodynet-bench-") as tmp:
        base = Path(tmp)
        if "startup" in sections:
            figures["startup"] = bench_startup(base, runs)
        bundle, other_bundles = args.bundle, {}
        if "train" in sections:
            figures["train_stateful"], made = bench_train(base, "stateful-lstm", train_runs)
            bundle = bundle or made
        if ("generate" in sections or "throughput" in sections) and bundle is None:
            log("no bundle: training one for generate/throughput")
            _, bundle = bench_train(base, "stateful-lstm", 1)
        if "generate" in sections and bundle:
            lengths = None if args.quick else (2000, 20000)
            figures["generate"] = bench_generate(base, bundle, runs, lengths)
        if "models" in sections:
            figures["models"] = {}
            for model in OTHER_MODELS:
                figures["models"][model], other_bundles[model] = bench_train(
                    base, model, max(1, train_runs - 1)
                )
        if "reference" in sections:
            reference["import"] = reference_import(base, 3 if args.quick else 5)
            reference["stateful"] = bench_reference(base, reference_script, "stateful", ref_epochs)
            if not args.quick:
                for model in ("mlp", "lstm"):
                    reference[model] = bench_reference(base, reference_script, model, ref_epochs)
        if "throughput" in sections and bundle:
            # last: it imports TensorFlow into this process
            others = {m: b for m, b in other_bundles.items() if b is not None}
            figures["throughput"] = bench_throughput(bundle, others, args.quick)
    results["ratios"] = compute_ratios(figures, reference)
    results["targets"] = judge(results)
    results["load_average_after"] = loadavg()
    results["bench_wall_s"] = round(time.perf_counter() - started, 1)

    m = results["machine"]
    print(
        f"\nmelodynet bench ({results['mode']}), {m.get('cpu_model', '?')}, "
        f"{m.get('cpus_usable')} usable cores, {m.get('ram_gb')} GB RAM, Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    )
    print(
        f"load average before {results['load_average_before']}, "
        f"after {results['load_average_after']}; {results['bench_wall_s']} s in all\n"
    )
    print(table(results))
    print("\ntargets:")
    for v in results["targets"]:
        mark = {True: "met", False: "NOT MET", None: "not measured"}[v["met"]]
        print(f"  {mark:12} {v['what']}: {fmt(v['value'])} (target {v['target']})")
    Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
