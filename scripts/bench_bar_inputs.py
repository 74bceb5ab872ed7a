"""Bar inputs (issue 14): held-out NLL and complete bars, with and without them.

On music21's essenFolksong (or the collections given), a tenth of the songs is held out
(``split_songs(0.1, seed 0)``, as scripts/bench_corpus.py does); the same model is trained
twice on the rest, early-stopped on 5% of the training songs (never the held-out ones),
once as it is and once with ``bar_inputs=True``. On the held-out songs whose notes are all
in the training vocabulary it measures:

- NLL per note (nats and bits), scored from the fifth note on;
- complete bars in unconstrained samples: from each held-out song's first 4 notes (given
  as a Song, so its own meter and pickup count the bars), the model samples (temperature 1,
  seed 0) as many notes as the song has. A bar of the sampled part counts as complete when
  no note crosses its opening or its closing barline.

    .venv/bin/python scripts/bench_bar_inputs.py --json bar-inputs.json
    .venv/bin/python scripts/bench_bar_inputs.py corpus:essenFolksong/kinder0 --epochs 5

Every figure is from this run; the machine's other load shows in the times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from fractions import Fraction
from pathlib import Path

import melodynet

PRIMER = 4


def crossings(notes, pickup: Fraction, bar: Fraction, start: int) -> tuple[int, int]:
    """(complete bars, bars) among the bars that lie wholly after note ``start``."""
    onsets, t = [], -pickup
    for note in notes:
        onsets.append(t)
        t += note.duration
    end, begin = t, onsets[start] if start < len(onsets) else t
    crossed = set()
    for onset, note in zip(onsets[start:], notes[start:], strict=True):
        first = (onset // bar) + 1  # the first barline after the onset
        line = first * bar
        while line < onset + note.duration:
            crossed.add(line)
            line += bar
    complete = total = 0
    k = -(-begin // bar)  # the first barline at or after the sampled part's start
    while (k + 1) * bar <= end:
        total += 1
        complete += k * bar not in crossed and (k + 1) * bar not in crossed
        k += 1
    return complete, total


def measure(model, heldout, seed: int) -> dict:
    scored = model.score(heldout)
    complete = bars = 0
    for song in heldout:
        primer = melodynet.Song(
            song.notes[:PRIMER], time_signature=song.time_signature, extra=dict(song.extra)
        )
        sample = model.generate(
            primer, length=len(song) - PRIMER, temperature=1.0, random_seed=seed
        )
        meter = song.time_signature.split("/")
        bar = Fraction(4 * int(meter[0]), int(meter[1]))
        pickup = Fraction(song.extra.get("pickup") or 0)
        c, b = crossings(sample.notes, pickup if pickup < bar else Fraction(0), bar, PRIMER)
        complete, bars = complete + c, bars + b
    return {
        "nll": scored["nll"],
        "bits_per_note": scored["bits_per_note"],
        "accuracy": scored.get("accuracy"),
        "notes_scored": scored.get("total"),
        "complete_bars": complete,
        "sampled_bars": bars,
        "complete_share": complete / max(bars, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", default=["corpus:essenFolksong"])
    parser.add_argument("--model", default="stateful-lstm")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    started = time.perf_counter()
    songs = melodynet.read(args.inputs, jobs=args.jobs, min_notes=PRIMER + 2)
    train, heldout = melodynet.split_songs(songs, 0.1, 0)
    read_seconds = time.perf_counter() - started
    results: dict = {
        "inputs": args.inputs,
        "songs": len(songs),
        "training_songs": len(train),
        "model": args.model,
        "settings": {k: v for k, v in vars(args).items() if k not in ("inputs", "json")},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "read_seconds": round(read_seconds, 1),
        "runs": {},
    }
    for bar_inputs in (False, True):
        load = os.getloadavg()
        started = time.perf_counter()
        model = melodynet.train(
            train,
            model=args.model,
            bar_inputs=bar_inputs,
            epochs=args.epochs,
            patience=args.patience,
            validation_split=0.05,
            units=args.units,
            batch_size=args.batch_size,
        )
        seconds = time.perf_counter() - started
        known = set(model.codec.vocabulary["note"]) if "note" in model.codec.heads else None
        usable = [
            s
            for s in heldout
            if known is None or all(n.key in known for n in s.notes)  # the network's notes
        ]
        run = measure(model, usable, seed=0)
        run.update(
            heldout_songs=len(usable),
            epochs_run=model.meta.epochs_run,
            best_epoch=model.meta.metrics.get("best_epoch"),
            train_seconds=round(seconds, 1),
            load_average=[round(x, 2) for x in (*load, *os.getloadavg())],
        )
        results["runs"]["with" if bar_inputs else "without"] = run
        print(("with" if bar_inputs else "without") + " bar inputs:", json.dumps(run))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
