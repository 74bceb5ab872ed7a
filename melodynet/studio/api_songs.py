"""Songs: the list, uploads, corpus references, and each song's score, audio and files."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from melodynet.studio.renders import DOWNLOADS, download_formats
from melodynet.studio.security import read_body
from melodynet.studio.storage import NotFound
from melodynet.studio.web import blocking, json_body, studio


async def list_songs(request: Request) -> JSONResponse:
    return JSONResponse({"sources": await blocking(studio(request).library.catalog)})


async def upload(request: Request) -> JSONResponse:
    """The file is the request's body; ``?name=`` is what the person called it (a label,
    never a path). Kept only if melodynet reads it."""
    s = studio(request)
    data = await read_body(request, s.settings.upload_limit)
    if not data:
        from melodynet.errors import SongError

        raise SongError("the upload is empty: choose a song file")
    name = request.query_params.get("name", "song")
    found = await blocking(s.library.add_upload, data, name)
    return JSONResponse(found, status_code=201)


async def remove_upload(request: Request) -> JSONResponse:
    await blocking(studio(request).library.remove_upload, request.path_params["upload"])
    return JSONResponse({"removed": request.path_params["upload"]})


async def add_corpus(request: Request) -> JSONResponse:
    body = await json_body(request)
    found = await blocking(studio(request).library.add_corpus, str(body.get("reference", "")))
    return JSONResponse(found, status_code=201)


def _ref(request: Request) -> str:
    ref = request.query_params.get("ref", "")
    if not ref or len(ref) > 300:
        raise NotFound(ref)
    return ref


def _song_and_colors(s, ref: str, marks: str):
    """The song and its notes' colours: for a generated melody, the primer and the wrong
    notes (``marks=compare``, as the HTML report) or each note's surprise (``surprise``)."""
    song = s.library.song(ref)
    colors = None
    if ref.startswith("result:"):
        record = s.library.result_record(ref.partition(":")[2].partition("#")[0])
        chosen = record.get("surprise_colors" if marks == "surprise" else "colors") or {}
        colors = {int(k): v for k, v in chosen.items()} or None
    return song, colors


async def song_info(request: Request) -> JSONResponse:
    s, ref = studio(request), _ref(request)

    def info() -> dict:
        song = s.library.song(ref)
        return {
            "ref": ref,
            "name": song.name,
            "title": song.title or song.name,
            "notes": len(song),
            "tiny": song.tiny(),
            "key": song.key,
            "time_signature": song.time_signature,
            "formats": download_formats(),
        }

    return JSONResponse(await blocking(info))


async def score(request: Request) -> Response:
    s, ref = studio(request), _ref(request)

    marks = request.query_params.get("marks", "compare")

    def make() -> bytes:
        song, colors = _song_and_colors(s, ref, marks)
        return s.renders.score(song, colors)

    return Response(
        await blocking(make),
        media_type="image/svg+xml",
        headers={
            "cache-control": "private, max-age=3600",
            "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


async def audio(request: Request) -> Response:
    s, ref = studio(request), _ref(request)

    def make() -> bytes:
        return s.renders.audio(s.library.song(ref))

    return Response(
        await blocking(make),
        media_type="audio/wav",
        headers={"cache-control": "private, max-age=3600"},
    )


async def download(request: Request) -> Response:
    s, ref = studio(request), _ref(request)
    fmt = request.query_params.get("format", "")
    if fmt not in DOWNLOADS or fmt not in download_formats():
        raise NotFound(fmt)

    def make():
        return s.renders.download(s.library.song(ref), fmt)

    data, media, filename = await blocking(make)
    return Response(
        data,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def routes() -> list:
    return [
        Route("/api/songs", list_songs, methods=["GET"]),
        Route("/api/songs", upload, methods=["POST"]),
        Route("/api/songs/upload/{upload}", remove_upload, methods=["DELETE"]),
        Route("/api/corpus", add_corpus, methods=["POST"]),
        Route("/api/song", song_info, methods=["GET"]),
        Route("/api/score.svg", score, methods=["GET"]),
        Route("/api/audio.wav", audio, methods=["GET"]),
        Route("/api/download", download, methods=["GET"]),
    ]
