"""Small, fixed crypto building blocks used by every layer.

Everything sealed in Echo Vault is AES-256-GCM with a random 96-bit nonce and associated data
that names what the ciphertext belongs to, so a ciphertext moved to another row, field or vault
fails to open instead of decrypting to the wrong thing.
"""

from __future__ import annotations

import os
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Re-exported: every caller that derives keys names the parameters through this module.
from echo_vault_app.core.kdfparams import MINIMUM_ARGON2, Argon2Params  # noqa: F401

KEY_BYTES = 32
NONCE_BYTES = 12
_SEAL_VERSION = b"\x01"
_SHA256 = hashes.SHA256()


class SealError(Exception):
    """A sealed blob failed authentication (wrong key, wrong context or tampering)."""


def random_key() -> bytes:
    """32 bytes from the OS's random source."""
    return os.urandom(KEY_BYTES)


def hkdf(key: bytes, info: bytes, *, salt: bytes | None = None, length: int = KEY_BYTES) -> bytes:
    """Derive an independent sub-key; ``info`` labels its single purpose."""
    return HKDF(algorithm=_SHA256, length=length, salt=salt, info=info).derive(key)


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA-256 through the same OpenSSL as everything else here.

    The standard library's ``hmac`` and ``hashlib`` would load the system's libcrypto on top
    of the one inside ``cryptography``: about 2 ms on every CLI call, for the same digest.
    """
    mac = hmac.HMAC(key, _SHA256)
    mac.update(data)
    return mac.finalize()


def sha256(data: bytes) -> bytes:
    digest = hashes.Hash(_SHA256)
    digest.update(data)
    return digest.finalize()


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
