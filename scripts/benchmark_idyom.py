"""Rerun Pearce's (2005) IDyOM table with melodynet's ppm: bits per note by 10-fold
cross-validation on kinder and the Bach chorales, next to the published figures.

    python scripts/benchmark_idyom.py                    # both data sets, the four rows
    python scripts/benchmark_idyom.py --datasets kinder --json results.json
    python scripts/benchmark_idyom.py --extra            # also geometric combinations
    python scripts/benchmark_idyom.py --network          # also the best network (slow)

Uses the public API only (melodynet.read, melodynet.crossval); docs/benchmarks.md gives
the protocol, the choices behind it and the figures it printed.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import melodynet

DATASETS = {
    # Pearce's dataset 7: music21's Essen collection kinder0, X:1-213
    "kinder": {"sources": ["corpus:essenFolksong/kinder0"], "part": None},
    # Pearce's dataset 2: the soprano (part 1) of BWV 253-438, music21's .mxl files
    "chorales": {
        "sources": [f"corpus:bach/bwv{n}.mxl" for n in range(253, 439)],
        "part": 1,
    },
}
PEARCE = {
    # Table 4.1 (melodies, events, pitches) and Table 6.6 (bits per note)
    "kinder": {"melodies": 213, "notes": 8393, "pitches": 27},
    "chorales": {"melodies": 185, "notes": 9227, "pitches": 21},
}
VIEWPOINTS = "both+,interval-ltm+,interval-degree-ltm+,degree-beat-ltm+,interval-ioi-ltm+"
"""PPM models over pitch and over viewpoints of it (melodynet.evaluation.viewpoints): the
LTM+ and STM over pitches, and LTM+ over the interval, the interval linked with the scale
degree, the degree linked with the position in the bar and the interval linked with the
inter-onset interval."""
ROWS = [
    ("STM C*I", {"params": {"models": "stm"}}, {"kinder": 2.693, "chorales": 3.139}),
    ("LTM C*I", {"params": {"models": "ltm"}}, {"kinder": 2.428, "chorales": 2.444}),
    ("LTM+ C*I", {"params": {"models": "ltm+"}}, {"kinder": 2.237, "chorales": 2.375}),
    (
        "LTM+ C*I + STM C*I, b=2",
        {"params": {"models": "both+"}},
        {"kinder": 2.106, "chorales": 2.347},
    ),
    (
        "multiple viewpoints (Pearce: his selection for the chorales; ppm: VIEWPOINTS)",
        {"mix": VIEWPOINTS},
        {"chorales": 1.953},
    ),
]
NETWORK = {
    # the best network configuration of docs/benchmarks.md (issue 15): a stateful LSTM
    # on pitch and duration, transposition-augmented, early-stopped inside the training
    # folds, mixed with the PPM models of VIEWPOINTS
    "model": "stateful-lstm",
    "encoding": "split",
    "units": 192,
    "params": {"dropout": 0.4},
    "batch_size": 16,
    "learning_rate": 0.005,
    "augment": 6,
    "epochs": 25,
    "patience": 3,
    "mix": VIEWPOINTS,
}
"""``melodynet crossval SONGS --model stateful-lstm --encoding split --units 192 -p
dropout=0.4 --batch-size 16 --learning-rate 0.005 --augment 6 --epochs 25 --patience 3
--mix both+,interval-ltm+,interval-degree-ltm+,degree-beat-ltm+,interval-ioi-ltm+``"""
NETWORK_TARGET = {"kinder": 2.00, "chorales": 1.90}
"""Issue 15's targets for a network (melody mean, bits per note)."""
EXTRA = [
    ("... geometric, b=2", {"params": {"models": "both+", "combination": "geometric"}}, {}),
    (
        "... geometric, b=7 (IDyOM's default)",
        {"params": {"models": "both+", "combination": "geometric", "bias": 7}},
        {},
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="kinder,chorales", help="comma list")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--random-seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="processes parsing scores")
    parser.add_argument("--extra", action="store_true", help="also geometric combinations")
    parser.add_argument(
        "--network",
        action="store_true",
        help="also the best network configuration (NETWORK; about 20 min a data set)",
    )
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()

    rows = ROWS + (EXTRA if args.extra else [])
    results = {}
    for name in args.datasets.split(","):
        spec = DATASETS[name]
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            songs = melodynet.read(spec["sources"], part=spec["part"], jobs=args.jobs)
        read_s = time.perf_counter() - started
        results[name] = {"read_seconds": round(read_s, 2), "rows": []}
        for label, settings, published in rows:
            r = melodynet.crossval(
                songs, model="ppm", folds=args.folds, random_seed=args.random_seed, **settings
            )
            results[name].update(
                melodies=r.melodies, notes=r.notes, pitches=len(r.alphabet), folds=len(r.folds)
            )
            results[name]["rows"].append(
                {
                    "row": label,
                    "description": r.description,
                    "settings": settings,
                    "pearce": published.get(name),
                    "melody_mean": round(r.melody_mean, 6),
                    "bits_per_note": round(r.bits_per_note, 6),
                    "seconds": round(r.seconds, 2),
                }
            )
        if args.network:
            import os

            load = os.getloadavg()
            r = melodynet.crossval(songs, folds=args.folds, random_seed=args.random_seed, **NETWORK)
            results[name]["rows"].append(
                {
                    "row": "network: " + r.description,
                    "description": r.description,
                    "settings": NETWORK,
                    "pearce": None,
                    "target": NETWORK_TARGET[name],
                    "melody_mean": round(r.melody_mean, 6),
                    "bits_per_note": round(r.bits_per_note, 6),
                    "fold_melody_means": [round(f.melody_mean, 4) for f in r.folds],
                    "seconds": round(r.seconds, 2),
                    "load_average": [round(x, 2) for x in (*load, *os.getloadavg())],
                }
            )

    for name, res in results.items():
        ref = PEARCE[name]
        print(
            f"\n{name}: {res['melodies']} melodies, {res['notes']} notes, {res['pitches']} "
            f"pitches (Pearce: {ref['melodies']}, {ref['notes']}, {ref['pitches']}); "
            f"{res['folds']}-fold, seed {args.random_seed}; read in {res['read_seconds']} s\n"
        )
        print("| model | Pearce | melody mean | difference | all notes | seconds |")
        print("|---|---|---|---|---|---|")
        for row in res["rows"]:
            published = row["pearce"] or row.get("target")
            diff = f"{row['melody_mean'] - published:+.3f}" if published else "-"
            shown = f"target {published:.2f}" if row.get("target") else (published or "-")
            print(
                f"| {row['row']} | {shown} | "
                f"{row['melody_mean']:.3f} | {diff} | {row['bits_per_note']:.3f} | "
                f"{row['seconds']:.1f} |"
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
