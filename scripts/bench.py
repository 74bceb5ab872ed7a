"""melodynet's performance benchmark, with the tutorial-style reference in the same run.

Measures every figure of the performance targets and prints them as a table of
figure / melodynet / reference / ratio / target, then writes all of it as JSON:

- start-up: `melodynet --help`, `melodynet models`, `melodynet plugins` (whole commands);
- time to learn: `melodynet train songs/butterfly.txt --model stateful-lstm`, the whole
  command, import included, checked to end with the song reproduced (full song 50/50),
  and its peak RSS;
- `melodynet generate --seed 4 --out song.mid` from the saved bundle (whole command), and
  whether that command imported TensorFlow (one more run under ``-X importtime``);
- generation throughput through the Python API (``melodynet.load(...).predictor``, its
  continue_song after a warm-up):
  two lengths and the difference, 1 stream and 256 streams; and the same difference
  through the command line (`generate --length`), as a user would time it;
- generation under constraints (issue 14) through ``Model.generate``: every constraint on
  (key, meter and bars, range, end on the tonic, form AABA, no-copy) against the same
  calls without constraints, interleaved in the same process and run, as ratios: sampled
  notes/s for 1 and 256 streams (whole calls, best of runs, and the difference of two
  sizes; the unconstrained calls write as many notes), and one beam search of width 8
  over 32 bars against an unconstrained one of as many notes;
- the other built-in models (mlp, lstm, cnn): whole `train` command to their best
  one-step accuracy;
- the reference (../shared/reference/tutorial.py) with fewer epochs, extrapolated to its
  2000 epochs, and its per-note generation time (one model.predict per note);
- corpus (opt-in, not in the default sections; about 5 minutes per side): training
  throughput of stateful-lstm and lstm on essenFolksong, notes/s of the second epoch, and
  peak RSS, through scripts/bench_corpus.py's train worker (the songs must be in the cache:
  see --corpus-cache).

``--against DIR`` measures another checkout of melodynet (an older commit, made with
``git worktree add DIR COMMIT`` or ``git archive COMMIT | tar -x -C DIR``) in the same
run: its commands run as ``python -m melodynet`` with ``PYTHONPATH=DIR`` in this venv (and
this checkout's as ``python -m melodynet`` with ``PYTHONPATH`` at this checkout), each
side's ``melodynet.__file__`` is checked before anything is timed, and the start-up,
train, generate and corpus commands alternate between the two sides run by run, so the
machine's load falls on both alike. Bundles a side trains are generated from by the same
side. A second table gives both sides and the speed-up of this checkout (the other
side's time over this one's; for rates this one's over the other's: above 1, this
checkout is faster).

Each command runs in its own temporary working directory (bundles under
$MELODYNET_MODELS there) and is timed from start to exit; peak RSS comes from wait4().
Times are min and median of several runs; targets are judged on the median.

    .venv/bin/python scripts/bench.py                 # about 5 minutes on 2 cores
    .venv/bin/python scripts/bench.py --quick         # about a minute
    .venv/bin/python scripts/bench.py --json out.json --no-reference
    git archive 38071a1 | (mkdir -p /tmp/melodynet-38071a1 && tar -x -C /tmp/melodynet-38071a1)
    .venv/bin/python scripts/bench.py --against /tmp/melodynet-38071a1 \\
        --sections startup,train,generate,throughput
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # this process imports TensorFlow last

ROOT = Path(__file__).resolve().parents[1]
SONG = ROOT / "songs" / "butterfly.txt"
REFERENCE = ROOT.parent / "shared" / "reference" / "tutorial.py"
SECTIONS = (
    "startup",
    "train",
    "generate",
    "models",
    "throughput",
    "constraints",
    "reference",
    "corpus",
)
DEFAULT_SECTIONS = tuple(s for s in SECTIONS if s != "corpus")  # corpus: opt-in, minutes
OTHER_MODELS = ("mlp", "lstm", "cnn")
STREAMS = 256
SONG_NOTES_GENERATED = 50  # butterfly has 54 notes; a 4-note primer leaves 50
CORPUS = "corpus:essenFolksong"
CORPUS_MODELS = ("stateful-lstm", "lstm")
CORPUS_EPOCHS = 2  # notes/s of the second epoch: the first one also builds the graph
# Issue 14's constraints, all on at once, in butterfly's key and meter: the constraints
# section's melodies. The form's sections have `bars` bars each: bars=8 is 32 bars.
CONSTRAINTS = {
    "key": "C",
    "meter": "4/4",
    "range": "C4-C6",
    "end": "tonic",
    "form": "AABA",
    "no_copy": 6,
}
CONSTRAINED_BEAM = 8
CONSTRAINED_BEAM_BARS = 8  # per section: 32 bars
SAMPLED = {"temperature": 1.0, "random_seed": 4}

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
    ("generate.median_s", "<=", 1.0, "melodynet generate, 54-note song, whole command"),
    # Issue 14's: every constraint on, through Model.generate, against the same calls
    # without constraints in the same run
    ("constraints.streams_1.notes_per_s", ">=", 2500.0, "constrained notes/s, 1 stream"),
    (
        f"constraints.streams_{STREAMS}.notes_per_s",
        ">=",
        50000.0,
        f"constrained notes/s, {STREAMS} streams",
    ),
    (
        "ratios.constrained_1_stream_vs_unconstrained",
        ">=",
        0.5,
        "constrained / unconstrained notes/s, 1 stream",
    ),
    (
        f"ratios.constrained_{STREAMS}_streams_vs_unconstrained",
        ">=",
        0.5,
        f"constrained / unconstrained notes/s, {STREAMS} streams",
    ),
    (
        "constraints.beam.best_s",
        "<=",
        2.0,
        f"constrained beam search, width {CONSTRAINED_BEAM}, 32 bars (s)",
    ),
    # Issue 17's, judged when measured (the speed-ups need --against 38071a1)
    ("generate.tensorflow_imported", "==", False, "melodynet generate imports no TensorFlow"),
    ("ratios.generate_vs_against", ">=", 4.0, "generate, speed-up over --against"),
    ("ratios.train_stateful_vs_against", ">=", 1.0, "train butterfly, no slower than --against"),
    ("against.train_stateful.reproduced", "==", True, "--against plays butterfly back 50/50"),
    *(
        target
        for model in CORPUS_MODELS
        for target in (
            (
                f"ratios.corpus_{model}_vs_against",
                ">=",
                1.5,
                f"{model} training notes/s on the corpus, speed-up over --against",
            ),
            (
                f"ratios.corpus_{model}_rss_vs_against",
                "<=",
                1.0,
                f"{model} training peak RSS on the corpus, this / --against",
            ),
        )
    ),
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


@dataclass(frozen=True)
class Side:
    """A melodynet whose commands are timed: this checkout, or the one given to --against.

    ``source`` None: the installed ``melodynet`` command (no --against, as before). Else
    ``python -m melodynet`` with ``source`` first on PYTHONPATH, so that it is imported
    from there and not from the venv's editable install (``check_sides`` makes sure)."""

    name: str  # "this" or "against": the key in the JSON
    label: str  # for people: a commit, or the directory's name
    source: Path | None = None

    def command(self) -> list[str]:
        return melodynet_command() if self.source is None else [sys.executable, "-m", "melodynet"]

    def environ(self, env: dict[str, str]) -> dict[str, str]:
        if self.source is None:
            return env
        path = [str(self.source)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        return {**env, "PYTHONPATH": os.pathsep.join(path)}


THIS = Side("this", "this checkout")


class Workspace:
    """A temporary working directory with songs/butterfly.txt and its own models/."""

    def __init__(self, base: Path, name: str, side: Side = THIS) -> None:
        self.dir = base / name
        self.side = side
        (self.dir / "songs").mkdir(parents=True)
        shutil.copy(SONG, self.dir / "songs" / SONG.name)
        self.env = side.environ({**os.environ, "MELODYNET_MODELS": str(self.dir / "models")})

    def run(self, args: list[str], timeout: float = 900, env: dict | None = None) -> Run:
        return run_command(args, self.dir, {**self.env, **(env or {})}, timeout)

    def melodynet(self, args: list[str], timeout: float = 900, env: dict | None = None) -> Run:
        return self.run(self.side.command() + args, timeout, env)


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


def interleaved(
    sides: list[Side], runs: int, run_one, label: str, start: int = 0
) -> dict[str, Timed]:
    """``run_one(side, i) -> Run`` for repetitions i = 0, 1, ... of every side, alternating
    which side goes first (this, against; against, this; ...; from the other side when
    ``start`` is odd), so that whatever else loads the machine meanwhile falls on both
    sides alike. A side stops at its first failure."""
    results = {side.name: Timed() for side in sides}
    for i in range(runs):
        for side in sides if (i + start) % 2 == 0 else sides[::-1]:
            result = results[side.name]
            if not result.ok and result.runs:
                continue
            r = run_one(side, i)
            result.runs.append(r)
            note = "" if r.returncode == 0 else f"  FAILED rc={r.returncode}"
            who = f" [{side.label}]" if len(sides) > 1 else ""
            log(f"  {label}{who} run {i + 1}/{runs}: {r.wall_s:.2f} s{note}")
            if r.returncode != 0:
                log("    " + (r.stderr.strip().splitlines() or ["(no stderr)"])[-1])
    return results


WHERE_FROM = "import melodynet; print(melodynet.__file__)"


def check_sides(base: Path, sides: list[Side]) -> dict:
    """Which melodynet each side's commands import (``melodynet.__file__``), asked the same
    way its commands run. Stops the benchmark, before anything is timed, when a side's
    source is not the one it imports: with --against DIR, an import from this checkout's
    editable install instead of DIR would compare the code with itself."""
    out = {}
    for side in sides:
        ws = Workspace(base, f"where-{side.name}", side)
        r = ws.run([sys.executable, "-c", WHERE_FROM])
        if r.returncode != 0:
            raise SystemExit(
                f"bench.py: {side.label}: `import melodynet` failed with PYTHONPATH="
                f"{side.source}: " + (r.stderr.strip().splitlines() or ["?"])[-1]
            )
        where = Path(r.stdout.split()[0]).resolve()
        expected = (side.source or ROOT).resolve()
        out[side.name] = {
            "label": side.label,
            "source": str(side.source) if side.source else None,
            "command": " ".join(Path(c).name if c == sys.executable else c for c in side.command()),
            "melodynet_file": str(where),
            "git_commit": git_commit(expected),
        }
        log(f"{side.name}: {side.label} imports melodynet from {where}")
        if not where.is_relative_to(expected):
            message = (
                f"bench.py: {side.name} ({side.label}) imports melodynet from {where}, "
                f"not from {expected}"
            )
            if side.source is not None:
                raise SystemExit(message + ": the comparison would be meaningless")
            log("  WARNING: " + message[len("bench.py: ") :])
    return out


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
    threads = (
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
    )
    info["thread_settings"] = {k: os.environ[k] for k in threads if k in os.environ}
    commit = git_commit(ROOT)
    if commit:
        info["git_commit"] = commit
    return info


def git_commit(directory: Path) -> str | None:
    """The short commit of a git checkout (``+dirty`` with uncommitted changes to tracked
    files), or None (not a checkout of its own, as a ``git archive`` copy)."""
    if not (directory / ".git").exists():
        return None
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    return None


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ------------------------------------------------------------------ sections
def bench_startup(base: Path, runs: int, sides: list[Side]) -> dict[str, dict]:
    log("start-up: melodynet --help / models / plugins")
    spaces = {side.name: Workspace(base, f"startup-{side.name}", side) for side in sides}
    out: dict[str, dict] = {side.name: {} for side in sides}
    for name, args in (("help", ["--help"]), ("models", ["models"]), ("plugins", ["plugins"])):
        for side in sides:
            spaces[side.name].melodynet(args)  # warm the file cache once, as any second run
        timings = interleaved(
            sides,
            runs,
            lambda side, _i, args=args: spaces[side.name].melodynet(args),
            f"melodynet {args[0]}",
        )
        for side in sides:
            out[side.name][name] = timings[side.name].summary()
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


def bench_train(
    base: Path, model: str, runs: int, sides: list[Side] = (THIS,)
) -> dict[str, tuple[dict, Path | None]]:
    """The user's command, in a fresh directory per run (so nothing is reused); with two
    sides, their runs alternate. {side: (summary, the last bundle it made)}."""
    log(f"train: melodynet train songs/butterfly.txt --model {model}")
    sides = list(sides)
    scores: dict[str, list[dict]] = {side.name: [] for side in sides}
    bundles: dict[str, Path | None] = {side.name: None for side in sides}

    def run_one(side: Side, i: int) -> Run:
        ws = Workspace(base, f"train-{model}-{side.name}-{i}", side)
        r = ws.melodynet(["train", "songs/butterfly.txt", "--model", model])
        if r.returncode == 0:
            log(f"    peak RSS {r.peak_rss_mb:.0f} MB")
            bundle = ws.dir / "models" / f"butterfly-{model}"
            scores[side.name].append(bundle_scores(bundle))
            bundles[side.name] = bundle
        return r

    timings = interleaved(sides, runs, run_one, f"train {model}")
    out = {}
    for side in sides:
        summary = timings[side.name].summary()
        done = scores[side.name]
        if done:
            summary.update(done[0])
            summary["reproduced"] = all(s["reproduced"] for s in done)
            summary["epochs_run_all"] = [s["epochs_run"] for s in done]
        out[side.name] = (summary, bundles[side.name])
    return out


def imported_modules(stderr: str) -> set[str]:
    """The modules a process imported, from its ``-X importtime`` lines on stderr."""
    modules = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                modules.add(name)
    return modules


def import_check(ws: Workspace, args: list[str]) -> dict:
    """One more, untimed run of a command under ``-X importtime``: did it import TensorFlow
    (or Keras)? The timed runs are left as they are; this one only lists imports."""
    r = ws.melodynet(args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    modules = imported_modules(r.stderr)
    if r.returncode != 0 or not modules:
        return {"tensorflow_imported": None, "keras_imported": None}

    def has(package: str) -> bool:
        return any(m == package or m.startswith(package + ".") for m in modules)

    return {
        "tensorflow_imported": has("tensorflow"),
        "keras_imported": has("keras"),
        "modules_imported": len(modules),
    }


def bench_generate(
    base: Path,
    bundles: dict[str, Path],
    runs: int,
    lengths: tuple[int, int] | None,
    sides: list[Side] = (THIS,),
) -> dict[str, dict]:
    """``generate`` from each side's own bundle, the sides' runs alternating."""
    log("generate: melodynet generate --seed 4 --out song.mid")
    sides = [side for side in sides if bundles.get(side.name)]
    spaces = {side.name: Workspace(base, f"generate-{side.name}", side) for side in sides}
    matched: dict[str, list[bool]] = {side.name: [] for side in sides}

    def generate(side: Side, args: list[str]) -> Run:
        model_dir = ["generate", "--model-dir", str(bundles[side.name])]
        return spaces[side.name].melodynet(model_dir + args)

    def song(side: Side, _i: int) -> Run:
        r = generate(side, ["--seed", "4", "--out", "song.mid"])
        matched[side.name].append(f"{SONG_NOTES_GENERATED}/{SONG_NOTES_GENERATED}" in r.stderr)
        return r

    timings = interleaved(sides, runs, song, "generate")
    out = {}
    for side in sides:
        out[side.name] = timings[side.name].summary()
        out[side.name]["plays_song_back"] = bool(matched[side.name]) and all(matched[side.name])
        model_dir = ["generate", "--model-dir", str(bundles[side.name])]
        checked = import_check(spaces[side.name], model_dir + ["--seed", "4", "--out", "song.mid"])
        out[side.name].update(checked)
        log(f"  [{side.label}] TensorFlow imported: {yes_no(checked['tensorflow_imported'])}")
    if lengths:
        # As a user would: two lengths, the difference in wall time.
        walls: dict[str, dict] = {side.name: {} for side in sides}
        for n in lengths:
            args = ["--seed", "4", "--length", str(n), "--out", f"long{n}.txt"]
            timings = interleaved(
                sides,
                max(1, runs // 2),
                lambda side, _i, args=args: generate(side, args),
                f"generate --length {n}",
            )
            for side in sides:
                walls[side.name][n] = timings[side.name].summary()
        a, b = lengths
        for side in sides:
            w = walls[side.name]
            dt = w[b]["min_s"] - w[a]["min_s"]
            out[side.name]["cli_lengths"] = {
                "lengths": list(lengths),
                **{f"length_{n}": t for n, t in w.items()},
                "notes_per_s": round((b - a) / dt) if dt > 0 else None,
            }
            help_text = spaces[side.name].melodynet(["generate", "--help"]).stdout
            out[side.name]["cli_has_num_outputs"] = "--num-outputs" in help_text
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

    if hasattr(melodynet, "load"):
        load = melodynet.load
    else:  # --against a checkout from before the public API (such as 38071a1)
        load = importlib.import_module("melodynet.trained").load
    trained = load(bundle)
    loaded_s = time.perf_counter() - t0
    predictor, codec = trained.predictor, trained.codec
    classes = codec.classes(trained.songs[0].notes)
    primer = classes[:4]

    t0 = time.perf_counter()
    first = predictor.continue_song(primer, SONG_NOTES_GENERATED)
    first_call_s = time.perf_counter() - t0
    out: dict = {
        "melodynet_file": melodynet.__file__,
        "import_and_load_s": round(loaded_s, 3),
        "first_call_50_notes_s": round(first_call_s, 3),
        "reproduces_song": bool((first[0] == classes[4:]).all()),
        # the numpy network, or Keras through TensorFlow (every predictor before numpy's)
        "predictor_uses_tensorflow": getattr(predictor, "uses_tensorflow", True),
        "tensorflow_imported": "tensorflow" in sys.modules,  # by this process, so far
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


PRIMER_NOTES = 4


def _generated(call) -> tuple[float, int]:
    """(seconds, notes written after the primer) of one ``Model.generate`` call."""
    t0 = time.perf_counter()
    songs = call()
    seconds = time.perf_counter() - t0
    songs = songs if isinstance(songs, list) else [songs]
    return seconds, sum(len(song.notes) - PRIMER_NOTES for song in songs)


def _constrained(model, streams: int, bars: int, **extra):
    return model.generate(PRIMER_NOTES, bars=bars, **CONSTRAINTS, num_outputs=streams, **extra)


def _unconstrained(model, streams: int, length: int, **extra):
    return model.generate(PRIMER_NOTES, length=length, num_outputs=streams, **extra)


def _alternating(calls: dict, repeats: int) -> dict[str, list[float]]:
    """Seconds of each call, ``repeats`` times, the calls' order turning every round."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            times[name].append(_generated(calls[name])[0])
    return times


def constrained_rates(model, streams: int, sizes: tuple[int, int], repeats: int) -> dict:
    """Sampled notes/s with every constraint and without, ``streams`` streams: bars per
    section ``sizes`` (short, long), and as many notes per stream without constraints.
    ``notes_per_s``: the long call's notes over its best time, whole (planning, no-copy
    tables, restarts of streams that no-copy stops and the checks of every melody
    included); ``marginal_notes_per_s``: the difference of the two sizes' notes over the
    difference of their best times (a sampled stream that starts again makes it noisy)."""
    notes = {b: _generated(partial(_constrained, model, streams, b, **SAMPLED))[1] for b in sizes}
    lengths = {b: round(notes[b] / streams) for b in sizes}
    calls = {}
    for b in sizes:
        calls["constrained", b] = partial(_constrained, model, streams, b, **SAMPLED)
        calls["unconstrained", b] = partial(_unconstrained, model, streams, lengths[b], **SAMPLED)
    best = {name: min(t) for name, t in _alternating(calls, repeats).items()}
    short, long = sizes

    def rates(kind: str, count: dict) -> dict:
        dt = best[kind, long] - best[kind, short]
        return {
            "notes_per_s": round(count[long] / best[kind, long]),
            "marginal_notes_per_s": round((count[long] - count[short]) / dt) if dt > 0 else None,
        }

    return {
        "bars_per_section": list(sizes),
        "notes": [notes[b] for b in sizes],
        "best_s": {str(b): round(best["constrained", b], 4) for b in sizes},
        **rates("constrained", notes),
        "unconstrained": {
            "lengths": [lengths[b] for b in sizes],
            "best_s": {str(lengths[b]): round(best["unconstrained", b], 4) for b in sizes},
            **rates("unconstrained", {b: lengths[b] * streams for b in sizes}),
        },
    }


def bench_constraints(bundle: Path, quick: bool) -> dict:
    """``Model.generate`` with every constraint (CONSTRAINTS) against the same calls without
    them, in this process, the two alternating call by call so that the machine's load
    falls on both alike: sampled (SAMPLED) notes/s for 1 and STREAMS streams (see
    constrained_rates), and one
    beam search of width CONSTRAINED_BEAM over 4 x CONSTRAINED_BEAM_BARS bars against an
    unconstrained one of as many notes."""
    import melodynet

    log(f"constraints: Model.generate with {CONSTRAINTS}, against none")
    model = melodynet.load(bundle)
    out: dict = {
        "constraints": dict(CONSTRAINTS),
        "sampling": dict(SAMPLED),
        "primer_notes": PRIMER_NOTES,
        "load_average_before": loadavg(),
    }
    plans = {1: (4, 32) if quick else (8, 64), STREAMS: (2, 8)}
    repeats = 2 if quick else 5  # best of: the load of a shared machine comes and goes
    for streams, sizes in plans.items():
        s = out[f"streams_{streams}"] = constrained_rates(model, streams, sizes, repeats)
        log(
            f"  {streams} stream(s): {fmt(s['notes_per_s'])} notes/s constrained, "
            f"{fmt(s['unconstrained']['notes_per_s'])} unconstrained"
        )
    beam = {"beam_size": CONSTRAINED_BEAM}
    _, count = _generated(partial(_constrained, model, 1, CONSTRAINED_BEAM_BARS, **beam))
    times = _alternating(
        {
            "constrained": partial(_constrained, model, 1, CONSTRAINED_BEAM_BARS, **beam),
            "unconstrained": partial(_unconstrained, model, 1, count, **beam),
        },
        repeats + 2,
    )
    b = out["beam"] = {
        "width": CONSTRAINED_BEAM,
        "bars": CONSTRAINED_BEAM_BARS * len(CONSTRAINTS["form"]),
        "notes": count,
        "best_s": round(min(times["constrained"]), 4),
        "all_s": [round(t, 4) for t in times["constrained"]],
        "unconstrained_best_s": round(min(times["unconstrained"]), 4),
        "unconstrained_all_s": [round(t, 4) for t in times["unconstrained"]],
    }
    log(
        f"  beam {b['width']}, {b['bars']} bars ({count} notes): {b['best_s']:.3f} s "
        f"constrained, {b['unconstrained_best_s']:.3f} s unconstrained"
    )
    out["load_average_after"] = loadavg()
    return out


def bench_throughput_of(side: Side, base: Path, bundle: Path, quick: bool) -> dict:
    """bench_throughput in a process of its own that imports the side's melodynet."""
    ws = Workspace(base, f"throughput-{side.name}", side)
    worker = [sys.executable, str(Path(__file__).resolve()), "--throughput-worker", str(bundle)]
    r = ws.run(worker + (["--quick"] if quick else []), timeout=1800)
    sys.stderr.write(r.stderr)
    if r.returncode != 0:
        log(f"  [{side.label}] throughput FAILED rc={r.returncode}")
        return {"ok": False, "error": r.stderr[-2000:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def bench_corpus(
    base: Path,
    sides: list[Side],
    runs: int,
    cache: Path | None,
    inputs: str = CORPUS,
    models: tuple[str, ...] = CORPUS_MODELS,
) -> dict[str, dict]:
    """Training throughput on a collection, through scripts/bench_corpus.py's train worker
    (its measure: training targets per epoch over the epoch's time), the second epoch of
    two, each run a process of its own; the sides alternate model by model."""
    out: dict[str, dict] = {side.name: {} for side in sides}
    script = Path(__file__).resolve().parent / "bench_corpus.py"
    env = {"MELODYNET_CACHE": str(cache)} if cache else {}
    for number, model in enumerate(models):
        log(f"corpus: {model} on {inputs}, {CORPUS_EPOCHS} epochs (bench_corpus.py's worker)")
        payload = {
            "inputs": [inputs],
            "jobs": 1,
            "model": model,
            "epochs": CORPUS_EPOCHS,
            "batch_size": 64,
            "max_songs": 0,
            "evaluate": False,
        }
        figures: dict[str, list[dict]] = {side.name: [] for side in sides}

        def run_one(side: Side, i: int, model=model, payload=payload, figures=figures) -> Run:
            ws = Workspace(base, f"corpus-{model}-{side.name}-{i}", side)
            worker = [sys.executable, str(script), "--worker", "train", json.dumps(payload)]
            r = ws.run(worker, timeout=3600, env=env)
            if r.returncode == 0:
                got = json.loads(r.stdout.strip().splitlines()[-1])
                figures[side.name].append(got)
                log(
                    f"    epochs {got['epoch_seconds']} s, {fmt(got['notes_per_s'])} notes/s "
                    f"(epoch 2), peak RSS {fmt(got['peak_rss_mb'])} MB"
                )
            return r

        timings = interleaved(sides, runs, run_one, f"corpus {model}", start=number)
        for side in sides:
            got = figures[side.name]
            if not got:
                out[side.name][model] = {"ok": False}
                continue
            rates = [g["notes_per_s"] for g in got]
            out[side.name][model] = {
                "ok": timings[side.name].ok,
                "inputs": inputs,
                "runs": len(got),
                "notes_per_s": max(rates),  # the best run: the machine's load only slows
                "notes_per_s_all": rates,
                "epoch_seconds_all": [g["epoch_seconds"] for g in got],
                "training_songs": got[0]["training_songs"],
                "training_targets_per_epoch": got[0]["training_targets_per_epoch"],
                "peak_rss_mb": max(g["peak_rss_mb"] for g in got),
                "process_s": [round(r.wall_s, 1) for r in timings[side.name].runs],
            }
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
    for streams in (1, STREAMS):
        s = lookup(figures, f"constraints.streams_{streams}") or {}
        name = f"constrained_{streams}_stream{'s' * (streams > 1)}_vs_unconstrained"
        value = speedup(s.get("notes_per_s"), lookup(s, "unconstrained.notes_per_s"))
        if value is not None:
            out[name] = value
    beam = lookup(figures, "constraints.beam") or {}
    value = speedup(beam.get("unconstrained_best_s"), beam.get("best_s"))
    if value is not None:
        out["constrained_beam_vs_unconstrained"] = value
    out.update(against_ratios(figures, figures.get("against") or {}))
    return out


def speedup(slow, fast) -> float | None:
    return round(slow / fast, 2) if slow and fast else None


AGAINST_TIMES = {  # ratio name: a whole command's figure (seconds), the same key on each side
    "startup_help_vs_against": "startup.help",
    "startup_models_vs_against": "startup.models",
    "startup_plugins_vs_against": "startup.plugins",
    "train_stateful_vs_against": "train_stateful",
    "generate_vs_against": "generate",
}
AGAINST_RATES = {  # ratio name: a notes/s figure
    "generate_cli_vs_against": "generate.cli_lengths.notes_per_s",
    "generation_1_streams_vs_against": "throughput.streams_1.notes_per_s",
    f"generation_{STREAMS}_streams_vs_against": f"throughput.streams_{STREAMS}.notes_per_s",
    **{f"corpus_{m}_vs_against": f"corpus.{m}.notes_per_s" for m in CORPUS_MODELS},
}


def against_ratios(figures: dict, against: dict) -> dict:
    """This checkout's speed-up over --against: the other side's median time over this
    one's, or this one's notes/s over the other side's (above 1: this one is faster);
    and peak RSS, this side's over the other's."""
    out = {}
    for name, key in AGAINST_TIMES.items():
        this, other = lookup(figures, key) or {}, lookup(against, key) or {}
        if this.get("ok") and other.get("ok"):
            out[name] = speedup(other["median_s"], this["median_s"])
    for name, key in AGAINST_RATES.items():
        value = speedup(lookup(figures, key), lookup(against, key))
        if value is not None:
            out[name] = value
    for model in CORPUS_MODELS:
        key = f"corpus.{model}.peak_rss_mb"
        value = speedup(lookup(figures, key), lookup(against, key))
        if value is not None:
            out[f"corpus_{model}_rss_vs_against"] = value
    return out


def judge(results: dict) -> list[dict]:
    verdicts = []
    data = {"against": {}, **results["figures"], "ratios": results["ratios"]}
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


def times_x(value) -> str:
    return f"{fmt(value)}×" if value is not None else "-"


def yes_no(value) -> str:
    return "?" if value is None else "yes" if value else "no"


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
            times_x(ratios.get("train_stateful_vs_reference")),
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
            f"{fmt(g['min_s'])} / {fmt(g['median_s'])} s, "
            f"TensorFlow imported: {yes_no(g.get('tensorflow_imported'))}",
            f"{fmt(ref_gen)} s (import + 50 predict)" if ref_gen else "-",
            times_x(ratios.get("generate_command_vs_reference")),
            "≤ 1 s, no TensorFlow",
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
                    times_x(ratios.get(f"generation_{streams}_streams_vs_reference")),
                    "≥ 5,000" if streams == 1 else "≥ 100,000",
                )
        row(
            "first generation call (build + compile, 50 notes)",
            f"{fmt(th['first_call_50_notes_s'])} s",
        )
    c = f.get("constraints")
    if c:
        every = ", ".join(f"{k}={v}" for k, v in c["constraints"].items())
        for streams in (1, STREAMS):
            s = c.get(f"streams_{streams}")
            if s:
                a, b = s["bars_per_section"]
                key = f"constrained_{streams}_stream{'s' * (streams > 1)}_vs_unconstrained"
                row(
                    f"generation with every constraint ({every}), {streams} "
                    f"stream{'s' * (streams > 1)}, sampled (Model.generate, whole call, "
                    f"bars={b}: {fmt(s['notes'][1])} notes)",
                    f"{fmt(s['notes_per_s'])} notes/s; without constraints, same run: "
                    f"{fmt(s['unconstrained']['notes_per_s'])} notes/s",
                    rat=times_x(ratios.get(key)),
                    target=("≥ 2,500" if streams == 1 else "≥ 50,000") + ", ≥ 0.5×",
                )
        beam = c.get("beam")
        if beam:
            row(
                f"beam search {beam['width']} with every constraint, {beam['bars']} bars "
                f"({beam['notes']} notes; min of {len(beam['all_s'])})",
                f"{fmt(beam['best_s'])} s; without constraints, as many notes: "
                f"{fmt(beam['unconstrained_best_s'])} s",
                rat=times_x(ratios.get("constrained_beam_vs_unconstrained")),
                target="≤ 2 s",
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
    return markdown(("figure", "melodynet", "reference", "ratio", "target"), rows)


def markdown(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def against_table(results: dict) -> str:
    """This checkout beside --against, figure by figure, with the speed-up and the target."""
    f, ratios = results["figures"], results["ratios"]
    against = f.get("against") or {}
    rows = []

    def row(name, key, this, other, target="-"):
        value = ratios.get(key) if key else None
        rows.append((name, this, other, f"{value:.2f}×" if value else "-", target))

    def times(s):
        return f"{fmt(s['min_s'])} / {fmt(s['median_s'])} s" if s and s.get("runs") else "-"

    def trained(s):
        if not s or not s.get("runs"):
            return "-"
        return f"{times(s)}, {s.get('epochs_run')} epochs, full song {s.get('full_song')}"

    for name in ("help", "models", "plugins"):
        this, other = lookup(f, f"startup.{name}"), lookup(against, f"startup.{name}")
        if this or other:
            command = "--help" if name == "help" else name
            row(
                f"`melodynet {command}` (min / median)",
                f"startup_{name}_vs_against",
                times(this),
                times(other),
                "≤ 0.5 s",
            )
    this, other = f.get("train_stateful"), against.get("train_stateful")
    if this or other:
        row(
            "train butterfly, stateful-lstm, whole command (min / median)",
            "train_stateful_vs_against",
            trained(this),
            trained(other),
            "≥ 1.00× (no slower), 50/50",
        )
        rss = [f"{fmt(s.get('peak_rss_mb'))} MB" if s else "-" for s in (this, other)]
        row("peak RSS of that training run", None, *rss)
    this, other = f.get("generate"), against.get("generate")
    if this or other:
        row(
            "`melodynet generate --seed 4 --out song.mid`, whole command (min / median)",
            "generate_vs_against",
            times(this),
            times(other),
            "≤ 1 s and ≥ 4×",
        )
        row(
            "peak RSS of that `generate`",
            None,
            *(f"{fmt(s.get('peak_rss_mb'))} MB" if s else "-" for s in (this, other)),
        )
        row(
            "TensorFlow imported by that `generate` (modules imported in all)",
            None,
            *(
                f"{yes_no(s.get('tensorflow_imported'))} ({fmt(s.get('modules_imported'))})"
                if s
                else "-"
                for s in (this, other)
            ),
            "no",
        )
        cli = [lookup(s or {}, "cli_lengths") for s in (this, other)]
        if any(cli):
            a, b = next(c for c in cli if c)["lengths"]
            row(
                f"`generate --length {b}` − `--length {a}` (CLI, 1 stream)",
                "generate_cli_vs_against",
                *(f"{fmt(c['notes_per_s'])} notes/s" if c else "-" for c in cli),
            )
    this, other = f.get("throughput"), against.get("throughput")
    if this or other:
        for streams in (1, STREAMS):
            s = [lookup(t or {}, f"streams_{streams}") for t in (this, other)]
            lengths = next(x for x in s if x).get("lengths", "??") if any(s) else "??"
            row(
                f"generation, {streams} stream{'s' * (streams > 1)} (API, "
                f"{lengths[1]}−{lengths[0]} notes)",
                f"generation_{streams}_streams_vs_against",
                *(f"{fmt(x['notes_per_s'])} notes/s" if x else "-" for x in s),
                "≥ 5,000" if streams == 1 else "≥ 100,000",
            )
        row(
            "first generation call (50 notes), API: runs on",
            None,
            *(
                f"{fmt(t['first_call_50_notes_s'])} s, "
                + ("TensorFlow" if t.get("predictor_uses_tensorflow") else "numpy")
                if t and "first_call_50_notes_s" in t
                else "-"
                for t in (this, other)
            ),
        )
    for model in CORPUS_MODELS:
        c = [lookup(x, f"corpus.{model}") for x in (f, against)]
        if any(c):
            row(
                f"train {(c[0] or c[1]).get('inputs', CORPUS)}, {model}, notes/s "
                f"(epoch {CORPUS_EPOCHS} of {CORPUS_EPOCHS})",
                f"corpus_{model}_vs_against",
                *(fmt(x.get("notes_per_s")) if x else "-" for x in c),
                "≥ 1.50×",
            )
            rss = ratios.get(f"corpus_{model}_rss_vs_against")
            rows.append(
                (
                    "peak RSS of that training run",
                    *(f"{fmt(x.get('peak_rss_mb'))} MB" if x else "-" for x in c),
                    f"{rss:.2f}× (this / against)" if rss else "-",
                    "≤ 1.00× (no higher)",
                )
            )
    sides = results.get("sides", {})
    head = (
        "figure",
        f"this checkout ({sides.get('this', {}).get('git_commit') or '?'})",
        (sides.get("against") or {}).get("label", "against"),
        "speed-up",
        "target",
    )
    return markdown(head, rows)


# ------------------------------------------------------------------ main
def against_side(directory: Path, name: str | None) -> Side:
    """The --against side, or SystemExit with one line saying why DIR cannot be one."""
    directory = directory.expanduser().resolve()
    if not (directory / "melodynet" / "__main__.py").is_file():
        raise SystemExit(
            f"bench.py: --against {directory}: not a melodynet checkout "
            "(no melodynet/__main__.py there)"
        )
    if not name:
        found = re.search(r"[-_]([0-9a-f]{7,40})$", directory.name)
        name = git_commit(directory) or (found.group(1) if found else directory.name)
    return Side("against", name, directory)


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
        default=",".join(DEFAULT_SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all but corpus)",
    )
    parser.add_argument(
        "--bundle",
        type=Path,
        default=None,
        help="use this stateful-lstm bundle for generate/throughput "
        "instead of the one the train section makes (this checkout only)",
    )
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        metavar="DIR",
        help="another melodynet checkout (say, of commit 38071a1) measured in the same run, "
        "its commands alternating with this one's: python -m melodynet, PYTHONPATH=DIR",
    )
    parser.add_argument(
        "--against-name",
        default=None,
        help="what to call it in the table (default: its git commit, or the commit at the "
        "end of DIR's name, as in melodynet-38071a1)",
    )
    parser.add_argument(
        "--corpus-cache",
        type=Path,
        default=None,
        help=f"$MELODYNET_CACHE for the corpus section, with {CORPUS} read into it "
        "(default: melodynet's own cache)",
    )
    parser.add_argument(
        "--corpus", default=CORPUS, help=f"the corpus section's songs (default {CORPUS})"
    )
    parser.add_argument(
        "--corpus-runs", type=int, default=1, help="corpus section: runs per model and side"
    )
    parser.add_argument(
        "--corpus-models",
        default=",".join(CORPUS_MODELS),
        help=f"corpus section: which of {','.join(CORPUS_MODELS)} to train (default: both)",
    )
    parser.add_argument("--throughput-worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.throughput_worker:  # one side's throughput, in a process that imports its code
        print(json.dumps(bench_throughput(args.throughput_worker, {}, args.quick)))
        return 0

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
    if args.quick and args.sections == ",".join(DEFAULT_SECTIONS):
        sections.discard("models")  # a minute is not enough for three more trainings
    runs = args.runs or (2 if args.quick else 5)
    train_runs = args.runs or (1 if args.quick else 3)
    ref_epochs = args.reference_epochs or (20 if args.quick else 100)
    if args.against is not None:
        against = against_side(args.against, args.against_name)
        this = Side("this", "this checkout", ROOT)
        sides = [this, against]
    else:
        sides = [THIS]
    # This process's own imports (the throughput section) come from this checkout too.
    sys.path.insert(0, str(ROOT))

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
            "against": str(sides[1].source) if len(sides) > 1 else None,
        },
        "figures": {},
        "reference": {},
    }
    started = time.perf_counter()
    figures, reference = results["figures"], results["reference"]
    against: dict = {}
    with tempfile.TemporaryDirectory(prefix="melodynet-bench-") as tmp:
        base = Path(tmp)
        results["sides"] = check_sides(base, sides)
        if len(sides) > 1:
            figures["against"] = against
        if "startup" in sections:
            startup = bench_startup(base, runs, sides)
            figures["startup"] = startup["this"]
            if "against" in startup:
                against["startup"] = startup["against"]
        bundles: dict[str, Path | None] = {"this": args.bundle}
        other_bundles = {}
        if "train" in sections:
            trained = bench_train(base, "stateful-lstm", train_runs, sides)
            figures["train_stateful"], made = trained["this"]
            bundles["this"] = bundles["this"] or made
            if "against" in trained:
                against["train_stateful"], bundles["against"] = trained["against"]
        if sections & {"generate", "throughput", "constraints"}:
            missing = [side for side in sides if bundles.get(side.name) is None]
            if missing:
                log("no bundle: training one for generate/throughput")
                for name, (_, made) in bench_train(base, "stateful-lstm", 1, missing).items():
                    bundles[name] = made
        if "generate" in sections:
            lengths = None if args.quick else (2000, 20000)
            generated = bench_generate(base, bundles, runs, lengths, sides)
            if "this" in generated:
                figures["generate"] = generated["this"]
            if "against" in generated:
                against["generate"] = generated["against"]
        if "models" in sections:
            figures["models"] = {}
            for model in OTHER_MODELS:
                (figures["models"][model], other_bundles[model]) = bench_train(
                    base, model, max(1, train_runs - 1)
                )["this"]
        if "reference" in sections:
            reference["import"] = reference_import(base, 3 if args.quick else 5)
            reference["stateful"] = bench_reference(base, reference_script, "stateful", ref_epochs)
            if not args.quick:
                for model in ("mlp", "lstm"):
                    reference[model] = bench_reference(base, reference_script, model, ref_epochs)
        if "corpus" in sections:
            models = tuple(m for m in CORPUS_MODELS if m in args.corpus_models.split(","))
            corpus = bench_corpus(
                base, sides, args.corpus_runs, args.corpus_cache, args.corpus, models
            )
            figures["corpus"] = corpus["this"]
            if "against" in corpus:
                against["corpus"] = corpus["against"]
        if "throughput" in sections:
            if len(sides) > 1 and bundles.get("against"):
                against["throughput"] = bench_throughput_of(
                    sides[1], base, bundles["against"], args.quick
                )
            if bundles.get("this"):
                # last: in this process (the numpy network imports no TensorFlow)
                others = {m: b for m, b in other_bundles.items() if b is not None}
                figures["throughput"] = bench_throughput(bundles["this"], others, args.quick)
        if "constraints" in sections and bundles.get("this"):
            figures["constraints"] = bench_constraints(bundles["this"], args.quick)
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
        f"after {results['load_average_after']}; {results['bench_wall_s']} s in all"
    )
    for name, side in results["sides"].items():
        print(
            f"{name}: {side['label']}, `{side['command']}`, melodynet from {side['melodynet_file']}"
        )
    main_table = table(results)
    if main_table.count("\n") > 1:  # a row beyond the head
        print("\n" + main_table)
    if len(sides) > 1:
        print(f"\nthis checkout against {sides[1].label} ({sides[1].source}), same run:\n")
        print(against_table(results))
    print("\ntargets:")
    for v in results["targets"]:
        mark = {True: "met", False: "NOT MET", None: "not measured"}[v["met"]]
        value = yes_no(v["value"]) if isinstance(v["value"], bool) else fmt(v["value"])
        print(f"  {mark:12} {v['what']}: {value} (target {v['target']})")
    Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
