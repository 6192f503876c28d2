"""Account password hashing with Argon2id (``cryptography``), parameters stored with each hash.

Defaults follow the vault's passphrase slot: 64 MiB, 3 passes, 4 lanes, 16-byte salt, 32-byte
output. Each stored hash carries its own parameters so they can be raised later without
breaking existing accounts (``needs_rehash`` tells when a login should re-hash).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from echo_vault_app.errors import WeakPassword

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """Cost parameters; ``memory_kib`` is in KiB."""

    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 4


def _kdf(salt: bytes, params: Argon2Params) -> Argon2id:
    return Argon2id(
        salt=salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )


def _encode(password: str) -> bytes:
    raw = password.encode("utf-8") if isinstance(password, str) else b""
    if not isinstance(password, str) or len(raw) > MAX_PASSWORD_BYTES:
        raise WeakPassword(f"a password must be text of at most {MAX_PASSWORD_BYTES} bytes")
    return raw


class PasswordHasher:
    """Hashes and checks account passwords."""

    def __init__(self, params: Argon2Params | None = None) -> None:
        self.params = params or Argon2Params()
        self._dummy: dict[str, Any] | None = None

    def hash(self, password: str, *, check_strength: bool = True) -> dict[str, Any]:
        """Hash a new password.

        Raises:
            WeakPassword: shorter than 12 characters (or not text).
        """
        raw = _encode(password)
        if check_strength and len(password) < MIN_PASSWORD_CHARS:
            raise WeakPassword(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
        salt = os.urandom(16)
        digest = _kdf(salt, self.params).derive(raw)
        return {
            "alg": "argon2id",
            "salt": base64.b64encode(salt).decode("ascii"),
            "memory_kib": self.params.memory_kib,
            "iterations": self.params.iterations,
            "lanes": self.params.lanes,
            "hash": base64.b64encode(digest).decode("ascii"),
        }

    def verify(self, password: str, stored: dict[str, Any] | None) -> bool:
        """True when ``password`` matches; with ``stored=None`` spends the same time and fails."""
        try:
            raw = _encode(password)
        except WeakPassword:
            return False
        if stored is None and self._dummy is None:
            self._dummy = self.hash("echo-vault timing equaliser", check_strength=False)
        record = stored or self._dummy
        params = Argon2Params(record["memory_kib"], record["iterations"], record["lanes"])
        expected = base64.b64decode(record["hash"])
        try:
            _kdf(base64.b64decode(record["salt"]), params).verify(raw, expected)
        except InvalidKey:
            return False
        return stored is not None

    def needs_rehash(self, stored: dict[str, Any]) -> bool:
        current = Argon2Params(stored["memory_kib"], stored["iterations"], stored["lanes"])
        return current != self.params
