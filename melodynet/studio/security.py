"""The guard in front of every request: the right ``Host``, the token, a bounded body.

- ``Host`` must name the bound address, localhost or 127.0.0.1 with the port (a page on
  another site that rebinds its DNS name to 127.0.0.1 still sends its own name): 400
  without one, 403 for another.
- The token, in the query (``?token=``), the cookie the studio sets, or a header
  (``Authorization: token ...`` or ``X-Studio-Token``): 403 without it. A page opened
  with ``?token=`` gets the cookie and is sent to the same address without the token.
- A request that changes something and says where it comes from (``Origin``) must come
  from the studio's own page: 403 otherwise.
- A body announced larger than the upload limit is refused (413) before it is read; the
  routes that read bodies count what arrives (``read_body``).
"""

from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

from melodynet.studio.config import Settings

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
BODY_SLACK = 64 * 1024
"""Bytes allowed beyond the upload limit in a request's announced length."""


class TooLarge(Exception):
    """A request body beyond the limit."""


def too_large_message(limit: int) -> str:
    return f"the file is larger than the {limit / 1024 / 1024:.0f} MB upload limit"


async def _send_plain(send, status: int, text: str, headers=()) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_json(send, status: int, data: dict) -> None:
    body = json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _headers(scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        name = key.decode("latin-1").lower()
        if name in found and name != "cookie":
            found[name] = "\x00duplicate"  # two Host headers name no one host
        elif name == "cookie" and name in found:
            found[name] += "; " + value.decode("latin-1")
        else:
            found[name] = value.decode("latin-1")
    return found


class Guard:
    """ASGI middleware applying the rules above to every HTTP request."""

    def __init__(self, app, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def _token_ok(self, candidate: str | None) -> bool:
        return bool(candidate) and hmac.compare_digest(
            candidate.encode("utf-8", "replace"), self.settings.token.encode()
        )

    def _presented(self, headers: dict[str, str], query: list[tuple[str, str]]):
        """(token from the query, token from the cookie or a header)."""
        from_query = next((v for k, v in query if k == "token"), None)
        other = None
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is no token
            cookie = SimpleCookie()
        if self.settings.cookie in cookie:
            other = cookie[self.settings.cookie].value
        auth = headers.get("authorization", "")
        if auth.lower().startswith("token "):
            other = other if self._token_ok(other) else auth[6:].strip()
        if "x-studio-token" in headers and not self._token_ok(other):
            other = headers["x-studio-token"]
        return from_query, other

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "websocket":  # the studio has none: refuse before anything
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "").strip().lower()
        if not host or host.startswith("\x00"):
            await _send_plain(send, 400, "400: a request needs one Host header")
            return
        if host not in self.settings.allowed_hosts:
            await _send_plain(
                send,
                403,
                f"403: this studio answers to {', '.join(sorted(self.settings.allowed_hosts))} "
                f"only, not {host[:100]}",
            )
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
        from_query, other = self._presented(headers, query)
        if not (self._token_ok(from_query) or self._token_ok(other)):
            await _send_plain(
                send,
                403,
                "403: this studio needs its access token: open the address "
                "`melodynet studio` printed (it ends in ?token=...)",
            )
            return
        method = scope.get("method", "GET")
        origin = headers.get("origin")
        foreign = origin and urlsplit(origin).netloc.lower() not in self.settings.allowed_hosts
        if method not in SAFE_METHODS and foreign:  # "null" (a sandboxed page) is foreign
            await _send_plain(send, 403, "403: requests from other sites are refused")
            return
        length = headers.get("content-length", "")
        limit = self.settings.upload_limit
        if length.isdigit() and int(length) > limit + BODY_SLACK:
            await _send_json(send, 413, {"error": too_large_message(limit)})
            return
        if self._token_ok(from_query) and method in ("GET", "HEAD") and scope.get("path") == "/":
            await self._set_cookie_and_return(scope, send, query)
            return
        await self.app(scope, receive, send)

    async def _set_cookie_and_return(self, scope, send, query) -> None:
        """The page opened with ?token=: keep the token in a cookie and drop it from the
        address (out of the history and of what a screen shows)."""
        rest = [(k, v) for k, v in query if k != "token"]
        location = "/" + (f"?{urlencode(rest)}" if rest else "")
        cookie = f"{self.settings.cookie}={self.settings.token}; Path=/; HttpOnly; SameSite=Strict"
        await _send_plain(
            send,
            303,
            "303: see " + location,
            headers=[
                (b"location", location.encode("latin-1")),
                (b"set-cookie", cookie.encode("latin-1")),
                (b"cache-control", b"no-store"),
            ],
        )


async def read_body(request, limit: int) -> bytes:
    """The request's body, refused (``TooLarge``) as soon as more than ``limit`` arrives."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(too_large_message(limit))
        chunks.append(chunk)
    return b"".join(chunks)
