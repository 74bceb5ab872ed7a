"""The page: one HTML file and its script and style, served as they are (no build step)."""

from __future__ import annotations

import functools
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import melodynet


@functools.cache
def _index() -> str:
    text = resources.files("melodynet.studio").joinpath("templates/index.html").read_text("utf-8")
    return text.replace("{{version}}", melodynet.__version__)


async def index(request: Request) -> HTMLResponse:
    return HTMLResponse(
        _index(),
        headers={
            "cache-control": "no-store",
            "x-frame-options": "DENY",
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "content-security-policy": "default-src 'self'; img-src 'self' data: blob:; "
            "media-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'",
        },
    )


async def favicon(request: Request) -> Response:
    return Response(status_code=204)


def routes() -> list:
    static = StaticFiles(packages=[("melodynet.studio", "static")])
    return [
        Route("/", index),
        Route("/favicon.ico", favicon),
        Mount("/static", app=static, name="static"),
    ]
