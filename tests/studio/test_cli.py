"""`melodynet studio` as a person runs it: the address printed, served, stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.studio.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_help(runner):
    result = runner("studio", "--help")
    assert result.exit_code == 0
    for flag in ("--host", "--port", "--no-browser", "--data"):
        assert flag in result.output


class Studio:
    """``melodynet studio`` in a subprocess, its output read line by line."""

    def __init__(self, *args: str, data: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "BROWSER": "false"}
        env.pop("MELODYNET_MODELS", None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "melodynet",
                "studio",
                "--no-browser",
                "--data",
                str(data),
                *args,
            ],
            cwd=data.parent,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.url = ""
        deadline = time.monotonic() + 60
        while not self.url:
            assert time.monotonic() < deadline, self.lines
            line = self.process.stdout.readline()
            assert line or self.process.poll() is None, self.lines
            self.lines.append(line.rstrip())
            if found := re.search(r"(http://\S+\?token=[0-9a-f]{48})", line):
                self.url = found.group(1)

    def request(self, path: str, body: dict | None = None):
        base, token = self.url.split("/?token=")
        request = urllib.request.Request(
            base + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"X-Studio-Token": token, "content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")

    def interrupt(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=90)
        return self.process.returncode, "\n".join([*self.lines, out])


def test_the_address_serves_and_ctrl_c_stops(tmp_path):
    port = free_port()
    studio = Studio("--port", str(port), data=tmp_path / "data")
    try:
        assert studio.url.startswith(f"http://127.0.0.1:{port}/?token=")
        assert not any("Warning" in line for line in studio.lines)
        status, info = studio.request("/api/info")
        assert status == 200 and info["upload_limit"] == 10 * 1024 * 1024
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=10)
        assert refused.value.code == 403
    finally:
        code, output = studio.interrupt()
    assert code == 0, output
    assert "Traceback" not in output
    assert "melodynet studio stopped." in output.splitlines()  # stdout and stderr interleave
    assert (tmp_path / "data" / "models").is_dir()


def test_a_non_loopback_host_warns(tmp_path):
    studio = Studio("--host", "0.0.0.0", "--port", str(free_port()), data=tmp_path / "data")
    try:
        assert any(line.startswith("Warning: listening on 0.0.0.0") for line in studio.lines)
        assert studio.request("/api/info")[0] == 200  # through 127.0.0.1 still
    finally:
        studio.interrupt()


def test_a_port_in_use_is_one_line(tmp_path, runner):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = subprocess.run(
            [
                sys.executable,
                "-m",
                "melodynet",
                "studio",
                "--no-browser",
                "--port",
                str(port),
                "--data",
                str(tmp_path / "d"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert process.returncode != 0
    assert "Traceback" not in process.stderr + process.stdout


@pytest.mark.slow
def test_restart_mid_training_loses_nothing(tmp_path):
    """Ctrl-C during a training saves its bundle; the next studio shows the job
    interrupted and resumes it from the page."""
    data = tmp_path / "data"
    port = str(free_port())
    studio = Studio("--port", port, data=data)
    try:
        status, job = studio.request(
            "/api/jobs", {"songs": ["bundled:butterfly"], "epochs": 400, "stop_when_perfect": False}
        )
        assert status == 201
        deadline = time.monotonic() + 120
        while studio.request("/api/jobs")[1]["jobs"][0]["epoch"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        code, output = studio.interrupt()
    assert code == 0, output
    record = json.loads((data / "jobs" / f"{job['id']}.json").read_text())
    assert record["status"] == "interrupted" and record["resumable"] is True, record
    assert (data / "models" / job["name"] / "melodynet.json").is_file()
    assert not (tmp_path / "models").exists()  # LATEST went to the data directory

    studio = Studio("--port", port, data=data)
    try:
        [again] = studio.request("/api/jobs")[1]["jobs"]
        assert again["status"] == "interrupted" and again["epoch"] == record["epoch"]
        epochs = record["epoch"] + 1
        status, resumed = studio.request(f"/api/models/{job['name']}/resume", {"epochs": epochs})
        assert status == 201
        deadline = time.monotonic() + 120
        while (found := studio.request("/api/jobs")[1]["jobs"])[-1]["status"] != "done":
            assert found[-1]["status"] in ("queued", "running"), found[-1]
            assert time.monotonic() < deadline
            time.sleep(0.2)
        [bundle] = studio.request("/api/models")[1]["models"]
        assert bundle["epochs_run"] == epochs and bundle["status"] == "complete"
    finally:
        studio.interrupt()
