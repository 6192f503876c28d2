"""Who is calling: bearer JWTs, API keys, session tokens and HTTP Basic, and the one check.

A bearer credential is told apart by its shape: ``ev_…`` is an API key, ``evs_…`` a session
token, anything else a JWT. ``X-API-Key`` carries an API key too. Giving two credentials at once
is refused rather than guessed. Basic auth runs Argon2id on every request, so it shares the
login rate limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from echo_vault_app.api.backend import Backend
from echo_vault_app.api.errors import ApiError
from echo_vault_app.auth import AuthManager, SessionInvalid, TokenError
from echo_vault_app.auth.clients import parse_basic_header
from echo_vault_app.auth.rbac import Principal

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="echo-vault", Basic realm="echo-vault"'}
MAX_CREDENTIAL_CHARS = 16 * 1024


@dataclass(frozen=True)
class Caller:
    """An authenticated client: its principal and how it proved who it is."""

    principal: Principal
    method: str

    @property
    def actor(self) -> str:
        """The audit actor, ``api:<kind>:<id>`` (plus the key id for API keys)."""
        key_id = self.principal.attributes.get("key_id")
        suffix = f"/{key_id}" if key_id else ""
        return f"api:{self.principal.kind}:{self.principal.id}{suffix}"


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unix"


def unauthenticated(message: str) -> ApiError:
    return ApiError(401, "unauthenticated", message, CHALLENGE)


def rate_limited(wait: float) -> ApiError:
    seconds = 3600 if math.isinf(wait) else max(1, math.ceil(wait))
    return ApiError(
        429,
        "rate_limited",
        "too many attempts; wait before trying again",
        {"Retry-After": str(seconds)},
    )


def take_login_tokens(backend: Backend, conn: HTTPConnection, user: str) -> None:
    """Spend one try for this user and one for this client address, or refuse with 429."""
    wait = max(
        backend.login_by_client.take(client_address(conn)),
        backend.login_by_user.take(user.casefold()[:256]),
    )
    if wait > 0:
        raise rate_limited(wait)


def _credential(conn: HTTPConnection) -> tuple[str, str] | None:
    header = conn.headers.get("authorization")
    api_key = conn.headers.get("x-api-key")
    if header is not None and api_key is not None:
        raise ApiError(400, "bad_request", "send either Authorization or X-API-Key, not both")
    if api_key is not None:
        return "api_key", api_key.strip()
    if header is None:
        return None
    if len(header) > MAX_CREDENTIAL_CHARS:
        raise unauthenticated("the credentials are too long")
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        return "basic", header
    if scheme.lower() != "bearer" or not value:
        raise unauthenticated("use Bearer, Basic or X-API-Key credentials")
    if value.startswith("evs_"):
        return "session", value
    if value.startswith("ev_"):
        return "api_key", value
    return "jwt", value


def checks_a_password(conn: HTTPConnection) -> bool:
    """Whether the request's credentials are a password, whose check costs an Argon2id run."""
    header = conn.headers.get("authorization")
    return header is not None and header.strip().partition(" ")[0].lower() == "basic"


def authenticate(conn: HTTPConnection, backend: Backend, auth: AuthManager) -> Caller:
    """The caller behind the request's credentials.

    Raises:
        ApiError: 401 without or with refused credentials, 400 for two at once, 429 when
            Basic tries for a user or address ran out.
    """
    found = _credential(conn)
    if found is None:
        raise unauthenticated("this endpoint needs credentials")
    method, value = found

    if method == "api_key":
        result = auth.check_api_key(value)
        if not result.ok:
            raise unauthenticated(f"API key refused: {result.status.value.replace('_', ' ')}")
        return Caller(auth.principal_for(result), method)
    if method == "session":
        try:
            return Caller(auth.principal_for(auth.validate_session(value)), method)
        except SessionInvalid as exc:
            raise unauthenticated(f"session refused: {exc.reason}") from None
    if method == "jwt":
        try:
            return Caller(auth.principal_for(auth.decode_jwt_token(value)), method)
        except TokenError as exc:
            raise unauthenticated(f"token refused: {exc.reason.replace('_', ' ')}") from None

    parsed = parse_basic_header(value)
    if parsed is None:
        raise unauthenticated("the Basic credentials are malformed")
    take_login_tokens(backend, conn, parsed[0])
    principal = auth.verify_basic_auth(*parsed)
    if principal is None:
        raise unauthenticated("user name or password refused")
    return Caller(principal, method)


def require(auth: AuthManager, caller: Caller, permission: str, resource: str | None = None):
    """Refuse with 403 unless ``caller`` holds ``permission`` (on ``resource`` when given)."""
    if not auth.check(caller.principal, permission, resource):
        shown = f"{permission}:{resource}" if resource is not None else permission
        raise ApiError(403, "forbidden", f"this client lacks the permission {shown}")
