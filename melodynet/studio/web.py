"""What every route shares: the studio's parts, JSON in and out, errors as one line."""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from melodynet.errors import MelodynetError
from melodynet.studio.config import Settings
from melodynet.studio.events import Events
from melodynet.studio.generation import Generator
from melodynet.studio.jobs import TrainingQueue
from melodynet.studio.library import Library
from melodynet.studio.models import ModelCache
from melodynet.studio.renders import Renders
from melodynet.studio.security import read_body
from melodynet.studio.storage import Storage

JSON_LIMIT = 256 * 1024
"""The largest JSON body a route reads (a training or generation request is a few hundred
bytes)."""


@dataclass
class Studio:
    settings: Settings
    storage: Storage
    library: Library
    renders: Renders
    models: ModelCache
    events: Events
    queue: TrainingQueue
    generator: Generator
    stopping: bool = False


def studio(request: Request) -> Studio:
    return request.app.state.studio


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def json_body(request: Request) -> dict:
    data = await read_body(request, JSON_LIMIT)
    try:
        found = json.loads(data or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise MelodynetError("the request is not JSON") from None
    if not isinstance(found, dict):
        raise MelodynetError("the request must be a JSON object")
    return found


async def blocking(func, *args, **kwargs):
    """Run ``func`` in the thread pool: the event loop keeps answering meanwhile."""
    return await run_in_threadpool(func, *args, **kwargs)
