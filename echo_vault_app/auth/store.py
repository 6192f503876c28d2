"""Where the auth package keeps its records: one small protocol, two implementations.

Records are JSON documents grouped by kind (API keys, signing keys, users, roles, sessions,
OAuth clients, revoked token ids, settings, trusted issuers' key sets) and addressed by id.
Every write is a list of changes applied atomically and audited as one action. Secret
material (private signing keys, a vault-held HS256 key) is sealed by the store before it goes
into a document; API-key and client secrets are only ever stored as keyed hashes under
``stable_key``.

``MemoryAuthStore`` keeps everything in this process's memory and forgets it on exit: it is what
``AuthManager(secret_key=...)`` uses when no vault is given. ``VaultAuthStore`` (in
``vault_store``) keeps the same documents in the encrypted vault.

Freshness across processes: every write also bumps a *generation* counter in the same
transaction. ``seen`` is the generation this process's in-memory copies reflect; when
``generation()`` answers something else, another process wrote, and ``AuthManager`` reloads.
``modify`` is a read-modify-write inside one transaction, for updates (revocation, last-used
times) that must not overwrite what another process wrote meanwhile.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KINDS = (
    "api_keys",
    "signing_keys",
    "users",
    "roles",
    "sessions",
    "clients",
    "revoked_jtis",
    "settings",
    "trusted_jwks",
)


@dataclass(frozen=True, slots=True)
class Change:
    """One document to write (``doc``) or delete (``doc is None``)."""

    kind: str
    id: str
    doc: dict[str, Any] | None


class AuthStore(Protocol):
    """What the auth services need from storage."""

    persistent: bool
    seen: int

    def generation(self) -> int:
        """The store's change counter as it is now (one cheap query for the vault store)."""

    def modify(
        self,
        kind: str,
        ids: Iterable[str],
        update: Callable[[str, dict[str, Any] | None], dict[str, Any] | None],
        *,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """In one transaction, pass each stored document (or None) to ``update`` and write what
        it returns (None: leave as is). Returns the written documents by id; audits only when
        something was written."""

    def load_all(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every document of ``kind``, by id."""

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        """One document, or None."""

    def write(
        self,
        changes: Sequence[Change],
        *,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Apply ``changes`` atomically and record ``action`` on ``target`` in the audit trail."""

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt secret material bound to ``aad``."""

    def open_sealed(self, blob: bytes, aad: bytes) -> bytes:
        """Reverse ``seal``; raises if the blob or ``aad`` was altered."""

    def stable_key(self, label: str) -> bytes:
        """A 32-byte key for keyed hashes that stays the same for the store's whole life."""


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown auth record kind {kind!r}")


class MemoryAuthStore:
    """Records in this process's memory only: nothing survives the process.

    Sealing uses a random per-process key so the code paths match the vault store's; the audit
    trail is kept as a list of ``(time, action, target, detail)`` for inspection.
    """

    persistent = False
    seen = 0

    def __init__(self) -> None:
        self._docs: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        self._lock = threading.Lock()
        self._seal_key = AESGCM(AESGCM.generate_key(bit_length=256))
        self._stable: dict[str, bytes] = {}
        self.audit: list[tuple[float, str, str | None, dict[str, Any] | None]] = []

    def load_all(self, kind: str) -> dict[str, dict[str, Any]]:
        _check_kind(kind)
        with self._lock:
            return {doc_id: json.loads(text) for doc_id, text in self._docs[kind].items()}

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        _check_kind(kind)
        text = self._docs[kind].get(doc_id)
        return None if text is None else json.loads(text)

    def write(
        self,
        changes: Sequence[Change],
        *,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        encoded = []
        for change in changes:
            _check_kind(change.kind)
            text = None if change.doc is None else json.dumps(change.doc, sort_keys=True)
            encoded.append((change.kind, change.id, text))

        with self._lock:
            for kind, doc_id, text in encoded:
                if text is None:
                    self._docs[kind].pop(doc_id, None)
                else:
                    self._docs[kind][doc_id] = text
            self.audit.append((time.time(), action, target, detail))

    def generation(self) -> int:
        """Nothing outside this process can write here, so the copies are always current."""
        return self.seen

    def modify(
        self,
        kind: str,
        ids: Iterable[str],
        update: Callable[[str, dict[str, Any] | None], dict[str, Any] | None],
        *,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> dict[str, dict[str, Any]]:
        _check_kind(kind)
        written = {}
        with self._lock:
            for doc_id in ids:
                text = self._docs[kind].get(doc_id)
                doc = update(doc_id, None if text is None else json.loads(text))
                if doc is not None:
                    self._docs[kind][doc_id] = json.dumps(doc, sort_keys=True)
                    written[doc_id] = doc
            if written:
                self.audit.append((time.time(), action, target, detail))
        return written

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._seal_key.encrypt(nonce, plaintext, aad)

    def open_sealed(self, blob: bytes, aad: bytes) -> bytes:
        return self._seal_key.decrypt(blob[:12], blob[12:], aad)

    def stable_key(self, label: str) -> bytes:
        with self._lock:
            return self._stable.setdefault(label, os.urandom(32))
