"""Small, fixed crypto building blocks used by every layer.

Everything sealed in Echo Vault is AES-256-GCM with a random 96-bit nonce and associated data
that names what the ciphertext belongs to, so a ciphertext moved to another row, field or vault
fails to open instead of decrypting to the wrong thing.
"""

from __future__ import annotations

import os
import unicodedata
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
_SEAL_VERSION = b"\x01"


class SealError(Exception):
    """A sealed blob failed authentication (wrong key, wrong context or tampering)."""


def random_key() -> bytes:
    """32 bytes from the OS's random source."""
    return os.urandom(KEY_BYTES)


def hkdf(key: bytes, info: bytes, *, salt: bytes | None = None, length: int = KEY_BYTES) -> bytes:
    """Derive an independent sub-key; ``info`` labels its single purpose."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext`` bound to ``aad``: version || nonce || ciphertext."""
    nonce = os.urandom(NONCE_BYTES)
    return _SEAL_VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Reverse :func:`seal`; raises :class:`SealError` on any mismatch."""
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != _SEAL_VERSION:
        raise SealError("sealed value is malformed")
    nonce = blob[1 : 1 + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[1 + NONCE_BYTES :], aad)
    except InvalidTag as exc:
        raise SealError("sealed value failed authentication") from exc


def normalize_passphrase(passphrase: str) -> bytes:
    """NFC-normalise before the KDF so the same passphrase typed on any OS unlocks."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


class Argon2Params(NamedTuple):
    """Argon2id cost parameters as stored in a slot or a backup header."""

    memory_kib: int
    iterations: int
    lanes: int

    # The floor follows PEERS.md: what KeePassXC and Bitwarden ship as their minimum.
    MIN_MEMORY_KIB = 64 * 1024
    MIN_ITERATIONS = 3
    MIN_LANES = 4
    # Ceilings exist so a crafted file cannot make us allocate or spin without bound.
    MAX_MEMORY_KIB = 1024 * 1024
    MAX_ITERATIONS = 32
    MAX_LANES = 64

    def check(self) -> None:
        """Bounds-check before any memory is allocated; raises ValueError naming the field."""
        for name, value, low, high in (
            ("memory", self.memory_kib, self.MIN_MEMORY_KIB, self.MAX_MEMORY_KIB),
            ("iterations", self.iterations, self.MIN_ITERATIONS, self.MAX_ITERATIONS),
            ("lanes", self.lanes, self.MIN_LANES, self.MAX_LANES),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"Argon2id {name} parameter out of range")

    def to_dict(self) -> dict[str, int]:
        return {"memory_kib": self.memory_kib, "iterations": self.iterations, "lanes": self.lanes}

    @classmethod
    def from_dict(cls, data: object) -> Argon2Params:
        if not isinstance(data, dict):
            raise ValueError("Argon2id parameters missing")
        params = cls(data.get("memory_kib"), data.get("iterations"), data.get("lanes"))  # type: ignore[arg-type]
        params.check()
        return params


MINIMUM_ARGON2 = Argon2Params(
    Argon2Params.MIN_MEMORY_KIB, Argon2Params.MIN_ITERATIONS, Argon2Params.MIN_LANES
)


def argon2id(secret: bytes, salt: bytes, params: Argon2Params, length: int = KEY_BYTES) -> bytes:
    params.check()
    return Argon2id(
        salt=salt,
        length=length,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    ).derive(secret)


def tune_argon2(target_seconds: float = 0.5) -> Argon2Params:
    """Raise the pass count from the floor until one derivation takes about ``target_seconds``.

    Memory stays at the floor (64 MiB) so unlocking never pushes a small machine into swap;
    time is bought with passes instead.
    """
    import time

    params = MINIMUM_ARGON2
    if target_seconds <= 0:
        return params
    start = time.perf_counter()
    argon2id(b"calibration", b"\x00" * 16, params)
    elapsed = max(time.perf_counter() - start, 1e-3)
    per_pass = elapsed / params.iterations
    iterations = max(params.iterations, min(int(target_seconds / per_pass), 32))
    return Argon2Params(params.memory_kib, iterations, params.lanes)
