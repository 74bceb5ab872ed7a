#!/usr/bin/env python
"""How good the pretrained bundles are, shown: the "Quality" section of docs/pretrained.md.

    python scripts/bundle_quality.py                  # every installed bundle: print the section
    python scripts/bundle_quality.py german-folk      # the bundles named
    python scripts/bundle_quality.py --update-docs    # and write it into docs/pretrained.md
    python scripts/bundle_quality.py --samples 10     # a quick look (the docs use 100)
    python scripts/bundle_quality.py --json q.json    # the figures, as JSON too

For each installed pretrained bundle (`melodynet bundles --json`), through the public API
(``melodynet.load``, ``Model.generate``, ``Model.evaluate``, ``Song``) and the command line:

- **Samples**: ``--samples`` N melodies (100), ``Model.generate(meter=M, bars=16,
  temperature=1, random_seed=k)`` for k = 0 .. N-1, where M is the meter most of the
  bundle's training songs are in; the primer is ``generate``'s default (the first 4 notes
  of the first training song), as with ``melodynet generate`` without ``--seed``; no
  ``--key``, so the melodies are in the bundle's common key, as its training songs are.
- ``Model.evaluate(stats=<the samples>)`` gives the rest:
  **held-out bits per note** (``heldout``: the NLL of the held-out songs from note
  ``window`` on, nats / ln 2, the network's and the order-3 n-gram's), shown beside IDyOM's
  ``ppm`` on the same songs and notes as ``scripts/pretrain.py`` recorded it in the
  bundle's ``pretrained.json`` (``ltm``: what the network knows; ``both+``: IDyOM's best);
  and the **musical statistics** (``stats``, what ``melodynet evaluate --stats`` prints) of
  the generated notes (the primer left out) against the training songs: pitch range,
  pitch-class entropy, scale consistency and repeated-note rate, mean ± standard
  deviation over the melodies, and z (the difference of the means in the training songs'
  standard deviations).
- **Copying**: ``song.extra["longest_copy"]`` of each sample, the most notes in a row after
  the primer it shares with a training song in any transposition (what ``generate``
  reports for every melody it writes).
- **An engraved example**: sample 0, written by running the `melodynet generate ... --out
  docs/images/quality-NAME.svg` command the section shows (verovio SVG; ``--images DIR``
  writes them elsewhere); the script checks that the command's melody is the API's
  sample 0.

``--update-docs`` replaces what lies between the ``<!-- quality:begin -->`` and
``<!-- quality:end -->`` lines of docs/pretrained.md and leaves the rest of the page alone.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "pretrained.md"
IMAGES = ROOT / "docs" / "images"
BEGIN, END = "<!-- quality:begin -->", "<!-- quality:end -->"
BARS = 16
TEMPERATURE = 1.0
METRICS = {
    "pitch_range": ("pitch range", "semitones", 1),
    "pitch_class_entropy": ("pitch-class entropy", "bits", 2),
    "scale_consistency": ("scale consistency", "", 3),
    "repeated_note_rate": ("repeated-note rate", "", 3),
}
"""The metrics shown: (heading, unit, decimals)."""


def melodynet_cli(*args: str) -> subprocess.CompletedProcess:
    """``melodynet ARGS`` in this Python, as a user runs it; fails loudly."""
    done = subprocess.run(
        [sys.executable, "-m", "melodynet", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode:
        raise SystemExit(f"melodynet {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done


def installed_bundles() -> list[dict]:
    """The pretrained bundles installed plugins ship, as `melodynet bundles --json` lists them."""
    found = json.loads(melodynet_cli("bundles", "--json").stdout)
    return [b for b in found if b["source"] == "plugin"]


def usual_meter(songs) -> str:
    """The time signature most of ``songs`` are in (the first of equals, by name)."""
    counts = Counter(s.time_signature for s in songs)
    return min(counts, key=lambda m: (-counts[m], m))


def generated_part(song):
    """The notes the model added (the primer left out), as a Song."""
    import melodynet

    primer = int(song.extra.get("primer", 0))
    return melodynet.Song(song.notes[primer:], song.title, time_signature=song.time_signature)


def shown_path(path: Path) -> str:
    """``path`` as the docs show it: from the repository root when it is inside."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def example_command(name: str, meter: str, svg: Path) -> list[str]:
    return [
        "generate",
        "--model-dir",
        name,
        "--meter",
        meter,
        "--bars",
        str(BARS),
        "--temperature",
        f"{TEMPERATURE:g}",
        "--random-seed",
        "0",
        "--out",
        shown_path(svg),
    ]


def measure(entry: dict, samples: int, images: Path, say=print) -> dict:
    """Every figure of one bundle (``entry``: its `melodynet bundles --json` record)."""
    import melodynet

    name = entry["name"]
    started = time.perf_counter()
    model = melodynet.load(name)
    meter = usual_meter(model.songs)
    out: dict = {
        "name": name,
        "model": model.meta.model,
        "window": model.meta.window,
        "songs": len(model.songs),
        "song_notes_mean": statistics.fmean(len(s.notes) for s in model.songs),
        "heldout_songs": len(model.heldout_songs),
        "meter": meter,
        "meters": dict(Counter(s.time_signature for s in model.songs).most_common(5)),
    }

    t = time.perf_counter()
    melodies = [
        model.generate(meter=meter, bars=BARS, temperature=TEMPERATURE, random_seed=seed)
        for seed in range(samples)
    ]
    out["samples"] = {
        "count": samples,
        "primer_notes": int(melodies[0].extra.get("primer", 0)),
        "seconds": round(time.perf_counter() - t, 1),
    }
    made = [generated_part(m) for m in melodies]
    out["samples"]["notes_mean"] = statistics.fmean(len(m.notes) for m in made)
    say(f"{name}: {samples} melodies in {out['samples']['seconds']} s")

    t = time.perf_counter()
    evaluated = model.evaluate(stats=made)  # held-out NLL, and the statistics of ``made``
    out["evaluate_seconds"] = round(time.perf_counter() - t, 1)
    out["heldout"] = evaluated.get("heldout", [])
    out["stats"] = evaluated["stats"]
    ppm = (entry.get("pretrained") or {}).get("ppm_heldout_bits_per_note") or {}
    out["ppm"] = {k: ppm.get(k) for k in ("ltm", "both+")}
    bits = out["heldout"][0]["bits_per_note"] if out["heldout"] else None
    say(f"{name}: evaluated in {out['evaluate_seconds']} s; held out {bits} bits/note")

    copies = [int(m.extra["longest_copy"]) for m in melodies]
    out["longest_copy"] = {
        "median": statistics.median(copies),
        "p90": sorted(copies)[math.ceil(0.9 * len(copies)) - 1],
        "max": max(copies),
        "at_least_8": sum(c >= 8 for c in copies),
        "all": copies,
    }

    images.mkdir(parents=True, exist_ok=True)
    svg = images.resolve() / f"quality-{name}.svg"
    command = example_command(name, meter, svg)
    shown = melodynet_cli(*command).stdout.split("\n")[0].strip()
    if shown != melodies[0].tiny():
        raise SystemExit(f"{name}: the example command's melody is not the API's sample 0")
    out["example"] = {
        "svg": str(svg),
        "link": os.path.relpath(svg, DOCS.parent),
        "command": "melodynet " + " ".join(command),
        "longest_copy": copies[0],
        "notes": len(made[0].notes),
    }
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def _cell(summary: dict, decimals: int) -> str:
    mean, std = summary["mean"], summary["std"]
    if mean is None:
        return "-"
    return f"{mean:.{decimals}f} ± {std:.{decimals}f}"


def _bits(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _paragraph(text: str) -> list[str]:
    """Prose wrapped as the docs are (90 columns), then a blank line."""
    wrapped = textwrap.fill(text, 90, break_long_words=False, break_on_hyphens=False)
    return [*wrapped.split("\n"), ""]


def markdown(results: list[dict], machine: dict) -> str:
    """The docs section: how it was made, then the tables and the examples."""
    samples = results[0]["samples"]["count"] if results else 0
    primer = results[0]["samples"]["primer_notes"] if results else 0
    windows = sorted({r["window"] for r in results})
    count = f"{len(results)} bundle{'s' * (len(results) != 1)}"
    lines = ["## Quality", ""]
    lines += _paragraph(
        f"`python scripts/bundle_quality.py --update-docs` measures every installed bundle "
        f"and rewrites this section (the figures, and the images under `docs/images/`); it "
        f"took {machine['seconds']:.0f} s for the {count} on {machine['cpus']} CPU cores "
        f"({machine['platform']}, Python {machine['python']}; load average "
        f"{machine['load_before']:.1f} before, {machine['load_after']:.1f} after), on "
        f"{machine['date']}. Each bundle generated {samples} melodies, `Model.generate("
        f"meter=M, bars={BARS}, temperature={TEMPERATURE:g}, random_seed=k)` for k = 0 … "
        f"{samples - 1} (`melodynet generate --model-dir NAME --meter M --bars {BARS} "
        f"--temperature {TEMPERATURE:g} --random-seed k`), where M is the meter most of its "
        f"training songs are in; the primer is `generate`'s default, the first {primer} notes "
        "of the bundle's first training song, which the statistics leave out; without "
        "`--key` the melodies are in the common key the training songs were moved to."
    )
    lines += _paragraph(
        "**Held-out bits per note**, pitch and duration together, from each song's note "
        f"{windows[0] + 1 if windows else 5} on (`melodynet evaluate --bits`, "
        "`Model.evaluate()['heldout']`), against IDyOM's `ppm` on the same songs and notes "
        "(recorded in `pretrained.json` by `scripts/pretrain.py`; see above) and "
        "`evaluate`'s order-3 n-gram baseline:"
    )
    lines += [
        "| bundle | held-out songs (notes) | network | ppm LTM | ppm LTM+ with STM "
        "| order-3 n-gram |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        scores = {row["name"]: row for row in r["heldout"]}
        net = r["heldout"][0] if r["heldout"] else {}
        ngram = scores.get("order-3 n-gram", {})
        lines.append(
            f"| `{r['name']}` | {r['heldout_songs']:,} ({net.get('total', 0):,}) | "
            f"**{_bits(net.get('bits_per_note'))}** | {_bits(r['ppm']['ltm'])} | "
            f"{_bits(r['ppm']['both+'])} | {_bits(ngram.get('bits_per_note'))} |"
        )
    heads = [f"{h} ({u})" if u else h for h, u, _ in METRICS.values()]
    lines.append("")
    lines += _paragraph(
        f"**Musical statistics** of the {samples} melodies (the notes they add to the "
        "primer) against the bundle's training songs (`Model.evaluate(stats=melodies)`): "
        "mean ± standard deviation over the melodies, and z, the difference of the means in "
        "the training songs' standard deviations (within about 1: like them on that "
        "measure); in brackets, the mean number of notes, which the pitch range grows "
        "with. Rests are not notes here; pitch-class entropy is 3.585 bits for all twelve pitch "
        "classes equally often; scale consistency is the largest share of the notes in one "
        "major or minor scale; the repeated-note rate is the share of consecutive notes on "
        "the same pitch (`melodynet evaluate --stats N` prints the same measures)."
    )
    lines += [
        f"| bundle | melodies | {' | '.join(heads)} |",
        "|---|---|" + "---|" * len(heads),
    ]
    for r in results:
        rows = {row["metric"]: row for row in r["stats"]}
        generated, corpus, z = [], [], []
        for metric, (_, _, decimals) in METRICS.items():
            row = rows[metric]
            generated.append(_cell(row["generated"], decimals))
            corpus.append(_cell(row["training"], decimals))
            z.append("-" if row["z"] is None else f"{row['z']:+.2f}")
        lines.append(
            f"| `{r['name']}` | {r['samples']['count']} sampled in {r['meter']} "
            f"({r['samples']['notes_mean']:.0f} notes) | {' | '.join(generated)} |"
        )
        lines.append(
            f"| | training: {r['songs']:,} songs ({r['song_notes_mean']:.0f} notes) | "
            f"{' | '.join(corpus)} |"
        )
        lines.append(f"| | z | {' | '.join(z)} |")
    lines.append("")
    lines += _paragraph(
        "**Copying**: the longest run of notes in a row each melody shares with a training "
        "song, in any transposition, the primer left out (`song.extra['longest_copy']`, "
        "which `melodynet generate` reports for every melody it writes; `--no-copy N` "
        "forbids runs of N):"
    )
    lines += [
        "| bundle | median | 90th percentile | longest | melodies with a run of 8 or more |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        c = r["longest_copy"]
        lines.append(
            f"| `{r['name']}` | {c['median']:g} | {c['p90']} | {c['max']} | "
            f"{c['at_least_8']} of {r['samples']['count']} |"
        )
    lines.append("")
    lines += _paragraph(
        "**One example each**: sample 0 of the above, engraved by the command under it "
        "(verovio SVG; the title names the training song the primer came from)."
    )
    for r in results:
        e = r["example"]
        lines += [
            f"`{r['name']}`, {r['meter']}: {e['notes']} notes after the primer, longest "
            f"copied run {e['longest_copy']}.",
            "",
            f"![{r['name']}: sample 0, {BARS} bars in {r['meter']}]({e['link']})",
            "",
            "```bash",
            e["command"],
            "```",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def update_docs(section: str, path: Path = DOCS) -> None:
    text = path.read_text(encoding="utf-8")
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise SystemExit(f"{path}: needs one '{BEGIN}' line and one '{END}' line after it")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{section}{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundles", nargs="*", help="bundle names [default: every installed one]")
    parser.add_argument("--samples", type=int, default=100, help="melodies per bundle")
    parser.add_argument("--update-docs", action="store_true", help=f"write the section in {DOCS}")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--images", type=Path, default=IMAGES, help=f"where the SVGs go [{shown_path(IMAGES)}]"
    )
    args = parser.parse_args(argv)
    if args.samples < 1:
        parser.error("--samples must be at least 1")

    installed = installed_bundles()
    known = {b["name"]: b for b in installed}
    unknown = [n for n in args.bundles if n not in known]
    if unknown:
        parser.error(
            f"not installed: {', '.join(unknown)}; installed: {', '.join(known) or 'none'}"
        )
    chosen = [known[n] for n in args.bundles] or installed
    if not chosen:
        parser.error("no pretrained bundles installed (pip install -e plugins/melodynet-folk)")

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    load_before, started = os.getloadavg()[0], time.perf_counter()
    results = [measure(entry, args.samples, args.images, say) for entry in chosen]
    machine = {
        "cpus": os.cpu_count(),
        "platform": f"{platform.system()} {platform.machine()}",
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "seconds": time.perf_counter() - started,
    }
    section = markdown(results, machine)
    print(section, end="")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "bundles": results}, indent=1) + "\n")
    if args.update_docs:
        update_docs(section)
        say(f"wrote the section into {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
