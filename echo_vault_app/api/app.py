"""The ASGI application: routes, the JSON error shape for routing failures, and the guard."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from echo_vault_app.api import routes_auth as ra
from echo_vault_app.api import routes_secrets as rs
from echo_vault_app.api.backend import Backend, LoginLimits, ManagerSource
from echo_vault_app.api.calls import endpoint
from echo_vault_app.api.config import ServerConfig
from echo_vault_app.api.errors import ApiError, error_response
from echo_vault_app.api.guard import Guard
from echo_vault_app.api.openapi import build_document
from echo_vault_app.secrets import SecretsManager

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


class _NameConvertor(Convertor[str]):
    """Like Starlette's ``path``, but also matching line breaks, so a name holding one reaches
    the name check (422) instead of falling through to "no such endpoint"."""

    regex = r"[\s\S]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("secret_name", _NameConvertor())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "bad_request")
    message = "no such endpoint" if exc.status_code == 404 else str(exc.detail)
    return error_response(ApiError(exc.status_code, code, message, exc.headers))


def _openapi(document: dict[str, Any]):
    async def serve(request: Request) -> Response:
        return JSONResponse(document)

    return serve


def _by_method(**handlers: Any):
    """One route serving several methods, so a 405 lists all of them in ``Allow``."""

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return dispatch


def routes() -> list[Route]:
    return [
        Route("/openapi.json", _openapi(build_document()), methods=["GET"]),
        Route(
            "/vault/health", endpoint(ra.health, authenticated=False, short=True), methods=["GET"]
        ),
        Route(
            "/.well-known/jwks.json",
            endpoint(ra.jwks, authenticated=False, short=True),
            methods=["GET"],
        ),
        Route(
            "/vault/auth/login",
            endpoint(ra.login, body="json", authenticated=False),
            methods=["POST"],
        ),
        Route("/vault/auth/api-key", endpoint(ra.create_api_key, body="json"), methods=["POST"]),
        Route("/vault/auth/verify", endpoint(ra.verify, short=True), methods=["GET"]),
        Route(
            "/vault/oauth/token",
            endpoint(ra.oauth_token, body="raw", authenticated=False),
            methods=["POST"],
        ),
        Route(
            "/vault/secrets",
            _by_method(
                GET=endpoint(rs.list_secrets),
                POST=endpoint(rs.store_secret, body="json", short=True),
            ),
            methods=["GET", "POST"],
        ),
        Route("/vault/secrets/export", endpoint(rs.export_secrets, body="json"), methods=["POST"]),
        Route(
            "/vault/secrets/{name:secret_name}",
            _by_method(
                GET=endpoint(rs.read_secret, short=True),
                DELETE=endpoint(rs.delete_secret, short=True),
            ),
            methods=["GET", "DELETE"],
        ),
        Route("/vault/templates", endpoint(rs.list_templates, short=True), methods=["GET"]),
        Route(
            "/vault/templates/{template_id}",
            endpoint(rs.read_template, short=True),
            methods=["GET"],
        ),
    ]


def create_app(
    source: SecretsManager | ManagerSource,
    config: ServerConfig | None = None,
    *,
    port: int | None = None,
    login_limits: LoginLimits | None = None,
) -> Guard:
    """The whole API as an ASGI app, guarded for the address in ``config``.

    Args:
        source: the unlocked manager, or a function returning the current one (None while
            locked).
        config: binding and limits; the default is loopback with the standard limits.
        port: the port actually bound (when ``config.port`` is 0), for the Host check.
        login_limits: login buckets shared with other worker processes (default: this
            process's own).
    """
    config = config or ServerConfig()
    backend = Backend(source, config.rate_limits, login_limits)
    app = Starlette(routes=routes(), exception_handlers={HTTPException: _http_error})
    app.state.backend = backend
    app.state.config = config
    host_names = None if config.socket_path else config.host_names(port or config.port)
    guard = Guard(
        app,
        host_names=host_names,
        cors_origins=frozenset(config.cors_origins),
        max_body=config.max_body_bytes,
    )
    guard.backend = backend  # type: ignore[attr-defined]
    return guard
