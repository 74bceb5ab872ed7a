"""The tutorial's comparison table, made with melodynet: every model and encoding on butterfly.

For each built-in model (mlp, lstm, stateful-lstm, cnn) and encoding (single, split):
training time, epochs, one-step accuracy and full-song matches from the first 4 notes.
Training runs in this process through ``melodynet.train`` (TensorFlow is imported once,
before the first model, and not counted); the time covers building the model, compiling
the training step and every epoch, up to the ``Trained N epochs`` report (the scoring of
the song that follows is ``score_s``), and stops, as `melodynet train` does, once the song
is reproduced as well as the model can (every note for stateful models, the 4-note
window's ceiling, 46/50, for window models). ``--all-epochs`` trains every epoch instead.

    .venv/bin/python scripts/compare_models.py                  # about a minute on 2 cores
    .venv/bin/python scripts/compare_models.py --all-epochs --epochs 2000
    .venv/bin/python scripts/compare_models.py --models mlp --encodings single --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("mlp", "lstm", "stateful-lstm", "cnn")
ENCODINGS = ("single", "split")

# The tutorial's own figures (../shared/reference/RESULTS.md: 2000 epochs, 2-core CPU).
TUTORIAL = {
    "mlp": "135.1 s, 0.92, 10/50",
    "lstm": "124.6 s, 0.88, 10/50",
    "stateful-lstm": "425.3 s, 1.00, 50/50",
}


def compare(
    songs, models, encodings, epochs: int, all_epochs: bool, seed: int, log=print
) -> list[dict]:
    import melodynet

    rows = []
    for model in models:
        for encoding in encodings:
            heard: list[tuple[float, melodynet.Progress]] = []

            def progress(report, heard=heard) -> None:
                heard.append((time.perf_counter(), report))

            start = time.perf_counter()
            trained = melodynet.train(
                songs,
                model=model,
                encoding=encoding,
                epochs=epochs,
                random_seed=seed,
                stop_when_perfect=not all_epochs,
                progress=progress,
            )
            returned = time.perf_counter()
            # train() reports "Trained N epochs" when the last epoch is done, then scores
            # the training songs (model.meta.metrics["songs"]) before it returns.
            trained_at = next((t for t, p in heard if p.message.startswith("Trained ")), returned)
            train_s = trained_at - start
            scores = trained.meta.metrics.get("songs") or []
            score_s = returned - trained_at
            if len(scores) < len(trained.songs):  # train() scores the first few of a corpus
                start = time.perf_counter()
                scores = trained.evaluate()["songs"]
                score_s = time.perf_counter() - start
            one_step = sum(s["one_step_correct"] for s in scores)
            one_total = sum(s["one_step_total"] for s in scores)
            full = sum(s["full_song_matches"] for s in scores)
            full_total = sum(s["full_song_length"] for s in scores)
            meta = trained.meta
            row = {
                "model": model,
                "encoding": encoding,
                "epochs_run": meta.epochs_run,
                "stopped_early": bool(meta.metrics.get("stopped_early")),
                "train_s": round(train_s, 2),
                "s_per_epoch": round(train_s / max(meta.epochs_run, 1), 4),
                "one_step_correct": one_step,
                "one_step_total": one_total,
                "one_step_accuracy": round(one_step / max(one_total, 1), 4),
                "ceiling": meta.metrics.get("one_step_ceiling"),
                "full_song_matches": full,
                "full_song_length": full_total,
                "score_s": round(score_s, 3),
            }
            rows.append(row)
            log(
                f"{model:14} {encoding:6} {row['epochs_run']:5} epochs {train_s:7.2f} s  "
                f"one-step {one_step}/{one_total}  full song {full}/{full_total}"
            )
    return rows


def markdown(rows: list[dict], reference: bool = True) -> str:
    head = [
        "model",
        "encoding",
        "epochs",
        "train s",
        "s/epoch",
        "one-step acc",
        "full song",
    ]
    if reference:
        head.append("tutorial (2000 epochs: train s, one-step acc, full song)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            r["model"],
            r["encoding"],
            f"{r['epochs_run']}" + ("" if r["stopped_early"] else " (all)"),
            f"{r['train_s']:.2f}",
            f"{r['s_per_epoch']:.4f}",
            f"{r['one_step_accuracy']:.2f} ({r['one_step_correct']}/{r['one_step_total']})",
            f"{r['full_song_matches']}/{r['full_song_length']}",
        ]
        if reference:
            cells.append(TUTORIAL.get(r["model"], "-") if r["encoding"] == "single" else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--song", type=Path, default=ROOT / "songs" / "butterfly.txt")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated")
    parser.add_argument("--encodings", default=",".join(ENCODINGS), help="comma-separated")
    parser.add_argument("--epochs", type=int, default=500, help="most epochs per model")
    parser.add_argument(
        "--all-epochs", action="store_true", help="train every epoch (no early stop)"
    )
    parser.add_argument("--random-seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    import keras
    import tensorflow as tf

    import melodynet

    import_s = time.perf_counter() - start
    songs = melodynet.read(args.song)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    encodings = [e.strip() for e in args.encodings.split(",") if e.strip()]
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    log(f"TensorFlow {tf.__version__}, Keras {keras.__version__}: imported in {import_s:.2f} s")
    load = [round(x, 2) for x in os.getloadavg()]
    rows = compare(songs, models, encodings, args.epochs, args.all_epochs, args.random_seed, log)
    load_after = [round(x, 2) for x in os.getloadavg()]
    print(markdown(rows))
    print(
        f"\n{songs[0].name} ({len(songs[0])} notes), seed {args.random_seed}, "
        + (f"all {args.epochs} epochs" if args.all_epochs else f"at most {args.epochs} epochs")
        + f"; load average {load} before, {load_after} after"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "song": str(args.song),
                    "epochs": args.epochs,
                    "all_epochs": args.all_epochs,
                    "seed": args.random_seed,
                    "import_s": round(import_s, 2),
                    "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
                    "load_average_before": load,
                    "load_average_after": load_after,
                    "rows": rows,
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
