"""Auth endpoints: login, API-key creation, verify, OAuth client credentials, JWKS, health.

``login`` and the OAuth token endpoint take credentials as their request, so they need no
prior authentication; both are rate-limited per user (or client id) and per client address.
A new API key can never carry more than its creator holds: every permission and every role's
permissions must pass the creator's own ``check``.
"""

from __future__ import annotations

import math
import urllib.parse
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from echo_vault_app import __version__
from echo_vault_app.api import actor, bodies
from echo_vault_app.api.authn import client_address, rate_limited, take_login_tokens
from echo_vault_app.api.calls import Call
from echo_vault_app.api.errors import ApiError
from echo_vault_app.auth import InvalidClient, InvalidCredentials, InvalidScope
from echo_vault_app.auth.clients import parse_basic_header
from echo_vault_app.auth.rbac import normalize_permission
from echo_vault_app.errors import ValidationError

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def login(call: Call) -> JSONResponse:
    body = bodies.check_object(call.body, {"user", "password", "api_key"})
    if "api_key" in body:
        if set(body) != {"api_key"}:
            raise ValidationError("give either 'api_key' or 'user' and 'password'")
        key = bodies.required_text(body, "api_key", max_len=256)
        take_login_tokens(call.backend, call.request, "(api key)")
        try:
            token, session = call.auth.login_with_api_key(key)
        except InvalidCredentials as exc:
            call.audit("api.login", None, "failed", {"method": "api_key"})
            raise ApiError(401, "unauthenticated", str(exc)) from None
    else:
        bodies.check_object(body, {"user", "password"}, {"user", "password"})
        user = bodies.required_text(body, "user", max_len=256)
        password = bodies.required_text(body, "password", max_len=4096)
        take_login_tokens(call.backend, call.request, user)
        with actor.acting_as(f"api:login:{user}"):
            try:
                token, session = call.auth.login(user, password)
            except InvalidCredentials:
                detail = {"method": "password", "client": client_address(call.request)}
                call.audit("api.login", user, "failed", detail)
                raise ApiError(401, "unauthenticated", "user name or password refused") from None
    document = {
        "token": token,
        "token_type": "Bearer",
        "session_id": session.session_id,
        "user": session.user_id,
        "expires_at": bodies.iso(session.absolute_expires_at),
        "idle_timeout": session.idle_timeout,
    }
    return JSONResponse(document, headers=NO_STORE)


def _granted(call: Call, permission: str) -> bool:
    """Whether the caller's own grants cover ``permission`` (a grant, possibly with a glob)."""
    canonical = normalize_permission(permission)
    if canonical == "*":
        canonical = "*:*"
    resource, action, *glob = canonical.split(":", 2)
    principal = call.principal_caller.principal
    return call.auth.check(principal, f"{resource}:{action}", glob[0] if glob else None)


def create_api_key(call: Call) -> JSONResponse:
    allowed = {"user_id", "name", "permissions", "roles", "environment", "expires_in"}
    body = bodies.check_object(call.body, allowed)
    caller = call.principal_caller
    user_id = bodies.text(body, "user_id", max_len=256) or caller.principal.id
    permissions = bodies.text_list(body, "permissions") or []
    roles = bodies.text_list(body, "roles") or []
    call.require("apikeys:create", user_id)

    for permission in permissions:
        if not _granted(call, permission):
            raise ApiError(
                403, "forbidden", f"a key cannot get {permission!r}: the caller lacks it"
            )
    for role in roles:
        if not all(_granted(call, p) for p in call.auth.roles.permissions_of(role)):
            raise ApiError(403, "forbidden", f"a key cannot get role {role!r}: the caller lacks it")
    key, record = call.auth.api_keys.generate(
        user_id,
        permissions,
        name=bodies.text(body, "name", max_len=256) or "",
        roles=roles,
        environment=bodies.text(body, "environment", max_len=16) or "live",
        expires_in=bodies.number(body, "expires_in", minimum=1),
    )
    document = {
        "api_key": key,
        "key_id": record.key_id,
        "prefix": record.prefix,
        "user_id": record.user_id,
        "name": record.name,
        "permissions": list(record.permissions),
        "roles": list(record.roles),
        "expires_at": bodies.iso(record.expires_at),
    }
    return JSONResponse(document, 201, NO_STORE)


def verify(call: Call) -> dict[str, Any]:
    principal = call.principal_caller.principal
    call.audit("api.verify", None, detail={"method": call.principal_caller.method})
    return {
        "valid": True,
        "method": call.principal_caller.method,
        "kind": principal.kind,
        "subject": principal.id,
        "permissions": sorted(principal.permissions),
        "roles": sorted(principal.roles),
    }


def jwks(call: Call) -> JSONResponse:
    return JSONResponse(call.auth.jwks(), headers={"Cache-Control": "max-age=300"})


def health(call: Call) -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "vault_id": call.manager.vault.vault_id}


# -- OAuth 2.0 client credentials (RFC 6749 section 4.4) ------------------------------------


def oauth_error(status: int, code: str, description: str, headers: dict | None = None) -> Response:
    """RFC 6749 section 5.2: ``{"error": code, "error_description": ...}``."""
    body = {"error": code, "error_description": description}
    return JSONResponse(body, status, {**NO_STORE, **(headers or {})})


def parse_token_form(request: Request, raw: bytes) -> dict[str, str]:
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise _OAuthRefusal(415, "invalid_request", "use application/x-www-form-urlencoded")
    try:
        pairs = urllib.parse.parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw),
            max_num_fields=16,
        )  # fmt: skip
    except (UnicodeDecodeError, ValueError):
        raise _OAuthRefusal(400, "invalid_request", "the form body is malformed") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise _OAuthRefusal(400, "invalid_request", f"parameter {key[:32]!r} is repeated")
        form[key] = value
    return form


class _OAuthRefusal(Exception):
    def __init__(self, status: int, code: str, description: str, headers=None) -> None:
        super().__init__(description)
        self.response = oauth_error(status, code, description, headers)


def oauth_token(call: Call) -> Response:
    try:
        return _oauth_token(call)
    except _OAuthRefusal as refusal:
        return refusal.response


def _oauth_token(call: Call) -> Response:
    form = parse_token_form(call.request, call.body)
    header = call.request.headers.get("authorization")
    if header is not None:
        parsed = parse_basic_header(header)
        if parsed is None or "client_id" in form or "client_secret" in form:
            raise _OAuthRefusal(400, "invalid_request", "authenticate the client one way only")
        client_id, secret = (urllib.parse.unquote_plus(part) for part in parsed)
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if form.get("grant_type") != "client_credentials":
        raise _OAuthRefusal(400, "unsupported_grant_type", "only client_credentials is served")
    if not client_id or not secret or len(client_id) > 256 or len(secret) > 1024:
        raise _OAuthRefusal(401, "invalid_client", "client credentials are missing")

    wait = max(
        call.backend.login_by_client.take(client_address(call.request)),
        call.backend.login_by_user.take("client:" + client_id.casefold()),
    )
    if wait > 0:
        limited = rate_limited(wait)
        raise _OAuthRefusal(429, "rate_limited", limited.message, limited.headers)
    with actor.acting_as(f"api:client:{client_id}"):
        try:
            answer = call.auth.issue_client_credentials_token(client_id, secret, form.get("scope"))
        except InvalidClient:
            call.audit("api.oauth.token", client_id, "failed", {"reason": "invalid_client"})
            challenge = {"WWW-Authenticate": 'Basic realm="echo-vault"'} if header else None
            raise _OAuthRefusal(401, "invalid_client", "client refused", challenge) from None
        except InvalidScope as exc:
            call.audit("api.oauth.token", client_id, "failed", {"reason": "invalid_scope"})
            raise _OAuthRefusal(400, "invalid_scope", str(exc)) from None
        call.audit("api.oauth.token", client_id, detail={"scope": answer["scope"]})
    answer["expires_in"] = int(min(answer["expires_in"], math.floor(2**31)))
    return JSONResponse(answer, headers=NO_STORE)
