"""Running the studio: uvicorn on the bound address, the URL printed, the browser opened.

Ctrl-C stops it cleanly: open event streams get a second to finish, then the training that
is running is asked to stop (its bundle saved as it stands, resumable from the page).
"""

from __future__ import annotations

import contextlib
import threading
import webbrowser
from collections.abc import Callable

from melodynet.studio.config import Settings

GRACE = 1
"""Seconds open connections (the pages' event streams) get to finish at shutdown."""


def make_server(settings: Settings, **app_options):
    import uvicorn

    from melodynet.studio.app import create_app

    config = uvicorn.Config(
        create_app(settings, **app_options),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACE,
        lifespan="on",
    )
    return uvicorn.Server(config)


def serve(
    settings: Settings,
    *,
    open_browser: bool = True,
    say: Callable[[str], None] = print,
) -> None:
    """Serve until Ctrl-C (or SIGTERM); print the URL once listening."""
    server = make_server(settings)

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if not server.started:
            return
        say(f"melodynet studio is running: {settings.url}")
        say(f"Data: {settings.data}")
        say("Press Ctrl-C to stop.")
        if open_browser:
            with contextlib.suppress(Exception):  # no browser: the printed URL is enough
                webbrowser.open(settings.url)

    threading.Thread(target=announce, daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn raises Ctrl-C again once stopped
        server.run()
    say("melodynet studio stopped.")
