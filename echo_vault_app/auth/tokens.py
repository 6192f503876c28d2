"""Issuing and verifying Echo Vault's own JWTs.

Verification, in order: size limit (before any parsing) → strict compact-JWS parse → ``kid``
looked up exactly in the key ring → the header's ``alg`` must equal that key's own algorithm
(so ``none``, HS256-signed-with-a-public-key and every other confusion fails) → signature →
claims (``exp`` required, ``nbf``/``iat``/``iss``/``aud`` with leeway) → ``jti`` revocation
list. Header members carrying key material (``jwk``, ``jku``, ``x5u``, ``x5c``) are ignored.

Signing and signature checks are PyJWT's algorithm implementations; the compact serialization
and claim checks are done here so each refusal has its own typed error.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from echo_vault_app.auth.claims import validate_claims
from echo_vault_app.auth.errors import (
    AlgorithmNotAllowed,
    TokenLifetimeError,
    TokenMalformed,
    TokenRevoked,
    TokenSignatureInvalid,
    UnknownKey,
)
from echo_vault_app.auth.jws import (
    DEFAULT_MAX_TOKEN_BYTES,
    b64url_encode,
    loads_object,
    parse_compact,
)
from echo_vault_app.auth.jwt_keys import KeyRing, SigningKey, algorithm_impl
from echo_vault_app.auth.rbac import parse_grant
from echo_vault_app.auth.store import AuthStore, Change
from echo_vault_app.errors import UsageError

log = logging.getLogger(__name__)

RESERVED_CLAIMS = frozenset({"sub", "iat", "nbf", "exp", "jti", "iss", "aud", "permissions"})
DEFAULT_LEEWAY = 30.0


def _dumps(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class TokenService:
    """Issues and checks JWTs with the keys of a ``KeyRing``; keeps the ``jti`` revocation list."""

    def __init__(
        self,
        keys: KeyRing,
        store: AuthStore,
        *,
        default_lifetime: float,
        issuer: str | None = None,
        leeway: float = DEFAULT_LEEWAY,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self._store = store
        self.default_lifetime = default_lifetime
        self.issuer = issuer
        self.leeway = leeway
        self.max_token_bytes = max_token_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._revoked: dict[str, float] = {}
        self.reload()

    def reload(self) -> None:
        """Re-read the revoked token ids from the store."""
        self._revoked = {
            jti: doc["expires_at"] for jti, doc in self._store.load_all("revoked_jtis").items()
        }

    def issue(
        self,
        subject: str,
        permissions: Iterable[str] = (),
        custom_claims: dict[str, Any] | None = None,
        *,
        algorithm: str = "HS256",
        lifetime: float | None = None,
        audience: str | list[str] | None = None,
        roles: Iterable[str] = (),
        not_before: float | None = None,
    ) -> str:
        """Sign a token for ``subject``.

        Raises:
            UsageError: bad subject, lifetime, or a custom claim that overrides a reserved one.
            TokenLifetimeError: the token would outlive its key's publication window.
        """
        if not isinstance(subject, str) or not subject:
            raise UsageError("a token subject must be a non-empty string")
        lifetime = self.default_lifetime if lifetime is None else lifetime
        if not lifetime > 0:
            raise UsageError("token lifetime must be a positive number of seconds")
        if isinstance(permissions, str):
            raise UsageError("permissions must be a list of strings, not one string")
        if custom_claims is not None and not isinstance(custom_claims, dict):
            raise UsageError("custom claims must be a dict")
        extra = dict(custom_claims or {})
        clash = RESERVED_CLAIMS.intersection(extra)
        if clash:
            raise UsageError(
                f"custom claims may not set reserved claims: {', '.join(sorted(clash))}"
            )
        key = self.keys.signer(algorithm)
        if key is None:
            raise UsageError(f"no {algorithm} signing key is available")

        now = int(self._clock())
        exp = now + int(lifetime)
        if key.retire_at is not None and exp > key.retire_at:
            raise TokenLifetimeError(
                f"a token living {int(lifetime)} s would outlive signing key {key.kid}, which "
                "is retired sooner; rotate the key or ask for a shorter lifetime"
            )
        claims: dict[str, Any] = {
            "sub": subject,
            "permissions": [p for p in permissions if parse_grant(p)],
            **extra,
            "iat": now,
            "nbf": now if not_before is None else int(not_before),
            "exp": exp,
            "jti": secrets.token_urlsafe(16),
        }
        roles = list(roles)
        if roles:
            claims["roles"] = roles
        if self.issuer is not None:
            claims["iss"] = self.issuer
        if audience is not None:
            claims["aud"] = audience
        try:
            return self.sign(claims, key)
        except (TypeError, ValueError) as exc:
            raise UsageError("custom claims must be JSON-serializable") from exc

    @staticmethod
    def sign(claims: dict[str, Any], key: SigningKey) -> str:
        """Serialize and sign ``claims`` with ``key`` (no checks: callers build the claims)."""
        header = {"alg": key.alg, "kid": key.kid, "typ": "JWT"}
        signing_input = f"{b64url_encode(_dumps(header))}.{b64url_encode(_dumps(claims))}"
        signature = algorithm_impl(key.alg).sign(signing_input.encode("ascii"), key.private)
        return f"{signing_input}.{b64url_encode(signature)}"

    def decode(
        self,
        token: object,
        *,
        audience: str | None = None,
        issuer: str | None = None,
        leeway: float | None = None,
    ) -> dict[str, Any]:
        """Verify a token and return its claims, or raise the ``TokenError`` that says why.

        ``issuer`` defaults to the service's configured issuer.
        """
        jws = parse_compact(token, self.max_token_bytes)
        alg = jws.header["alg"]
        if alg.lower() == "none":
            raise AlgorithmNotAllowed("unsigned tokens (alg none) are never accepted")
        key = self.keys.get(jws.header.get("kid"))
        now = self._clock()
        if key is None or key.retired(now):
            raise UnknownKey("no current signing key has the token's kid")
        if alg != key.alg:
            raise AlgorithmNotAllowed(f"the token's key only verifies {key.alg}")
        if not algorithm_impl(key.alg).verify(jws.signing_input, key.public, jws.signature):
            raise TokenSignatureInvalid("the token's signature does not verify")

        claims = loads_object(jws.payload, "claims")
        validate_claims(
            claims,
            now=now,
            leeway=self.leeway if leeway is None else leeway,
            audience=audience,
            issuer=self.issuer if issuer is None else issuer,
        )
        jti = claims.get("jti")
        if jti is not None and not isinstance(jti, str):
            raise TokenMalformed("the token's jti is not a string")
        if jti in self._revoked:
            raise TokenRevoked("the token has been revoked")
        return claims

    def revoke(self, jti: str, expires_at: float) -> None:
        """Put ``jti`` on the revocation list until ``expires_at`` (after which it is pruned)."""
        if not isinstance(jti, str) or not jti:
            raise UsageError("a jti must be a non-empty string")
        now = self._clock()
        with self._lock:
            stale = [j for j, until in self._revoked.items() if until + self.leeway < now]
            changes = [Change("revoked_jtis", j, None) for j in stale]
            changes.append(Change("revoked_jtis", jti, {"expires_at": float(expires_at)}))
            self._store.write(changes, action="auth.jwt.revoke", target=jti)
            for j in stale:
                self._revoked.pop(j, None)
            self._revoked[jti] = float(expires_at)
        log.info("revoked a token id")

    def is_revoked(self, jti: str) -> bool:
        return jti in self._revoked
