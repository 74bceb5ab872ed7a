"""melodynet studio's speed, as a person meets it: the first page load and a constrained
generation round trip with the model already loaded (docs/studio.md reports the figures).

The studio runs as a person starts it (``python -m melodynet studio --no-browser``, in a
subprocess, on a fresh data directory with one bundle), and is measured over HTTP from
this process:

- start-up: from the command to the printed address;
- first page load: everything the page asks for before it is ready (the page, its script
  and style, then the installed models, the songs, the bundles and the results), run
  right after start-up (``first``) and again (``median`` of ``--runs``); and, where
  Playwright and /usr/bin/chromium are present, the same in headless Chromium, from
  navigation to the page saying it is ready (``browser``);
- generation round trip: ``POST /api/generate`` for 64 notes after a 4-note primer under
  key, range, ending and no-copy constraints, the model loaded by one request before
  (``median``, ``p90``, ``max`` of ``--gen-runs``);
- for reference, engraving and audio of one generated melody (the first request for each:
  they are cached after).

The load average before and after is reported with the figures: on a shared 2-core
machine it says how much else was running.

    .venv/bin/python scripts/bench_studio.py                  # about 30 s
    .venv/bin/python scripts/bench_studio.py --bundle models/butterfly --json studio.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import melodynet

ROOT = Path(__file__).resolve().parents[1]
BUTTERFLY = ROOT / "songs" / "butterfly.txt"
PAGE_LOAD = ["/static/studio.js", "/static/studio.css"]
PAGE_API = ["/api/info", "/api/songs", "/api/models", "/api/results"]
GENERATE = {
    "primer": 4,
    "length": 64,
    "key": "C",
    "range": "C4-C6",
    "end": "tonic",
    "no_copy": 8,
}
TARGETS = {"page_load_s": 1.0, "generate_round_trip_s": 0.3}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Studio:
    """``melodynet studio`` in a subprocess, with an HTTP connection to it."""

    def __init__(self, data: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("MELODYNET_MODELS", None)
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "melodynet", "studio", "--no-browser"]
            + ["--port", str(self.port), "--data", str(data)],
            env=env,
            cwd=data.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = ""
        while not self.url:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise SystemExit(f"the studio did not start (exit {self.process.returncode})")
            if found := re.search(r"(http://\S+\?token=(\w+))", line):
                self.url, self.token = found.group(1), found.group(2)
        self.startup_s = time.perf_counter() - started
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        headers = {"X-Studio-Token": self.token, "Host": f"127.0.0.1:{self.port}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):  # uvicorn closes a connection idle for 5 s: open another
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException):
                self.connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        self.connection.close()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def page_load(studio: Studio) -> float:
    """Everything the page asks for before it is ready, one request after another."""
    started = time.perf_counter()
    for path in ["/", *PAGE_LOAD, *PAGE_API]:
        status, _ = studio.request("GET", path)
        if status != 200:
            raise SystemExit(f"GET {path}: {status}")
    return time.perf_counter() - started


def browser_loads(studio: Studio, runs: int) -> list[float] | str:
    import importlib.util

    if importlib.util.find_spec("playwright") is None or not CHROMIUM.exists():
        return "not measured: needs playwright and /usr/bin/chromium"
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for _ in range(runs):
            context = browser.new_context()
            page = context.new_page()
            started = time.perf_counter()
            page.goto(studio.url)
            page.wait_for_selector("body[data-ready=true]", timeout=60_000)
            times.append(time.perf_counter() - started)
            context.close()
        browser.close()
    return times


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "first_s": round(times[0], 4),
        "median_s": round(statistics.median(times), 4),
        "p90_s": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 4),
        "max_s": round(ordered[-1], 4),
        "runs": len(times),
    }


def measure(args) -> dict:
    results: dict = {
        "machine": {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]},
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
        data = Path(tmp) / "data"
        bundle = data / "models" / "bench"
        if args.bundle:
            shutil.copytree(args.bundle, bundle)
        else:  # generation's speed does not depend on how well the model learned
            melodynet.train([str(BUTTERFLY)], model="stateful-lstm", epochs=3, out=bundle)
        studio = Studio(data)
        try:
            results["startup_s"] = round(studio.startup_s, 3)
            loads = [page_load(studio) for _ in range(args.runs)]
            results["page_load"] = summary(loads)
            browser = browser_loads(studio, args.runs) if args.browser else "not measured"
            results["browser_page_load"] = (
                summary(browser) if isinstance(browser, list) else browser
            )
            request = {"model": "bench", **GENERATE}
            started = time.perf_counter()
            status, body = studio.request("POST", "/api/generate", request)
            if status != 200:
                raise SystemExit(f"POST /api/generate: {status} {body[:300]!r}")
            results["generate_cold_s"] = round(time.perf_counter() - started, 4)
            times = []
            for _ in range(args.gen_runs):
                started = time.perf_counter()
                status, body = studio.request("POST", "/api/generate", request)
                times.append(time.perf_counter() - started)
                assert status == 200, body[:300]
            results["generate_round_trip"] = summary(times)
            [made] = json.loads(body)["results"]
            results["generated_notes"] = made["notes"]
            for name, path in [("score_s", "/api/score.svg"), ("audio_s", "/api/audio.wav")]:
                started = time.perf_counter()
                studio.request("GET", f"{path}?ref=result:{made['id']}")
                results[name] = round(time.perf_counter() - started, 3)
        finally:
            studio.stop()
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = judge(results)
    return results


def judge(results: dict) -> list[dict]:
    page = results.get("page_load", {}).get("median_s")
    browser = results.get("browser_page_load")
    if isinstance(browser, dict):
        page = max(page or 0, browser["median_s"])
    generate = results.get("generate_round_trip", {}).get("median_s")
    return [
        {
            "figure": "first page load (median)",
            "target_s": TARGETS["page_load_s"],
            "measured_s": page,
            "met": None if page is None else page < TARGETS["page_load_s"],
        },
        {
            "figure": "64-note constrained generation round trip (median, warm model)",
            "target_s": TARGETS["generate_round_trip_s"],
            "measured_s": generate,
            "met": None if generate is None else generate < TARGETS["generate_round_trip_s"],
        },
    ]


def table(results: dict) -> str:
    def ms(value) -> str:
        return f"{value * 1000:.0f} ms" if isinstance(value, int | float) else str(value)

    rows = [
        ("start-up (command to printed address)", ms(results["startup_s"]), ""),
        (
            "page load over HTTP, first after start-up",
            ms(results["page_load"]["first_s"]),
            "< 1 s",
        ),
        ("page load over HTTP, median", ms(results["page_load"]["median_s"]), "< 1 s"),
    ]
    browser = results["browser_page_load"]
    if isinstance(browser, dict):
        rows.append(("page load in Chromium, first", ms(browser["first_s"]), "< 1 s"))
        rows.append(("page load in Chromium, median", ms(browser["median_s"]), "< 1 s"))
    else:
        rows.append(("page load in Chromium", browser, "< 1 s"))
    gen = results["generate_round_trip"]
    rows += [
        ("generate, first request (loads the model)", ms(results["generate_cold_s"]), ""),
        ("generate 64 notes, constrained, median", ms(gen["median_s"]), "< 300 ms"),
        (
            "generate 64 notes, constrained, p90 / max",
            f"{ms(gen['p90_s'])} / {ms(gen['max_s'])}",
            "",
        ),
        ("engraving of the result (first request)", ms(results["score_s"]), ""),
        ("audio of the result (first request)", ms(results["audio_s"]), ""),
    ]
    lines = ["| figure | measured | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines.append(
        f"\nload average before {results['load_average_before']}, after "
        f"{results['load_average_after']}; {results['machine']['cpu_count']} CPUs"
    )
    for target in results["targets"]:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[target["met"]]
        lines.append(f"target: {target['figure']} < {target['target_s']} s: {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="page loads [5]")
    parser.add_argument("--gen-runs", type=int, default=20, help="generation round trips [20]")
    parser.add_argument("--bundle", type=Path, help="a bundle to generate from [train 3 epochs]")
    parser.add_argument(
        "--no-browser", dest="browser", action="store_false", help="skip the page load in Chromium"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results = measure(args)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
