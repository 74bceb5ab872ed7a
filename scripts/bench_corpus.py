"""Corpus benchmark: melodynet on a real collection (music21's essenFolksong by default).

Measures, each part in its own process (so peak RSS is that part's own):

- first parse: ``corpus.collect`` of the whole collection with an empty cache (time,
  time per tune, what was skipped and why, peak RSS);
- cached load: the same ``collect`` in a fresh process with the cache filled, timed
  around the call and as a whole command (Python start and imports included);
- baselines on a held-out split (``split_songs(0.1, seed 0)``, window 4): repeat the
  previous note and order-2/3/5 n-grams: NLL per note (nats), perplexity, accuracy;
- training, per model (lstm and stateful-lstm): ``melodynet.learn.learn`` as it is on
  the training songs for a few epochs (``--patience N``: up to ``--epochs``, stopping
  early on 5% of the training songs, never the test songs): time per epoch, notes/s,
  peak RSS; then the held-out NLL and accuracy of the trained network, beside the
  baselines scored on the same notes (held-out songs whose every note is in the training
  vocabulary: the network cannot encode the others);
- memory (``--memory 500,2000,8000``): peak RSS of one training epoch on that many songs,
  to show it stays flat as the corpus grows; ``--against DIR`` measures another checkout
  of melodynet (an older commit) in the same run, for comparison.

Targets (issue 6): cached load of the whole collection in at most 10 s; held-out NLL per
note at least 10% below the order-3 n-gram.

    .venv/bin/python scripts/bench_corpus.py                     # essenFolksong, ~15 min
    .venv/bin/python scripts/bench_corpus.py --quick             # 3 files, 1 epoch, ~2 min
    .venv/bin/python scripts/bench_corpus.py --jobs 2 --epochs 3 --json out.json
    .venv/bin/python scripts/bench_corpus.py --cache-dir ~/.cache/melodynet --skip-parse
    .venv/bin/python scripts/bench_corpus.py --skip-parse --cache-dir ~/.cache/melodynet \
        --models stateful-lstm --epochs 30 --patience 3 --json stateful.json
    .venv/bin/python scripts/bench_corpus.py --skip-parse --cache-dir ~/.cache/melodynet \
        --skip-train --memory 500,2000,8000 --against /tmp/melodynet-old

The machine's other load shows in every time: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICK_INPUTS = [
    "corpus:essenFolksong/kinder0",
    "corpus:essenFolksong/erk5",
    "corpus:essenFolksong/test0",
]
WINDOW = 4
SPLIT, SEED = 0.1, 0
VALIDATION = 0.05
"""With --patience: the share of the training songs that early stopping watches."""
TARGET_LOAD_S = 10.0
TARGET_NLL_GAIN = 0.10


def _peak_rss_mb() -> dict:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": round(own, 1), "children_peak_rss_mb": round(children, 1)}


# ------------------------------------------------------------------ workers (subprocesses)


def _collect(inputs, jobs=1):
    from melodynet.corpus import collect

    lines: list[str] = []
    start = time.perf_counter()
    result = collect(inputs, window=WINDOW, say=lines.append, jobs=jobs)
    return result, time.perf_counter() - start, lines


def work_parse(inputs, jobs):
    result, seconds, lines = _collect(inputs, jobs)
    tunes = len(result.songs) + len(result.skips)
    return {
        "seconds": round(seconds, 2),
        "files": result.files,
        "from_cache": result.cached,
        "tunes_kept": len(result.songs),
        "skipped": dict(result.counts()),
        "ms_per_tune": round(1000 * seconds / max(tunes, 1), 2),
        "notes": sum(len(s) for s in result.songs),
        "said": lines[:12],
        "jobs": jobs,
        **_peak_rss_mb(),
    }


def work_load(inputs, jobs):
    result, seconds, lines = _collect(inputs)
    return {
        "seconds": round(seconds, 3),
        "files": result.files,
        "from_cache": result.cached,
        "tunes_kept": len(result.songs),
        "said": lines[:1],
        **_peak_rss_mb(),
    }


def _split(inputs):
    from melodynet.split import split_songs

    result, _, _ = _collect(inputs)
    training, validation = split_songs(result.songs, SPLIT, SEED)
    known = {n.key for s in training for n in s.notes}
    encodable = [s for s in validation if all(n.key in known for n in s.notes)]
    return training, validation, encodable


def _baselines(training, heldout, orders=(3,)):
    from melodynet.baselines import NGram, RepeatPrevious, Vocabulary, score

    vocabulary = Vocabulary(training)
    models = [RepeatPrevious(training, vocabulary)]
    models += [NGram(training, order, vocabulary) for order in orders]
    return [score(m, heldout, WINDOW).to_json() for m in models]


def work_baselines(inputs, jobs):
    training, validation, encodable = _split(inputs)
    start = time.perf_counter()
    full = _baselines(training, validation, orders=(2, 3, 5))
    seconds = time.perf_counter() - start
    return {
        "training_songs": len(training),
        "training_notes": sum(len(s) for s in training),
        "heldout_songs": len(validation),
        "encodable_heldout_songs": len(encodable),
        "vocabulary": len({n.key for s in training for n in s.notes}),
        "heldout": full,
        "heldout_encodable": _baselines(training, encodable),
        "seconds": round(seconds, 2),
    }


def work_train(
    inputs, jobs, model, epochs, batch_size, max_songs, patience=None, evaluate=True, **_
):
    from melodynet.learn import LearnOptions, learn

    training, _, encodable = _split(inputs)
    if max_songs:
        training = training[:max_songs]
        known = {n.key for s in training for n in s.notes}
        encodable = [s for s in encodable if all(n.key in known for n in s.notes)]
    stamps: list[float] = []
    history: list[dict] = []

    def on_epoch(epoch, logs):
        stamps.append(time.perf_counter())
        history.append({k: round(float(v), 5) for k, v in logs.items()})
        print(f"  {model} epoch {epoch}: {json.dumps(history[-1])}", file=sys.stderr, flush=True)

    # Early stopping watches songs held out of the training songs, never the test songs.
    options = LearnOptions(
        model=model,
        window=WINDOW,
        epochs=epochs,
        batch_size=batch_size,
        stop_when_perfect=False,
        validation_split=VALIDATION if patience else 0.0,
        patience=patience,
    )
    start = time.perf_counter()
    trained, result = learn(training, options, on_epoch)
    total = time.perf_counter() - start
    fitted = trained.songs
    sequence = trained.spec.sequence
    targets = sum(len(s) - (1 if sequence else WINDOW) for s in fitted)
    epoch_times = [b - a for a, b in zip([start, *stamps], stamps, strict=False)]
    steady = epoch_times[1:] or epoch_times  # the first epoch includes graph building
    epoch_s = sum(steady) / len(steady)
    figures = {
        "model": model,
        "epochs": epochs,
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "batch_size": batch_size,
        "training_songs": len(fitted),
        "training_notes": sum(len(s) for s in fitted),
        "validation_songs": len(trained.meta.validation_songs),
        "training_targets_per_epoch": targets,
        "learn_seconds": round(total, 2),
        "epoch_seconds": [round(t, 2) for t in epoch_times],
        "epoch_s": round(epoch_s, 2),
        "notes_per_s": round(targets / epoch_s, 1),
        "history": history,
        **_peak_rss_mb(),
    }
    if evaluate:
        from melodynet.evaluation import heldout_score

        evaluation_start = time.perf_counter()
        figures["heldout"] = heldout_score(trained, encodable).to_json()
        figures["heldout_baselines"] = _baselines(training, encodable)
        figures["evaluation_seconds"] = round(time.perf_counter() - evaluation_start, 2)
    return figures


WORKERS = {"parse": work_parse, "load": work_load, "baselines": work_baselines, "train": work_train}


# ------------------------------------------------------------------ driver


def _run(
    section: str, cache_dir: Path, payload: dict, timeout: float, source: Path | None = None
) -> dict:
    """One section in a fresh process; ``source``: import melodynet from that checkout."""
    env = {**os.environ, "MELODYNET_CACHE": str(cache_dir), "TF_CPP_MIN_LOG_LEVEL": "2"}
    if source is not None:
        env["PYTHONPATH"] = str(source)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        section,
        json.dumps(payload),
    ]
    start = time.perf_counter()
    # stderr (progress, and any traceback) goes straight to ours; stdout holds the result.
    done = subprocess.run(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, timeout=timeout
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{section} failed (exit {done.returncode}): {done.stdout[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = round(wall, 2)
    return result


def _memory(args, base: dict, cache_dir: Path) -> list[dict]:
    """Peak RSS of one training epoch as the corpus grows, for this checkout and, with
    --against, another one measured in the same run."""
    rows = []
    sources = [("this", None)] + ([("against", args.against.resolve())] if args.against else [])
    for model in args.models.split(","):
        for count in (int(c) for c in args.memory.split(",")):
            for name, source in sources:
                payload = {
                    **base,
                    "model": model,
                    "epochs": 1,
                    "batch_size": args.batch_size,
                    "max_songs": count,
                    "evaluate": False,
                }
                run = _run("train", cache_dir, payload, args.timeout, source)
                row = {
                    "model": model,
                    "code": name,
                    "songs": run["training_songs"],
                    "notes": run["training_notes"],
                    "peak_rss_mb": run["peak_rss_mb"],
                    "epoch_s": run["epoch_s"],
                }
                rows.append(row)
                print(f"memory: {json.dumps(row)}", flush=True)
    return rows


def _check(figures: dict) -> list[dict]:
    rows = []
    load = figures.get("load")
    if load:
        rows.append(
            {
                "target": f"cached load of the whole collection <= {TARGET_LOAD_S:g} s",
                "value": load["seconds"],
                "whole_process_s": load["process_seconds"],
                "met": load["seconds"] <= TARGET_LOAD_S,
            }
        )
    for model, train in figures.get("train", {}).items():
        ngram = next(b for b in train["heldout_baselines"] if b["name"] == "order-3 n-gram")
        gain = 1 - train["heldout"]["nll"] / ngram["nll"]
        rows.append(
            {
                "target": (
                    f"{model}: held-out NLL >= {TARGET_NLL_GAIN:.0%} below the order-3 n-gram"
                ),
                "value": round(gain, 4),
                "network_nll": train["heldout"]["nll"],
                "ngram_nll": ngram["nll"],
                "met": gain >= TARGET_NLL_GAIN,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", help="default: corpus:essenFolksong")
    parser.add_argument("--quick", action="store_true", help="3 files of essenFolksong, 1 epoch")
    parser.add_argument("--jobs", type=int, default=1, help="processes for the first parse")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--models", default="lstm,stateful-lstm")
    parser.add_argument("--max-songs", type=int, default=0, help="train on the first N only")
    parser.add_argument(
        "--patience",
        type=int,
        default=None,
        help=f"early stopping on {VALIDATION:.0%} of the training songs (never the test songs)",
    )
    parser.add_argument(
        "--memory",
        default="",
        help="comma-separated song counts: peak RSS of one epoch on that many songs",
    )
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        help="another melodynet checkout whose --memory figures are measured in the same run",
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: a new temp dir")
    parser.add_argument("--skip-parse", action="store_true", help="the cache is already full")
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        section, payload = args.worker[0], json.loads(args.worker[1])
        print(json.dumps(WORKERS[section](**payload)))
        return

    inputs = args.inputs or (QUICK_INPUTS if args.quick else ["corpus:essenFolksong"])
    epochs = 1 if args.quick and args.epochs == 2 else args.epochs
    figures: dict = {
        "inputs": inputs,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    with tempfile.TemporaryDirectory(prefix="melodynet-corpus-bench-") as tmp:
        cache_dir = args.cache_dir or Path(tmp) / "cache"
        base = {"inputs": inputs, "jobs": args.jobs}
        if not args.skip_parse:
            figures["parse"] = _run("parse", cache_dir, base, args.timeout)
            print(f"first parse: {json.dumps(figures['parse'])}", flush=True)
        figures["load"] = _run("load", cache_dir, base, args.timeout)
        print(f"cached load: {json.dumps(figures['load'])}", flush=True)
        figures["baselines"] = _run("baselines", cache_dir, base, args.timeout)
        print(f"baselines: {json.dumps(figures['baselines'])}", flush=True)
        if not args.skip_train:
            figures["train"] = {}
            for model in args.models.split(","):
                payload = {
                    **base,
                    "model": model,
                    "epochs": epochs,
                    "batch_size": args.batch_size,
                    "max_songs": args.max_songs,
                    "patience": args.patience,
                }
                figures["train"][model] = _run("train", cache_dir, payload, args.timeout)
                print(f"train {model}: {json.dumps(figures['train'][model])}", flush=True)
        if args.memory:
            figures["memory"] = _memory(args, base, cache_dir)
    figures["targets"] = _check(figures)
    print()
    for row in figures["targets"]:
        print(f"{'MET ' if row['met'] else 'MISS'} {row['target']}: {row['value']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
