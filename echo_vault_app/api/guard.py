"""The outer ASGI layer: Host and Origin checks, body limit, safety headers, access log.

It runs before routing, so a request from a browser page or with a rebound host name never
reaches an endpoint. The access log line names the method, the path (without query string),
the status, the client identity and the time taken; it never holds headers or bodies, so no
credential, token or value can reach it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from echo_vault_app.api.calls import ACTOR_KEY
from echo_vault_app.api.errors import BodyTooLarge, plain_error

log = logging.getLogger(__name__)
access_log = logging.getLogger("echo_vault_app.api.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_SAFETY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_CROSS_SITE = {"cross-site", "same-site"}


def _printable(path: str) -> str:
    """The path with anything unprintable escaped, so a log line stays one honest line."""
    return path.encode("ascii", "backslashreplace").decode("ascii").replace("\x7f", "\\x7f")


class Guard:
    """Wraps the Starlette app.

    Args:
        app: the ASGI app to protect.
        host_names: accepted ``Host`` values (lower case), or None to accept any (Unix socket).
        cors_origins: origins allowed to call from a browser; every other ``Origin`` is 403.
        max_body: largest request body in bytes (413 beyond).
    """

    def __init__(
        self,
        app: Callable[..., Awaitable[None]],
        *,
        host_names: frozenset[str] | None,
        cors_origins: frozenset[str],
        max_body: int,
    ) -> None:
        self.app = app
        self.host_names = host_names
        self.cors_origins = cors_origins
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = {"status": 0}
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", ())}
        origin = headers.get("origin")
        cors = origin is not None and origin.decode("latin-1") in self.cors_origins

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                extra = list(_SAFETY_HEADERS)
                if cors:
                    extra += [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            refusal = self._refusal(scope, headers, cors)
            if refusal is not None:
                await _send_error(send_wrapped, *refusal)
            elif cors and scope["method"] == "OPTIONS":
                await _preflight(send_wrapped)
            else:
                await self.app(scope, self._limited(receive), send_wrapped)
        except BodyTooLarge:
            if not state["status"]:
                await _send_error(send_wrapped, 413, "payload_too_large", self._too_large())
        except Exception as exc:
            log.error("request to %s failed with %s", _printable(scope["path"]), type(exc).__name__)
            log.debug("request failure details", exc_info=True)
            if not state["status"]:
                await _send_error(send_wrapped, 500, "internal", "the request failed unexpectedly")
        finally:
            access_log.info(
                "%s %s %d %s %.1fms",
                scope["method"],
                _printable(scope["path"]),
                state["status"],
                scope.get(ACTOR_KEY, "-"),
                (time.perf_counter() - started) * 1000.0,
            )

    def _too_large(self) -> str:
        return f"request bodies are limited to {self.max_body} bytes"

    def _refusal(
        self, scope: Scope, headers: dict[str, bytes], cors: bool
    ) -> tuple[int, str, str] | None:
        if self.host_names is not None:
            host = headers.get("host")
            if host is None:
                return 400, "bad_request", "the request has no Host header"
            if host.decode("latin-1").lower() not in self.host_names:
                return 421, "misdirected_host", "this server does not answer for that Host"
        if "origin" in headers and not cors:
            return 403, "origin_refused", "requests from web pages are refused"
        fetch_site = headers.get("sec-fetch-site", b"").decode("latin-1").lower()
        if fetch_site in _CROSS_SITE and not cors:
            return 403, "origin_refused", "requests from web pages are refused"
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return 400, "bad_request", "Content-Length is not a number"
            if int(length) > self.max_body:
                return 413, "payload_too_large", self._too_large()
        return None

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def receive_limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge()
            return message

        return receive_limited


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    status, headers, body = plain_error(status, code, message)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _preflight(send: Send) -> None:
    headers = [
        (b"access-control-allow-methods", b"GET, POST, DELETE"),
        (b"access-control-allow-headers", b"authorization, content-type, x-api-key"),
        (b"access-control-max-age", b"600"),
        (b"content-length", b"0"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
