"""The frame every endpoint runs in: body parsing, authentication, the actor, and errors.

Handlers are plain functions of a :class:`Call`. They run on a worker thread (the library
blocks on SQLCipher and Argon2id), inside :func:`~echo_vault_app.api.actor.acting_as` so every
audit event they cause names the client, and any failure leaves as the standard JSON error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from echo_vault_app.api import actor
from echo_vault_app.api.authn import Caller, authenticate, client_address
from echo_vault_app.api.backend import Backend
from echo_vault_app.api.errors import ApiError, BodyTooLarge, error_response, from_library
from echo_vault_app.auth import AuthManager
from echo_vault_app.errors import EchoVaultError, ValidationError
from echo_vault_app.secrets import SecretsManager, safejson

log = logging.getLogger(__name__)

ACTOR_KEY = "echo_vault.actor"
"""Where a handler leaves the client identity in the ASGI scope for the access log."""


@dataclass
class Call:
    """One request, as the handlers see it."""

    request: Request
    body: Any
    backend: Backend
    manager: SecretsManager
    auth: AuthManager
    caller: Caller | None

    @property
    def principal_caller(self) -> Caller:
        assert self.caller is not None
        return self.caller

    def require(self, permission: str, resource: str | None = None) -> None:
        """403 unless the caller holds ``permission``; the refusal itself is audited."""
        caller = self.principal_caller
        if self.auth.check(caller.principal, permission, resource):
            return
        self.audit("api.denied", resource, "denied", {"permission": permission})
        shown = permission if resource is None else f"{permission} on {resource!r}"
        raise ApiError(403, "forbidden", f"this client lacks the permission {shown}")

    def audit(
        self,
        action: str,
        target: str | None = None,
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record an API event in the vault's trail under the current actor."""
        vault = self.manager.vault
        with vault.transaction() as tx:
            vault.audit.record(tx, action, target, outcome, detail=detail)


def _json_body(raw: bytes, content_type: str | None, depth: int, limit: int) -> Any:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, "unsupported_media_type", "request bodies must be application/json")
    try:
        return safejson.loads(raw, max_bytes=limit, max_depth=depth)
    except ValidationError as exc:
        raise ApiError(400, "malformed_json", str(exc)) from None


def endpoint(
    work: Callable[[Call], Response | Any],
    *,
    body: str | None = None,
    authenticated: bool = True,
    anonymous_actor: str = "api:anonymous",
) -> Callable[[Request], Any]:
    """Wrap ``work`` as a Starlette endpoint; a dict or list result becomes a JSON 200.

    ``body`` is ``"json"`` (parsed with limits, 415 for other media types), ``"raw"`` (the
    bytes, for the form-encoded OAuth endpoint) or None (no body expected).
    """

    async def handler(request: Request) -> Response:
        try:
            payload = None
            if body == "raw":
                payload = await request.body()
            elif body == "json":
                raw = await request.body()
                settings = request.app.state.config
                payload = _json_body(
                    raw,
                    request.headers.get("content-type"),
                    settings.max_json_depth,
                    settings.max_body_bytes,
                )
            backend: Backend = request.app.state.backend
            return await backend.run(_run, work, request, payload, authenticated, anonymous_actor)
        except ApiError as exc:
            return error_response(exc)
        except BodyTooLarge:
            limit = request.app.state.config.max_body_bytes
            message = f"request bodies are limited to {limit} bytes"
            return error_response(ApiError(413, "payload_too_large", message))

    return handler


def _run(
    work: Callable[[Call], Any],
    request: Request,
    payload: Any,
    authenticated: bool,
    anonymous_actor: str,
) -> Response:
    backend: Backend = request.app.state.backend
    request.scope[ACTOR_KEY] = anonymous_actor
    try:
        with actor.acting_as(anonymous_actor):
            manager = backend.manager()
            auth = backend.auth()
            call = Call(request, payload, backend, manager, auth, None)
            if authenticated:
                try:
                    call.caller = authenticate(request, backend, auth)
                except ApiError as exc:
                    if exc.status == 401:
                        detail = {"reason": exc.message, "client": client_address(request)}
                        call.audit("api.auth", request.url.path, "failed", detail)
                    raise
        if call.caller is not None:
            request.scope[ACTOR_KEY] = call.caller.actor
            with actor.acting_as(call.caller.actor):
                result = work(call)
        else:
            with actor.acting_as(anonymous_actor):
                result = work(call)
    except ApiError as exc:
        return error_response(exc)
    except EchoVaultError as exc:
        return error_response(from_library(exc))
    except Exception as exc:  # the client gets one line; the details stay in the debug log
        log.error("request to %s failed with %s", request.url.path, type(exc).__name__)
        log.debug("request failure details", exc_info=True)
        return error_response(ApiError(500, "internal", "the request failed unexpectedly"))
    if isinstance(result, Response):
        return result
    return JSONResponse(result, headers={"Cache-Control": "no-store"})
