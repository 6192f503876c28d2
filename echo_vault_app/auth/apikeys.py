"""API keys: issued once, stored only as a keyed hash, verified by key id in constant time.

Format: ``ev_<environment>_<key id>_<secret><checksum>``

- environment: 1-16 lowercase letters or digits (``live``, ``test``, ``dev``...);
- key id: 12 lowercase base32 characters (60 random bits), public, shown in listings;
- secret: 43 base62 characters (more than 256 random bits);
- checksum: CRC32 of everything before it, 6 base62 characters, so a secret scanner can tell a
  real key from a lookalike offline (the same idea as GitHub's tokens). It is not a security
  check: verification always compares the keyed hash.

Only ``HMAC-SHA256(stable_key("api-key-hash"), key_id ":" secret)`` is stored. Verification
parses the key, finds the record by key id in an in-memory index (loaded from the store,
updated on every write through this service, and rebuilt by ``reload`` when ``AuthManager``
sees that another process wrote), compares hashes with ``hmac.compare_digest``, then checks
revocation, expiry and, if asked, a permission.

``last_used_at`` is updated in memory on every successful verification but written to the store
at most once a minute (all pending keys in one transaction) and on ``flush()``/close, so
verification never pays for a disk write on each call. After a crash the stored value can be up
to a minute old.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from echo_vault_app.auth.errors import UnknownApiKey
from echo_vault_app.auth.rbac import Principal, normalize_permission
from echo_vault_app.auth.store import AuthStore, Change
from echo_vault_app.errors import UsageError

log = logging.getLogger(__name__)

PREFIX = "ev"
SECRET_CHARS = 43
CHECKSUM_CHARS = 6
LAST_USED_FLUSH_SECONDS = 60.0
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KEY_RE = re.compile(r"ev_([a-z0-9]{1,16})_([a-z2-7]{12})_([0-9A-Za-z]{43})([0-9A-Za-z]{6})")
_ENV_RE = re.compile(r"[a-z0-9]{1,16}")
_MAX_KEY_LEN = 3 + 17 + 13 + SECRET_CHARS + CHECKSUM_CHARS


class ApiKeyStatus(enum.Enum):
    """Why a key was accepted or refused."""

    VALID = "valid"
    MALFORMED = "malformed"
    NOT_FOUND = "not_found"
    BAD_SECRET = "bad_secret"
    REVOKED = "revoked"
    EXPIRED = "expired"
    INSUFFICIENT_PERMISSION = "insufficient_permission"


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """What is stored about a key: everything but the key itself."""

    key_id: str
    environment: str
    user_id: str
    name: str
    permissions: tuple[str, ...]
    roles: tuple[str, ...]
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None
    secret_hash: str
    rotated_to: str | None = None
    rotated_from: str | None = None

    @property
    def prefix(self) -> str:
        """The public start of the key, safe to show."""
        return f"{PREFIX}_{self.environment}_{self.key_id}"

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["permissions"] = list(self.permissions)
        doc["roles"] = list(self.roles)
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ApiKeyRecord:
        fields = dict(doc)
        fields["permissions"] = tuple(fields["permissions"])
        fields["roles"] = tuple(fields.get("roles", ()))
        return cls(**fields)

    def public_dict(self) -> dict[str, Any]:
        """The record as the seed-compatible call returns it (no hash)."""
        doc = self.to_doc()
        del doc["secret_hash"]
        doc["prefix"] = self.prefix
        return doc

    def principal(self) -> Principal:
        return Principal(
            "api_key",
            self.user_id,
            frozenset(self.permissions),
            frozenset(self.roles),
            {"key_id": self.key_id},
        )


@dataclass(frozen=True, slots=True)
class ApiKeyVerification:
    """The strict answer: a status, and the record whenever the key id was found and matched."""

    status: ApiKeyStatus
    record: ApiKeyRecord | None = None

    @property
    def ok(self) -> bool:
        return self.status is ApiKeyStatus.VALID


_MALFORMED = ApiKeyVerification(ApiKeyStatus.MALFORMED)
_NOT_FOUND = ApiKeyVerification(ApiKeyStatus.NOT_FOUND)
_BAD_SECRET = ApiKeyVerification(ApiKeyStatus.BAD_SECRET)
_B62_VALUE = {char: value for value, char in enumerate(_B62)}


def _entry(record: ApiKeyRecord) -> tuple[ApiKeyRecord, bytes, ApiKeyVerification]:
    return record, bytes.fromhex(record.secret_hash), ApiKeyVerification(ApiKeyStatus.VALID, record)


def _b62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(_B62[digit])
    return "".join(reversed(chars))


def checksum(body: str) -> str:
    """The 6-character CRC32 that ends every key, over everything before it."""
    return _b62(zlib.crc32(body.encode("ascii")), CHECKSUM_CHARS)


def looks_like_api_key(text: str) -> bool:
    """Offline check (format and checksum) a secret scanner can run without the vault."""
    match = _KEY_RE.fullmatch(text) if isinstance(text, str) else None
    return bool(match) and checksum(text[:-CHECKSUM_CHARS]) == match.group(4)


def _new_key(environment: str, key_id: str) -> tuple[str, str]:
    secret = "".join(secrets.choice(_B62) for _ in range(SECRET_CHARS))
    body = f"{PREFIX}_{environment}_{key_id}_{secret}"
    return body + checksum(body), secret


def _checked(permission: str) -> str:
    """Validate a grant but keep it as written, so callers get back what they gave."""
    normalize_permission(permission)
    return permission


class ApiKeyService:
    """Issues, verifies, lists, revokes and rotates API keys over an ``AuthStore``."""

    def __init__(
        self,
        store: AuthStore,
        *,
        permission_check: Callable[[Principal, str, str | None], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._check = permission_check
        self._clock = clock
        hash_key = store.stable_key("api-key-hash")
        # HMAC-SHA256 with the padded key states computed once (RFC 2104): same output as
        # hmac.digest, about a third of its cost per call.
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in hash_key.ljust(64, b"\0")))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in hash_key.ljust(64, b"\0")))
        self._lock = threading.Lock()
        self._index: dict[str, ApiKeyRecord] = {}
        self._entries: dict[str, tuple[ApiKeyRecord, bytes, ApiKeyVerification]] = {}
        self.reload()
        self._last_used: dict[str, float] = {}
        self._last_flush = clock()

    def reload(self) -> None:
        """Rebuild the index from the store (another process may have written)."""
        index: dict[str, ApiKeyRecord] = {}
        entries: dict[str, tuple[ApiKeyRecord, bytes, ApiKeyVerification]] = {}
        for doc in self._store.load_all("api_keys").values():
            record = ApiKeyRecord.from_doc(doc)
            index[record.key_id] = record
            entries[record.key_id] = _entry(record)
        with self._lock:
            self._index, self._entries = index, entries

    def _digest(self, key_id: str, secret: str) -> bytes:
        inner = self._inner.copy()
        inner.update(f"{key_id}:{secret}".encode("ascii"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def _hash(self, key_id: str, secret: str) -> str:
        return self._digest(key_id, secret).hex()

    def _remember(self, record: ApiKeyRecord) -> None:
        self._index[record.key_id] = record
        self._entries[record.key_id] = _entry(record)

    def _save(self, records: Iterable[ApiKeyRecord], action: str, target: str, detail=None) -> None:
        records = list(records)
        self._store.write(
            [Change("api_keys", r.key_id, r.to_doc()) for r in records],
            action=action,
            target=target,
            detail=detail,
        )
        for record in records:
            self._remember(record)

    def generate(
        self,
        user_id: str,
        permissions: Iterable[str] = (),
        *,
        name: str = "",
        roles: Iterable[str] = (),
        environment: str = "live",
        expires_in: float | None = None,
        _rotated_from: str | None = None,
    ) -> tuple[str, ApiKeyRecord]:
        """Create a key; the full key is returned once and never stored.

        Raises:
            UsageError: bad user id, environment, lifetime or permission.
        """
        if not isinstance(user_id, str) or not user_id or len(user_id) > 256:
            raise UsageError("user_id must be a non-empty string of at most 256 characters")
        if not isinstance(environment, str) or not _ENV_RE.fullmatch(environment):
            raise UsageError("environment must be 1-16 lowercase letters or digits")
        if expires_in is not None and not expires_in > 0:
            raise UsageError("expires_in must be a positive number of seconds")
        if isinstance(permissions, str):
            raise UsageError("permissions must be a list of strings, not one string")
        perms = tuple(_checked(p) for p in permissions)
        now = self._clock()

        with self._lock:
            key_id = base64.b32encode(os.urandom(10)).decode().lower()[:12]
            while key_id in self._index:
                key_id = base64.b32encode(os.urandom(10)).decode().lower()[:12]
            key, secret = _new_key(environment, key_id)
            record = ApiKeyRecord(
                key_id=key_id,
                environment=environment,
                user_id=user_id,
                name=str(name)[:200],
                permissions=perms,
                roles=tuple(roles),
                created_at=now,
                expires_at=None if expires_in is None else now + expires_in,
                revoked_at=None,
                last_used_at=None,
                secret_hash=self._hash(key_id, secret),
                rotated_from=_rotated_from,
            )
            if _rotated_from is None:
                self._save([record], "auth.apikey.create", key_id)
        log.info("created API key %s", key_id)
        return key, record

    def verify(
        self, key: object, required_permission: str | None = None, resource: str | None = None
    ) -> ApiKeyVerification:
        """Check ``key``; never raises for any input (a malformed permission name excepted)."""
        if type(key) is not str or len(key) > _MAX_KEY_LEN:
            return _MALFORMED
        match = _KEY_RE.fullmatch(key)
        if match is None:
            return _MALFORMED
        environment, key_id, secret, check = match.groups()
        value = _B62_VALUE
        given = (
            (
                ((value[check[0]] * 62 + value[check[1]]) * 62 + value[check[2]]) * 62
                + value[check[3]]
            )
            * 62
            + value[check[4]]
        ) * 62 + value[check[5]]
        if zlib.crc32(key[:-CHECKSUM_CHARS].encode("ascii")) != given:
            return _MALFORMED
        entry = self._entries.get(key_id)
        if entry is None or entry[0].environment != environment:
            return _NOT_FOUND
        record, expected, valid = entry
        if not hmac.compare_digest(self._digest(key_id, secret), expected):
            return _BAD_SECRET

        now = self._clock()
        if record.revoked_at is not None and record.revoked_at <= now:
            return ApiKeyVerification(ApiKeyStatus.REVOKED, record)
        if record.expires_at is not None and record.expires_at <= now:
            return ApiKeyVerification(ApiKeyStatus.EXPIRED, record)
        if required_permission is not None and not self._check(
            record.principal(), required_permission, resource
        ):
            return ApiKeyVerification(ApiKeyStatus.INSUFFICIENT_PERMISSION, record)

        self._last_used[key_id] = now
        if now - self._last_flush >= LAST_USED_FLUSH_SECONDS:
            self.flush()
        return valid

    def flush(self) -> None:
        """Write pending ``last_used_at`` times in one transaction.

        Each stored record is re-read inside that transaction and only its ``last_used_at``
        moves forward, so a revocation written meanwhile by another process is kept.
        """
        with self._lock:
            pending, self._last_used = self._last_used, {}
            self._last_flush = self._clock()
            if not pending:
                return

            def touch(key_id: str, doc: dict[str, Any] | None) -> dict[str, Any] | None:
                if doc is None or (doc.get("last_used_at") or 0) >= pending[key_id]:
                    return None
                return {**doc, "last_used_at": pending[key_id]}

            written = self._store.modify(
                "api_keys",
                list(pending),
                touch,
                action="auth.apikey.last_used",
                detail={"keys": len(pending)},
            )
            for doc in written.values():
                self._remember(ApiKeyRecord.from_doc(doc))

    def get(self, key_id: str) -> ApiKeyRecord:
        record = self._index.get(key_id)
        if record is None:
            raise UnknownApiKey(f"no API key has id {key_id!r}")
        pending = self._last_used.get(key_id)
        return record if pending is None else replace(record, last_used_at=pending)

    def list(self, user_id: str | None = None) -> list[ApiKeyRecord]:
        """Records, newest first, optionally for one user."""
        records = [self.get(k) for k, r in self._index.items() if user_id in (None, r.user_id)]
        return sorted(records, key=lambda r: r.created_at, reverse=True)

    def revoke(self, key_id: str) -> ApiKeyRecord:
        """Revoke now; revoking twice keeps the first time."""
        self.get(key_id)
        now = self._clock()

        def revoke(_: str, doc: dict[str, Any] | None) -> dict[str, Any] | None:
            if doc is None:
                raise UnknownApiKey(f"no API key has id {key_id!r}")
            return None if doc.get("revoked_at") is not None else {**doc, "revoked_at": now}

        with self._lock:
            written = self._store.modify(
                "api_keys", [key_id], revoke, action="auth.apikey.revoke", target=key_id
            )
            doc = written.get(key_id) or self._store.get("api_keys", key_id)
            self._remember(ApiKeyRecord.from_doc(doc))
            record = self.get(key_id)
        log.info("revoked API key %s", key_id)
        return record

    def rotate(self, key_id: str, grace_seconds: float = 86400.0) -> tuple[str, ApiKeyRecord]:
        """Issue a successor with the same owner and grants; the old key dies after the grace.

        Raises:
            UnknownApiKey: no such key.
            UsageError: the key is revoked, already expired or the grace is negative.
        """
        if not grace_seconds >= 0:
            raise UsageError("grace period must be zero or more seconds")
        old = self.get(key_id)
        now = self._clock()
        if old.revoked_at is not None or (old.expires_at is not None and old.expires_at <= now):
            raise UsageError(f"API key {key_id} is revoked or expired and cannot be rotated")
        lifetime = None if old.expires_at is None else old.expires_at - old.created_at
        key, new = self.generate(
            old.user_id,
            old.permissions,
            name=old.name,
            roles=old.roles,
            environment=old.environment,
            expires_in=lifetime,
            _rotated_from=key_id,
        )
        grace_end = now + grace_seconds
        old = replace(
            old,
            rotated_to=new.key_id,
            expires_at=grace_end if old.expires_at is None else min(old.expires_at, grace_end),
        )
        with self._lock:
            self._save([new, old], "auth.apikey.rotate", key_id, {"successor": new.key_id})
        log.info("rotated API key %s", key_id)
        return key, new
