"""OAuth 2.0 client credentials (RFC 6749 §4.4) and HTTP Basic credentials parsing.

A client is registered with the scopes it may ever receive; its secret (256 random bits) is
shown once and stored as ``HMAC-SHA256(stable_key("client-secret-hash"), id ":" secret)``,
which is enough for a machine-generated secret (no password KDF needed). A token request may
narrow the scopes but never widen them: asking for an ungranted scope fails with
``InvalidScope`` rather than silently dropping it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from echo_vault_app.auth.errors import InvalidClient, InvalidScope, UnknownClient
from echo_vault_app.auth.rbac import normalize_permission
from echo_vault_app.auth.store import AuthStore, Change
from echo_vault_app.errors import Conflict, UsageError

log = logging.getLogger(__name__)

_CLIENT_ID = re.compile(r"[A-Za-z0-9._\-]{3,64}")


@dataclass(frozen=True, slots=True)
class OAuthClient:
    client_id: str
    name: str
    scopes: tuple[str, ...]
    token_lifetime: float
    created_at: float
    secret_hash: str

    def describe(self) -> dict[str, Any]:
        doc = asdict(self)
        del doc["secret_hash"]
        doc["scopes"] = list(self.scopes)
        return doc


def parse_basic_header(header: str) -> tuple[str, str] | None:
    """Split ``Basic base64(user:password)``; None when it is not that."""
    if not isinstance(header, str) or len(header) > 4096:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep and user else None


class ClientService:
    """Registers OAuth clients and checks their credentials and scopes."""

    def __init__(self, store: AuthStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._key = store.stable_key("client-secret-hash")
        self._clients: dict[str, OAuthClient] = {}
        self.reload()

    def reload(self) -> None:
        """Re-read registered clients from the store."""
        self._clients = {
            cid: OAuthClient(**{**doc, "scopes": tuple(doc["scopes"])})
            for cid, doc in self._store.load_all("clients").items()
        }

    def _hash(self, client_id: str, secret: str) -> str:
        data = f"{client_id}:{secret}".encode()
        return hmac.digest(self._key, data, "sha256").hex()

    def register(
        self,
        name: str,
        scopes: Iterable[str],
        *,
        client_id: str | None = None,
        token_lifetime: float = 3600.0,
    ) -> tuple[OAuthClient, str]:
        """Add a client; returns it and its secret (shown once)."""
        client_id = client_id or "evc_" + secrets.token_hex(8)
        if not _CLIENT_ID.fullmatch(client_id):
            raise UsageError("a client id is 3-64 letters, digits, dots, dashes or underscores")
        if not token_lifetime > 0:
            raise UsageError("token lifetime must be a positive number of seconds")
        granted = tuple(sorted({normalize_permission(s) for s in scopes}))
        secret = secrets.token_urlsafe(32)
        client = OAuthClient(
            client_id,
            str(name)[:200],
            granted,
            float(token_lifetime),
            self._clock(),
            self._hash(client_id, secret),
        )
        with self._lock:
            if client_id in self._clients:
                raise Conflict(f"client {client_id!r} already exists")
            doc = asdict(client)
            doc["scopes"] = list(granted)
            self._store.write(
                [Change("clients", client_id, doc)], action="auth.client.register", target=client_id
            )
            self._clients[client_id] = client
        log.info("registered OAuth client %s", client_id)
        return client, secret

    def authenticate(self, client_id: object, secret: object) -> OAuthClient:
        """Raises ``InvalidClient`` for an unknown client or a wrong secret (same message)."""
        client = self._clients.get(client_id) if isinstance(client_id, str) else None
        ok = isinstance(secret, str) and len(secret) < 512
        candidate = self._hash(str(client_id)[:64], secret if ok else "")
        if client is None or not ok or not hmac.compare_digest(candidate, client.secret_hash):
            raise InvalidClient("client authentication failed")
        return client

    def grant_scopes(self, client: OAuthClient, scope: str | None) -> tuple[str, ...]:
        """The scopes to put in the token: all granted ones, or the requested subset."""
        if scope is not None and not isinstance(scope, str):
            raise InvalidScope("scope must be a space-delimited string")
        if scope is None or not scope.strip():
            return client.scopes
        wanted = []
        for item in scope.split():
            try:
                wanted.append(normalize_permission(item))
            except UsageError as exc:
                raise InvalidScope(f"scope {item!r} is not a valid permission") from exc
        missing = sorted(set(wanted) - set(client.scopes))
        if missing:
            raise InvalidScope(f"client was not granted: {' '.join(missing)}")
        return tuple(dict.fromkeys(wanted))

    def get(self, client_id: str) -> OAuthClient:
        client = self._clients.get(client_id)
        if client is None:
            raise UnknownClient(f"no OAuth client has id {client_id!r}")
        return client

    def list(self) -> list[OAuthClient]:
        return sorted(self._clients.values(), key=lambda c: c.client_id)

    def delete(self, client_id: str) -> None:
        with self._lock:
            self.get(client_id)
            self._store.write(
                [Change("clients", client_id, None)], action="auth.client.delete", target=client_id
            )
            del self._clients[client_id]
