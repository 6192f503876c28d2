"""``AuthManager``: the one object the CLI, REST API and GUI use for authentication.

It composes the small services of this package (API keys, signing keys and tokens, users and
roles, sessions, OAuth clients) over one store and answers ``check`` for any principal.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from echo_vault_app.auth import rbac
from echo_vault_app.auth.apikeys import ApiKeyRecord, ApiKeyService, ApiKeyVerification
from echo_vault_app.auth.clients import ClientService, OAuthClient, parse_basic_header
from echo_vault_app.auth.errors import (
    InvalidCredentials,
    InvalidPermission,
    TokenError,
)
from echo_vault_app.auth.jwks import JwkSet
from echo_vault_app.auth.jws import DEFAULT_MAX_TOKEN_BYTES
from echo_vault_app.auth.jwt_keys import KeyRing, SigningKey
from echo_vault_app.auth.passwords import Argon2Params, PasswordHasher
from echo_vault_app.auth.rbac import Principal, RoleBook
from echo_vault_app.auth.sessions import (
    DEFAULT_ABSOLUTE_SECONDS,
    DEFAULT_IDLE_SECONDS,
    Session,
    SessionService,
)
from echo_vault_app.auth.store import AuthStore, Change, MemoryAuthStore
from echo_vault_app.auth.tokens import DEFAULT_LEEWAY, TokenService
from echo_vault_app.auth.users import User, UserService
from echo_vault_app.errors import UsageError

log = logging.getLogger(__name__)

ENV_SECRET_KEY = "ECHO_VAULT_SECRET_KEY"
ENV_TOKEN_EXPIRY_HOURS = "ECHO_VAULT_TOKEN_EXPIRY_HOURS"
DEFAULT_TOKEN_EXPIRY_HOURS = 24.0
FRESHNESS_SECONDS = 0.5
"""How stale this process's copy of the auth records may get: a change written by another
process (a revocation from the CLI, say) is acted on here at most this long after it commits."""
_ISSUER_NAME = re.compile(r"[A-Za-z0-9._\-]{1,64}")


def _expiry_hours(value: float | None) -> float:
    if value is None:
        text = os.environ.get(ENV_TOKEN_EXPIRY_HOURS, "").strip()
        if not text:
            return DEFAULT_TOKEN_EXPIRY_HOURS
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"{ENV_TOKEN_EXPIRY_HOURS} must be a number of hours") from None
    if not 0 < value <= 24 * 366:
        raise UsageError("token expiry must be more than 0 and at most 8784 hours")
    return float(value)


class AuthManager:
    """API keys, JWTs, sessions, users, roles, Basic auth and OAuth client credentials.

    Storage: ``AuthManager(vault=vault)`` keeps every record in the encrypted vault (tables
    ``auth_*``, every change audited). Without a vault, as in ``AuthManager(secret_key=...)``,
    records live **in memory for this process only** and are gone when it exits.

    HS256 key: ``secret_key`` if given, else ``ECHO_VAULT_SECRET_KEY``, else a random key kept
    in the vault (or, without a vault, in memory). Keys shorter than 32 bytes are refused with
    ``WeakSigningKey``. Token lifetime defaults to ``ECHO_VAULT_TOKEN_EXPIRY_HOURS`` (24).

    Seed-compatible calls answer a dict or ``None``; the strict calls (``check_api_key``,
    ``decode_jwt_token``, ``login``...) say why something was refused.

    Several processes on one vault: records are served from memory, and every public call
    first asks the vault whether another process wrote (one indexed read of a change counter),
    at most once per ``freshness_interval`` seconds (default 0.5); if so, everything is
    reloaded. A revocation made elsewhere therefore takes effect here within that interval,
    while API-key verification stays a dictionary lookup. Calls that write check at once,
    whatever the interval. The services reached directly (``auth.api_keys`` and so on) do not
    check; go through the manager's methods, or call :meth:`refresh` first. Once the vault is
    locked, the next check raises ``VaultLocked``: a locked vault's records are not served.
    """

    def __init__(
        self,
        secret_key: str | bytes | None = None,
        *,
        vault: Any = None,
        store: AuthStore | None = None,
        token_expiry_hours: float | None = None,
        issuer: str | None = None,
        leeway: float = DEFAULT_LEEWAY,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
        default_algorithm: str = "HS256",
        password_params: Argon2Params | None = None,
        clock: Callable[[], float] = time.time,
        freshness_interval: float = FRESHNESS_SECONDS,
    ) -> None:
        if secret_key is None:
            secret_key = os.environ.get(ENV_SECRET_KEY) or None
        hours = _expiry_hours(token_expiry_hours)
        if store is None:
            if vault is not None:
                from echo_vault_app.auth.vault_store import VaultAuthStore

                store = VaultAuthStore(vault)
            else:
                store = MemoryAuthStore()
        self.store = store
        self._clock = clock
        self.default_algorithm = default_algorithm
        self.roles = RoleBook()
        self.api_keys = ApiKeyService(store, permission_check=self.check, clock=clock)
        self.keys = KeyRing(store, clock=clock)
        if secret_key is not None:
            self.keys.add_configured_hmac(secret_key)
        elif self.keys.signer("HS256") is None:
            self.keys.generate("HS256")
        self.tokens = TokenService(
            self.keys,
            store,
            default_lifetime=hours * 3600.0,
            issuer=issuer,
            leeway=leeway,
            max_token_bytes=max_token_bytes,
            clock=clock,
        )
        self.users = UserService(store, PasswordHasher(password_params), self.roles, clock=clock)
        self.sessions = SessionService(store, clock=clock)
        self.clients = ClientService(store, clock=clock)
        self._trusted = self._load_trusted()
        self._reload_lock = threading.Lock()
        self.freshness_interval = freshness_interval
        self._next_check = time.monotonic() + freshness_interval

    # -- freshness across processes -------------------------------------------------------

    def _load_trusted(self) -> dict[str, JwkSet]:
        return {
            name: JwkSet.from_json(doc["jwks"])
            for name, doc in self.store.load_all("trusted_jwks").items()
        }

    def _fresh(self) -> None:
        """The throttled check every public call makes (a clock read when not due)."""
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self.freshness_interval
            self.refresh()

    def refresh(self) -> bool:
        """Reload every record if another process changed any; returns whether it reloaded."""
        if not self.store.persistent:
            return False
        current = self.store.generation()
        if current == self.store.seen:
            return False
        with self._reload_lock:
            # Mark the generation as seen before reading, so a write that lands while the
            # records load is noticed by the next check instead of being lost.
            self.store.seen = current
            self.api_keys.reload()
            self.keys.reload()
            self.tokens.reload()
            self.users.reload()
            self.sessions.reload()
            self.clients.reload()
            self._trusted = self._load_trusted()
        log.info("reloaded auth records changed by another process")
        return True

    # -- API keys -------------------------------------------------------------------------

    def generate_api_key(
        self,
        user_id: str,
        permissions: Iterable[str] | None = None,
        *,
        name: str = "",
        roles: Iterable[str] = (),
        environment: str = "live",
        expires_in: float | None = None,
    ) -> str:
        """Create an API key and return it; this is the only time the full key is available."""
        self._fresh()
        key, _ = self.api_keys.generate(
            user_id,
            permissions or (),
            name=name,
            roles=roles,
            environment=environment,
            expires_in=expires_in,
        )
        return key

    def verify_api_key(self, api_key: object) -> dict[str, Any] | None:
        """Seed-compatible: the key's record as a dict (user_id, permissions...) or None."""
        if time.monotonic() >= self._next_check:  # inlined: this is the hot path
            self._fresh()
        result = self.api_keys.verify(api_key)
        return result.record.public_dict() if result.ok else None

    def check_api_key(
        self, api_key: object, required_permission: str | None = None, resource: str | None = None
    ) -> ApiKeyVerification:
        """Strict: a status (valid, malformed, not found, bad secret, revoked, expired,
        insufficient permission) and the record when the key itself was recognised."""
        if time.monotonic() >= self._next_check:  # inlined: this is the hot path
            self._fresh()
        return self.api_keys.verify(api_key, required_permission, resource)

    def list_api_keys(self, user_id: str | None = None) -> list[ApiKeyRecord]:
        self._fresh()
        return self.api_keys.list(user_id)

    def revoke_api_key(self, key_id: str) -> ApiKeyRecord:
        self.refresh()
        return self.api_keys.revoke(key_id)

    def rotate_api_key(self, key_id: str, grace_seconds: float = 86400.0) -> str:
        """Issue a successor key; the old one keeps working for ``grace_seconds``."""
        self.refresh()
        key, _ = self.api_keys.rotate(key_id, grace_seconds)
        return key

    # -- JWTs -----------------------------------------------------------------------------

    def create_jwt_token(
        self,
        user_id: str,
        permissions: Iterable[str] | None = None,
        custom_claims: dict[str, Any] | None = None,
        *,
        algorithm: str | None = None,
        expires_in: float | None = None,
        audience: str | list[str] | None = None,
        roles: Iterable[str] = (),
    ) -> str:
        """Sign a JWT; an EdDSA or ES256 key is created on first use if none exists."""
        self._fresh()
        algorithm = algorithm or self.default_algorithm
        if algorithm in ("EdDSA", "ES256") and not self.keys.has_signer(algorithm):
            self.keys.generate(algorithm)
        return self.tokens.issue(
            user_id,
            permissions or (),
            custom_claims,
            algorithm=algorithm,
            lifetime=expires_in,
            audience=audience,
            roles=roles,
        )

    def decode_jwt_token(
        self, token: object, *, audience: str | None = None, issuer: str | None = None
    ) -> dict[str, Any]:
        """Strict: the claims, or a ``TokenError`` subclass whose ``reason`` says why."""
        self._fresh()
        return self.tokens.decode(token, audience=audience, issuer=issuer)

    def verify_jwt_token(
        self, token: object, *, audience: str | None = None, issuer: str | None = None
    ) -> dict[str, Any] | None:
        """Seed-compatible: the claims, or None for any invalid token."""
        self._fresh()
        try:
            return self.tokens.decode(token, audience=audience, issuer=issuer)
        except TokenError:
            return None

    def revoke_jwt_token(self, token: str) -> str:
        """Revoke a (currently valid) token by its ``jti``; returns the jti."""
        self.refresh()
        claims = self.tokens.decode(token)
        jti = claims.get("jti")
        if not isinstance(jti, str):
            raise UsageError("this token has no jti and cannot be revoked by id")
        self.tokens.revoke(jti, claims["exp"])
        return jti

    def create_signing_key(self, algorithm: str, *, lifetime: float | None = None) -> SigningKey:
        self.refresh()
        return self.keys.generate(algorithm, lifetime=lifetime)

    def rotate_signing_key(
        self, algorithm: str, *, overlap: float = 86400.0, lifetime: float | None = None
    ) -> SigningKey:
        self.refresh()
        return self.keys.rotate(algorithm, overlap=overlap, lifetime=lifetime)

    def retire_signing_key(self, kid: str) -> SigningKey:
        self.refresh()
        return self.keys.retire(kid)

    def list_signing_keys(self) -> list[dict[str, Any]]:
        self._fresh()
        return [key.describe() for key in self.keys.list_keys()]

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public JWKS of every published asymmetric key."""
        self._fresh()
        return self.keys.jwks()

    # -- other issuers --------------------------------------------------------------------

    def import_jwks(self, name: str, jwks: str | bytes | dict[str, Any]) -> JwkSet:
        """Trust another issuer's keys under ``name`` (checked first; replaces the old set)."""
        self.refresh()
        if not isinstance(name, str) or not _ISSUER_NAME.fullmatch(name):
            raise UsageError("a trusted issuer name is 1-64 letters, digits, dots or dashes")
        key_set = JwkSet.from_json(jwks)
        self.store.write(
            [Change("trusted_jwks", name, {"jwks": key_set.to_json()})],
            action="auth.jwks.import",
            target=name,
            detail={"keys": len(key_set.keys)},
        )
        self._trusted[name] = key_set
        return key_set

    def verify_with_jwks(
        self,
        token: object,
        jwks: str | JwkSet | dict[str, Any],
        *,
        audience: str | None = None,
        issuer: str | None = None,
    ) -> dict[str, Any]:
        """Verify another issuer's JWT against a trusted set (by name) or a given JWK/JWKS."""
        self._fresh()
        if isinstance(jwks, str) and jwks in self._trusted:
            key_set = self._trusted[jwks]
        elif isinstance(jwks, JwkSet):
            key_set = jwks
        elif isinstance(jwks, dict):
            key_set = JwkSet.from_json(jwks)
        else:
            raise UsageError("no trusted key set has that name")
        return key_set.verify_jwt(
            token,
            audience=audience,
            issuer=issuer,
            leeway=self.tokens.leeway,
            clock=self._clock,
            max_bytes=self.tokens.max_token_bytes,
        )

    # -- users, roles, sessions -----------------------------------------------------------

    def create_user(
        self,
        user_id: str,
        password: str | None = None,
        *,
        roles: Iterable[str] = (),
        permissions: Iterable[str] = (),
    ) -> User:
        self.refresh()
        return self.users.create(user_id, password, roles=roles, permissions=permissions)

    def define_role(self, name: str, permissions: Iterable[str]) -> None:
        self.refresh()
        self.users.define_role(name, permissions)

    def login(
        self,
        user_id: str,
        password: str,
        *,
        idle_timeout: float = DEFAULT_IDLE_SECONDS,
        absolute_timeout: float = DEFAULT_ABSOLUTE_SECONDS,
    ) -> tuple[str, Session]:
        """Password login; raises ``InvalidCredentials``. Returns the session token and record."""
        self._fresh()
        user = self.users.authenticate(user_id, password)
        return self.sessions.create(
            user.user_id,
            method="password",
            idle_timeout=idle_timeout,
            absolute_timeout=absolute_timeout,
        )

    def login_with_api_key(
        self,
        api_key: object,
        *,
        idle_timeout: float = DEFAULT_IDLE_SECONDS,
        absolute_timeout: float = DEFAULT_ABSOLUTE_SECONDS,
    ) -> tuple[str, Session]:
        """API-key login; the session carries the key's grants. Raises ``InvalidCredentials``."""
        self._fresh()
        result = self.api_keys.verify(api_key)
        if not result.ok:
            raise InvalidCredentials(f"API key refused: {result.status.value.replace('_', ' ')}")
        record = result.record
        return self.sessions.create(
            record.user_id,
            method="api_key",
            key_id=record.key_id,
            permissions=record.permissions,
            roles=record.roles,
            idle_timeout=idle_timeout,
            absolute_timeout=absolute_timeout,
        )

    def validate_session(self, token: object) -> Session:
        self._fresh()
        return self.sessions.validate(token)

    def list_sessions(self, user_id: str | None = None) -> list[Session]:
        self._fresh()
        return self.sessions.list(user_id)

    def revoke_session(self, session_id: str) -> Session:
        self.refresh()
        return self.sessions.revoke(session_id)

    # -- Basic auth and OAuth client credentials -------------------------------------------

    def verify_basic_auth(self, header_or_user: str, password: str | None = None):
        """A user's ``Principal`` for a Basic header (or user + password), else None.

        Each call runs Argon2id (about 64 MiB and a noticeable fraction of a second), so
        clients that call often should log in once and use the session token.
        """
        self._fresh()
        if password is None:
            parsed = parse_basic_header(header_or_user)
            if parsed is None:
                return None
            header_or_user, password = parsed
        try:
            user = self.users.authenticate(header_or_user, password)
        except InvalidCredentials:
            return None
        return user.principal("basic")

    def register_client(
        self,
        name: str,
        scopes: Iterable[str],
        *,
        client_id: str | None = None,
        token_lifetime: float = 3600.0,
    ) -> tuple[str, str]:
        """Register an OAuth client; returns ``(client_id, client_secret)``, secret shown once."""
        self.refresh()
        client, secret = self.clients.register(
            name, scopes, client_id=client_id, token_lifetime=token_lifetime
        )
        return client.client_id, secret

    def issue_client_credentials_token(
        self, client_id: str, client_secret: str, scope: str | None = None
    ) -> dict[str, Any]:
        """RFC 6749 §4.4: an access-token response whose JWT carries only granted scopes.

        Raises:
            InvalidClient: wrong client id or secret.
            InvalidScope: a requested scope was not granted to the client.
        """
        self._fresh()
        client: OAuthClient = self.clients.authenticate(client_id, client_secret)
        scopes = self.clients.grant_scopes(client, scope)
        token = self.tokens.issue(
            client.client_id,
            scopes,
            {"scope": " ".join(scopes), "client_id": client.client_id},
            algorithm=self.default_algorithm,
            lifetime=client.token_lifetime,
        )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(client.token_lifetime),
            "scope": " ".join(scopes),
        }

    # -- permission checks ----------------------------------------------------------------

    def principal_for(self, subject: object) -> Principal:
        """Turn an API-key result or record, JWT claims, a session or a user into a Principal."""
        if isinstance(subject, Principal):
            return subject
        if isinstance(subject, ApiKeyVerification):
            if not subject.ok:
                return Principal("anonymous", "")
            subject = subject.record
        if isinstance(subject, ApiKeyRecord):
            return subject.principal()
        if isinstance(subject, User):
            return subject.principal()
        if isinstance(subject, Session):
            if subject.method == "password":
                user = self.users.find(subject.user_id)
                if user is None:
                    return Principal("session", subject.user_id)
                return user.principal("session", session_id=subject.session_id)
            return Principal(
                "session",
                subject.user_id,
                frozenset(subject.permissions),
                frozenset(subject.roles),
                {"session_id": subject.session_id},
            )
        if isinstance(subject, dict):
            return Principal(
                "jwt",
                str(subject.get("sub", "")),
                frozenset(_valid_grants(subject.get("permissions"))),
                frozenset(r for r in subject.get("roles") or () if isinstance(r, str)),
                {"jti": subject.get("jti")},
            )
        raise UsageError(f"cannot check permissions for a {type(subject).__name__}")

    def check(self, principal: object, permission: str, resource: str | None = None) -> bool:
        """The single permission decision for API keys, JWT claims, sessions and users."""
        self._fresh()
        return rbac.check(self.principal_for(principal), permission, resource, self.roles)

    # -- lifecycle ------------------------------------------------------------------------

    def flush(self) -> None:
        """Write batched bookkeeping (API-key last-used times) now."""
        self.api_keys.flush()

    def close(self) -> None:
        self.flush()


def _valid_grants(value: object) -> list[str]:
    """Grants from an untrusted claim: malformed entries are dropped, never widened."""
    grants = []
    for item in value if isinstance(value, list) else ():
        try:
            grants.append(rbac.normalize_permission(item))
        except InvalidPermission:
            continue
    return grants
