#!/usr/bin/env python
"""Rebuild the pretrained bundles of plugins/melodynet-folk from scratch.

    python scripts/pretrain.py                      # every bundle, into the package
    python scripts/pretrain.py german-folk          # one of them
    python scripts/pretrain.py --out /tmp/bundles   # somewhere else
    python scripts/pretrain.py --list               # the recipes and their commands

Each bundle is trained through the public API (``melodynet.read``, ``melodynet.train``)
with the options of its recipe below; ``command`` is the same run as one `melodynet train`
command line. The bundle is saved without its training state (``training-state.npz``
only serves `train --resume`), and ``pretrained.json`` beside its files records the
command, corpus, song and note counts, melodynet version, held-out bits per note (the
validation loss of the weights kept, in bits) with IDyOM's ppm on the same held-out songs,
the time reading and training took and the load average of the machine meanwhile. The
sizes are checked against the package's limits (5 MB a bundle, 15 MB in all).
docs/pretrained.md shows the figures of the shipped bundles; ``--finish-only`` applies
what follows training (the common-key marks, the ppm comparison) to bundles already built.

Songs are read through melodynet's song cache: the first run parses music21's corpus
files (minutes for the dance tunes), later runs read the cache.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_BUNDLES = ROOT / "plugins" / "melodynet-folk" / "melodynet_folk" / "bundles"
MAX_BUNDLE_BYTES = 5_000_000
MAX_TOTAL_BYTES = 15_000_000
NOT_SHIPPED = ("training-state.npz",)

ESSEN = "corpus:essenFolksong"
GERMAN = ("kinder0", "fink0", "erk10", "erk20", "boehme10")
"""Essen's German collections: children's songs, Fink's, Erk's and Böhme's songbooks."""
ONEILL = (
    "0759-0810",  # jigs
    "0900-0950",
    "0981-1000",
    "1031-1115",
    "1136-1175",  # slip jigs
    "1176-1275",  # reels
    "1276-1375",
    "1476-1555",
    "1556-1624",  # hornpipes
    "1701-1780",
)
"""The dance tunes of O'Neill's Music of Ireland (numbers 1-625 are airs), each once (the
collection has some numbers in two transcriptions)."""
SCOTTISH = ("Strathspey", "Fling", "Highland", "Scotch", "Scottish")
"""Ryan's Mammoth Collection's Scottish dances, by title."""


def ryans_scottish() -> tuple[str, ...]:
    from melodynet.songs.corpus import resolve_corpus

    files = [label for _, label in resolve_corpus("ryansMammoth")]
    return tuple(f for f in files if any(word in f.rsplit("/", 1)[-1] for word in SCOTTISH))


@dataclass(frozen=True)
class Recipe:
    """One bundle: what it learns from and how it is trained."""

    name: str
    sources: tuple[str, ...]
    shell_sources: str
    """The sources as the command line writes them (brace expansion for long lists)."""
    train: dict = field(default_factory=dict)
    """melodynet.train options besides the songs."""
    part: int | None = None

    def command(self, out: str) -> str:
        """The `melodynet train` command line of this run."""
        args = ["melodynet", "train", self.shell_sources]
        if self.part is not None:
            args += ["--part", str(self.part)]
        flags = {k: v for k, v in self.train.items() if k != "params"}
        for key, value in flags.items():
            flag = f"--{key.replace('_', '-')}"
            args += [flag] if value is True else [flag, str(value)]
        for key, value in self.train.get("params", {}).items():
            args += ["-p", f"{key}={value}"]
        return " ".join([*args, "--out", out])

    def call(self) -> str:
        """The same run through the Python API (``songs`` as ``corpus`` in pretrained.json)."""
        options = ", ".join(f"{k}={v!r}" for k, v in self.train.items())
        part = f", part={self.part}" if self.part is not None else ""
        return f"melodynet.train(songs{part}, {options})"


COMMON = {
    "model": "stateful-lstm",
    "transpose": "common",
    "validation_split": 0.1,
    "random_seed": 0,
    "bar_inputs": True,
}


def recipes() -> dict[str, Recipe]:
    scottish = ryans_scottish()
    found = (
        Recipe(
            "german-folk",
            tuple(f"{ESSEN}/{name}" for name in GERMAN),
            " ".join(f"{ESSEN}/{name}" for name in GERMAN),
            {
                **COMMON,
                "units": 128,
                "batch_size": 16,
                "epochs": 50,
                "patience": 5,
                "params": {"dropout": 0.2},
            },
        ),
        Recipe(
            "irish-dance",
            (*(f"corpus:oneills1850/{n}" for n in ONEILL), *scottish),
            " ".join([*(f"corpus:oneills1850/{n}" for n in ONEILL), *scottish]),
            {
                **COMMON,
                "units": 128,
                "batch_size": 16,
                "epochs": 50,
                "patience": 5,
                "params": {"dropout": 0.2},
            },
        ),
        Recipe(
            "bach-chorales",
            tuple(f"corpus:bach/bwv{n}.mxl" for n in range(253, 439)),
            "corpus:bach/bwv{253..438}.mxl",
            {
                **COMMON,
                "units": 64,
                "batch_size": 8,
                "epochs": 150,
                "patience": 10,
                "params": {"dropout": 0.3},
            },
            part=1,
        ),
    )
    return {r.name: r for r in found}


NAMES = ("german-folk", "irish-dance", "bach-chorales")


def heldout_bits(meta) -> float | None:
    """The validation loss of the weights kept (the best epoch's), in bits per note."""
    losses = meta.history.get("val_loss") or []
    best = meta.metrics.get("best_epoch") or 0
    if not 0 < best <= len(losses):
        return None
    return losses[best - 1] / math.log(2)


def ppm_heldout_bits(model) -> dict[str, float]:
    """IDyOM's ppm on the same held-out songs, trained on the same training songs, over
    the same symbols (whole notes: pitch and duration, rests included) and scored on the
    same notes (the network's validation loss counts each song's notes from note
    ``window`` on, as melodynet's baselines are scored, so these do too):
    ``ltm`` knows what the network knows; ``both+`` (IDyOM's best) also learns each
    held-out song as it predicts it."""
    import numpy as np

    from melodynet.evaluation.ppm import predict_fold

    training, heldout = model.songs, model.heldout_songs
    alphabet = sorted({n.key for song in [*training, *heldout] for n in song.notes})
    index = {key: i for i, key in enumerate(alphabet)}

    def symbols(song):
        return [index[n.key] for n in song.notes]

    out = {}
    for models in ("ltm", "both+"):
        found = predict_fold(
            [symbols(s) for s in training],
            [symbols(s) for s in heldout],
            len(alphabet),
            {"models": models},
        )
        bits = []
        for song, dist in zip(heldout, found, strict=True):
            seq = symbols(song)
            p = dist[np.arange(len(seq)), seq]
            bits.extend(-np.log2(p[model.meta.window :]))
        out[models] = float(np.mean(bits))
    return out


MARKED = (
    "songs the corpus already has in C major / A minor are marked transposed +0: "
    "--transpose common leaves them unmarked, and generating with --key moves a melody out "
    "of the common key only when every training song is marked"
)


def mark_common_key(directory: Path) -> int:
    """Mark the songs that --transpose common left where they were (already in C major /
    A minor) as moved by 0, as it marks the others; returns how many."""
    path = directory / "melodynet.json"
    meta = json.loads(path.read_text())
    marked = 0
    for song in [*meta["songs"], *meta["validation_songs"]]:
        if "transposed" not in song["extra"]:
            song["extra"]["transposed"] = "+0"
            marked += 1
    if marked:
        path.write_text(json.dumps(meta, indent=1) + "\n")
    return marked


def finish(directory: Path) -> dict:
    """What follows training, for a bundle just built or built before: the common-key
    marks, and ppm's figures on the held-out songs in pretrained.json."""
    import melodynet

    path = directory / "pretrained.json"
    record = json.loads(path.read_text())
    marked = mark_common_key(directory)
    if marked or "marked_transposed_0" not in record:
        record["marked_transposed_0"] = marked
        record["postprocess"] = MARKED
    record["ppm_heldout_bits_per_note"] = ppm_heldout_bits(melodynet.load(directory))
    path.write_text(json.dumps(record, indent=1) + "\n")
    return record


def disk_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def build(recipe: Recipe, out_root: Path, jobs: int, say=print) -> dict:
    """Train ``recipe`` from scratch and write its bundle to ``out_root/NAME``."""
    import melodynet

    target = out_root / recipe.name
    window = 4  # TrainOptions' default: the songs train reads are at least window + 1 notes
    load_start = os.getloadavg()
    started = time.perf_counter()
    songs = melodynet.read(list(recipe.sources), part=recipe.part, jobs=jobs, min_notes=window + 1)
    read_seconds = time.perf_counter() - started
    say(f"{recipe.name}: read {len(songs)} songs in {read_seconds:.0f} s")

    def progress(p) -> None:
        if p.message:
            say(f"{recipe.name}: {p.message.splitlines()[0]}")
        elif p.epoch % 5 == 0 or p.epoch == 1:
            logs = ", ".join(f"{k} {v:.3f}" for k, v in p.logs.items() if k in ("loss", "val_loss"))
            say(f"{recipe.name}: epoch {p.epoch}/{p.epochs}: {logs}")

    started = time.perf_counter()
    model = melodynet.train(songs, progress=progress, **recipe.train)
    train_seconds = time.perf_counter() - started
    load_end = os.getloadavg()

    model.state = None  # the optimizer's state only serves `train --resume`
    with tempfile.TemporaryDirectory() as scratch:
        previous = os.environ.get("MELODYNET_MODELS")
        os.environ["MELODYNET_MODELS"] = scratch  # save() points LATEST there, not at models/
        try:
            staged = model.save(Path(scratch) / recipe.name)
        finally:
            if previous is None:
                os.environ.pop("MELODYNET_MODELS", None)
            else:
                os.environ["MELODYNET_MODELS"] = previous
        for name in NOT_SHIPPED:
            (staged / name).unlink(missing_ok=True)
        meta = model.meta
        record = {
            "name": recipe.name,
            "command": recipe.command(f"bundles/{recipe.name}"),
            "python": recipe.call(),
            "corpus": list(recipe.sources),
            "part": recipe.part,
            "songs": len(meta.songs),
            "training_notes": sum(len(s["notes"]) for s in meta.songs),
            "heldout_songs": len(meta.validation_songs),
            "heldout_notes": sum(len(s["notes"]) for s in meta.validation_songs),
            "heldout_bits_per_note": heldout_bits(meta),
            "vocabulary": {head: len(labels) for head, labels in meta.vocabulary.items()},
            "epochs_run": meta.epochs_run,
            "best_epoch": meta.metrics.get("best_epoch"),
            "stopped_early": meta.metrics.get("stopped_early"),
            "melodynet_version": meta.melodynet_version,
            "versions": meta.versions,
            "read_seconds": round(read_seconds, 1),
            "train_seconds": round(train_seconds, 1),
            "load_average_start": [round(x, 2) for x in load_start],
            "load_average_end": [round(x, 2) for x in load_end],
            "cpus": os.cpu_count(),
            "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        (staged / "pretrained.json").write_text(json.dumps(record, indent=1) + "\n")
        record = finish(staged)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), target)
    record["size_bytes"] = disk_size(target)
    bits = record["heldout_bits_per_note"]
    say(
        f"{recipe.name}: {record['songs']} songs ({record['training_notes']} notes), "
        f"{record['epochs_run']} epochs (best {record['best_epoch']}), held-out "
        f"{bits:.3f} bits/note, trained in {train_seconds:.0f} s (load "
        f"{load_start[0]:.1f} -> {load_end[0]:.1f}), {record['size_bytes'] / 1e6:.2f} MB"
    )
    return record


def check_sizes(out_root: Path, names) -> list[str]:
    """What breaks the size limits (an empty list when nothing does)."""
    problems = []
    sizes = {name: disk_size(out_root / name) for name in names if (out_root / name).is_dir()}
    for name, size in sizes.items():
        if size > MAX_BUNDLE_BYTES:
            problems.append(f"{name} is {size / 1e6:.2f} MB, above {MAX_BUNDLE_BYTES / 1e6:g} MB")
    every = sum(disk_size(p) for p in out_root.iterdir() if p.is_dir())
    if every > MAX_TOTAL_BYTES:
        problems.append(f"the bundles take {every / 1e6:.2f} MB, above {MAX_TOTAL_BYTES / 1e6:g}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names", nargs="*", help=f"bundles to build [default: all: {', '.join(NAMES)}]"
    )
    parser.add_argument("--out", type=Path, default=PACKAGE_BUNDLES, help="where the bundles go")
    parser.add_argument("--jobs", type=int, default=2, help="processes parsing songs not cached")
    parser.add_argument("--list", action="store_true", help="print the recipes and exit")
    parser.add_argument(
        "--finish-only",
        action="store_true",
        help="train nothing: mark the common key and (re)compute the ppm comparison of "
        "bundles already built",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        parser.error(f"unknown bundle {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    names = args.names or list(NAMES)
    found = recipes()
    if args.list:
        for name in names:
            print(f"{name}:\n  {found[name].command(f'bundles/{name}')}")
        return 0
    if args.finish_only:
        for name in names:
            record = finish(args.out / name)
            print(
                f"{name}: marked {record['marked_transposed_0']} songs transposed +0; ppm "
                f"{record['ppm_heldout_bits_per_note']}"
            )
        return 0
    for name in names:
        build(found[name], args.out, args.jobs, say=lambda m: print(m, flush=True))
    problems = check_sizes(args.out, names)
    for problem in problems:
        print(f"too big: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
