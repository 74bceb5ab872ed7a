"""Models: what can be trained (every installed plugin's), the bundles (the person's own
and the pretrained ones plugins ship), generating, and deleting bundles and results."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import melodynet
from melodynet.studio.library import readable_suffixes
from melodynet.studio.models import list_bundles, pretrained_bundles
from melodynet.studio.renders import download_formats
from melodynet.studio.surprise import legend
from melodynet.studio.web import blocking, json_body, studio


def _installed() -> dict:
    from melodynet.plugins import registry

    reg = registry()
    models = []
    for name, provided in sorted(reg.models.items()):
        spec = provided.spec
        models.append(
            {
                "name": name,
                "plugin": provided.plugin,
                "description": spec.description,
                "sequence": spec.sequence,
                "params": [
                    {
                        "name": p.name,
                        "type": p.type,
                        "default": p.default,
                        "help": p.help,
                        "low": p.low,
                        "high": p.high,
                        "choices": list(p.choices),
                    }
                    for p in spec.params
                ],
            }
        )
    return {
        "version": melodynet.__version__,
        "models": models,
        "encodings": sorted(reg.encodings),
        "readable": readable_suffixes(),
        "downloads": download_formats(),
        "surprise_legend": legend(),
    }


async def info(request: Request) -> JSONResponse:
    found = await blocking(_installed)
    found["upload_limit"] = studio(request).settings.upload_limit
    return JSONResponse(found)


async def bundles(request: Request) -> JSONResponse:
    s = studio(request)
    found = await blocking(list_bundles, s.storage)
    pretrained = await blocking(pretrained_bundles)
    return JSONResponse({"models": found, "pretrained": pretrained, "loaded": s.models.loaded()})


async def remove_bundle(request: Request) -> JSONResponse:
    """Delete one of the person's bundles (a pretrained one, or anything that is not a
    bundle under ``DATA/models``, is 404)."""
    s = studio(request)
    name = request.path_params["name"]
    await blocking(s.queue.remove_bundle, name)
    return JSONResponse({"removed": name})


async def generate(request: Request) -> JSONResponse:
    s = studio(request)
    body = await json_body(request)
    results = await blocking(s.generator.generate, body)
    return JSONResponse({"results": results})


async def results(request: Request) -> JSONResponse:
    return JSONResponse({"results": await blocking(studio(request).generator.recent)})


async def remove_result(request: Request) -> JSONResponse:
    result_id = request.path_params["result"]
    await blocking(studio(request).generator.remove, result_id)
    return JSONResponse({"removed": result_id})


async def resume(request: Request) -> JSONResponse:
    s = studio(request)
    body = await json_body(request)
    job = await blocking(s.queue.resume, request.path_params["name"], body.get("epochs"))
    return JSONResponse(job, status_code=201)


def routes() -> list:
    return [
        Route("/api/info", info, methods=["GET"]),
        Route("/api/models", bundles, methods=["GET"]),
        Route("/api/models/{name}", remove_bundle, methods=["DELETE"]),
        Route("/api/models/{name}/resume", resume, methods=["POST"]),
        Route("/api/generate", generate, methods=["POST"]),
        Route("/api/results", results, methods=["GET"]),
        Route("/api/results/{result}", remove_result, methods=["DELETE"]),
    ]
