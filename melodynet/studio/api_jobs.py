"""Training jobs: queue, list, cancel, and the live stream of what happens (server-sent
events: ``snapshot`` first, then ``job``, ``epoch`` and ``message`` events in order)."""

from __future__ import annotations

import asyncio
import json
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from melodynet.studio.web import blocking, json_body, studio

POLL = 0.2
"""Seconds between looks for new events."""
HEARTBEAT = 15.0


async def list_jobs(request: Request) -> JSONResponse:
    return JSONResponse({"jobs": studio(request).queue.list()})


async def submit(request: Request) -> JSONResponse:
    s = studio(request)
    body = await json_body(request)
    return JSONResponse(await blocking(s.queue.submit, body), status_code=201)


async def cancel(request: Request) -> JSONResponse:
    return JSONResponse(studio(request).queue.cancel(request.path_params["job"]))


def _event(kind: str, data: dict, seq: int | None = None) -> str:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data)}\n\n"


async def events(request: Request) -> StreamingResponse:
    s = studio(request)
    try:  # tests: end the stream after this many seconds
        limit = max(0.0, float(request.query_params.get("seconds", "0") or 0))
    except ValueError:
        limit = 0.0

    async def stream():
        started = time.monotonic()
        seq = s.events.last
        yield _event("snapshot", {"jobs": s.queue.list()}, seq)
        beat = time.monotonic()
        while not s.stopping:
            items, complete = s.events.since(seq)
            if not complete:
                seq = s.events.last
                yield _event("snapshot", {"jobs": s.queue.list()}, seq)
                continue
            for seq, data in items:
                yield _event(data["type"], data, seq)
            if time.monotonic() - beat > HEARTBEAT:
                beat = time.monotonic()
                yield ": still here\n\n"
            if limit and time.monotonic() - started > limit:
                return
            await asyncio.sleep(POLL)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


def routes() -> list:
    return [
        Route("/api/jobs", list_jobs, methods=["GET"]),
        Route("/api/jobs", submit, methods=["POST"]),
        Route("/api/jobs/{job}/cancel", cancel, methods=["POST"]),
        Route("/api/events", events, methods=["GET"]),
    ]
