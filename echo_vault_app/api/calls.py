"""The frame every endpoint runs in: body parsing, authentication, the actor, and errors.

Handlers are plain functions of a :class:`Call`. Short ones (a read, a write, a delete) run on
the event loop, grouped under one commit with the others waiting at the same moment
(:meth:`Backend.run_short`); the rest (Argon2id, lists, exports) run on a worker thread. All run
inside :func:`~echo_vault_app.api.actor.acting_as` so every audit event they cause names the
client, and any failure leaves as the standard JSON error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from echo_vault_app.api import actor
from echo_vault_app.api.authn import Caller, authenticate, checks_a_password, client_address
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
    short: bool = False,
) -> Callable[[Request], Any]:
    """Wrap ``work`` as a Starlette endpoint; a dict or list result becomes a JSON 200.

    ``body`` is ``"json"`` (parsed with limits, 415 for other media types), ``"raw"`` (the
    bytes, for the form-encoded OAuth endpoint) or None (no body expected). ``short=True``
    groups ``work`` with other short requests on the event loop (:meth:`Backend.run_short`):
    only for work that stays short whatever the input, since the group holds the vault's write
    lock meanwhile. A request authenticated by password never counts as short, as checking
    the password costs an Argon2id run.
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
            in_place = short and not checks_a_password(request)
            run = backend.run_short if in_place else backend.run
            return await run(_run, work, request, payload, authenticated, anonymous_actor)
        except ApiError as exc:
            return error_response(exc)
        except EchoVaultError as exc:  # a grouped commit failed, or the vault locked meanwhile
            return error_response(from_library(exc))
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
