"""The studio as an ASGI app: its parts made from the settings, the routes, the guard, the
errors as one line each, and the training queue started and stopped with the app."""

from __future__ import annotations

import contextlib
import logging
import threading

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from melodynet.errors import MelodynetError
from melodynet.studio import api_jobs, api_models, api_songs, pages
from melodynet.studio.config import Settings
from melodynet.studio.events import Events
from melodynet.studio.generation import Generator
from melodynet.studio.jobs import TrainingQueue
from melodynet.studio.library import Library
from melodynet.studio.messages import error_line, page_message
from melodynet.studio.models import ModelCache, pretrained_bundles
from melodynet.studio.renders import Renders
from melodynet.studio.security import Guard, TooLarge
from melodynet.studio.storage import NotFound, Storage
from melodynet.studio.web import Studio

log = logging.getLogger("melodynet.studio")


def make_studio(settings: Settings, bundled=None) -> Studio:
    storage = Storage(settings.data)
    library = Library(storage) if bundled is None else Library(storage, bundled)
    models = ModelCache(storage, settings.model_cache)
    events = Events()
    queue = TrainingQueue(storage, library, events, on_trained=models.forget)
    return Studio(
        settings=settings,
        storage=storage,
        library=library,
        renders=Renders(storage),
        models=models,
        events=events,
        queue=queue,
        generator=Generator(storage, library, models),
    )


async def _melodynet_error(request: Request, exc: MelodynetError) -> JSONResponse:
    return JSONResponse({"error": page_message(exc)}, status_code=400)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": "not found"}, status_code=404)


async def _too_large(request: Request, exc: TooLarge) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=413)


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    log.exception("studio: %s %s", request.method, request.url.path)
    return JSONResponse({"error": error_line(exc)}, status_code=500)


def create_app(settings: Settings, *, bundled=None, warm: bool = True):
    """The studio app for ``settings``, wrapped in its guard. ``bundled``: the directory
    of bundled songs (default melodynet's ``songs/``); ``warm``: read the song list in
    the background at start, so the first page finds it ready.

    Each bundle saved points ``$MELODYNET_MODELS/LATEST`` at itself: ``melodynet studio``
    sets that variable to the data directory's ``models/``; a program serving this app
    should do the same."""
    studio = make_studio(settings, bundled)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        studio.stopping = False
        studio.queue.start()
        if warm:
            threading.Thread(target=_warm, args=(studio,), daemon=True).start()
        try:
            yield
        finally:
            studio.stopping = True
            studio.queue.stop()

    app = Starlette(
        routes=[
            *pages.routes(),
            *api_songs.routes(),
            *api_models.routes(),
            *api_jobs.routes(),
        ],
        exception_handlers={
            MelodynetError: _melodynet_error,
            NotFound: _not_found,
            404: _not_found,
            TooLarge: _too_large,
            Exception: _bug,
        },
        lifespan=lifespan,
    )
    app.state.studio = studio
    return Guard(app, settings)


def _warm(studio: Studio) -> None:
    with contextlib.suppress(Exception):
        studio.library.catalog()
        from melodynet.plugins import registry

        registry()
        pretrained_bundles()  # their metadata read once, before the page asks
