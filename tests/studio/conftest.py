"""Fixtures for the studio's tests: an app on a fresh data directory, clients with and
without the token, a small bundle (3 epochs on butterfly), a live server for browsers."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

TOKEN = "0123456789abcdef0123456789abcdef"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"


@pytest.fixture
def settings(tmp_path, monkeypatch):
    from melodynet.studio.config import Settings

    monkeypatch.setenv("MELODYNET_MODELS", str(tmp_path / "data" / "models"))
    return Settings(data=tmp_path / "data", token=TOKEN, port=PORT)


@pytest.fixture
def app(settings):
    from melodynet.studio.app import create_app

    return create_app(settings, warm=False)


def studio_of(app):
    """The Studio behind the guard (its parts: queue, storage, library...)."""
    return app.app.state.studio


@pytest.fixture
def client(app):
    from starlette.testclient import TestClient

    with TestClient(app, base_url=BASE, headers={"X-Studio-Token": TOKEN}) as c:
        yield c


@pytest.fixture
def anon(app):
    """A client that carries no token."""
    from starlette.testclient import TestClient

    with TestClient(app, base_url=BASE) as c:
        yield c


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory) -> Path:
    """A stateful LSTM trained 3 epochs on butterfly: enough to generate from, quickly."""
    import melodynet
    from tests.conftest import BUTTERFLY

    out = tmp_path_factory.mktemp("studio-bundle") / "butterfly"
    melodynet.train([str(BUTTERFLY)], model="stateful-lstm", epochs=3, out=out)
    return out


@pytest.fixture
def with_bundle(settings, small_bundle) -> str:
    """The small bundle copied into the studio's models/ as 'butterfly'."""
    shutil.copytree(small_bundle, settings.data / "models" / "butterfly")
    return "butterfly"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(tmp_path, monkeypatch):
    """The studio served by uvicorn on a free loopback port, in a thread; yields
    (settings, base URL)."""
    from melodynet.studio.config import Settings
    from melodynet.studio.server import make_server

    port = free_port()
    monkeypatch.setenv("MELODYNET_MODELS", str(tmp_path / "data" / "models"))
    settings = Settings(data=tmp_path / "data", token=TOKEN, port=port)
    server = make_server(settings)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the studio did not start"
        assert thread.is_alive(), "the studio stopped while starting"
        time.sleep(0.05)
    yield settings, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(60)
