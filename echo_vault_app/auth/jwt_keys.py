"""JWT signing keys: HS256, EdDSA (Ed25519) and ES256, each with a ``kid``, rotated with overlap.

A key's life: created → signs new tokens until ``sign_until`` (set when a successor takes over)
→ still verifies and stays in the JWKS until ``retire_at`` → gone. A key may also be created
with a planned ``retire_at`` (its publication window), and no token is ever issued whose ``exp``
falls after its key's ``retire_at``: verifiers would reject it once the key leaves the JWKS.

Private material is sealed by the store (``seal`` with the kid as associated data) before it
is written; an HS256 key configured from ``secret_key`` or ``ECHO_VAULT_SECRET_KEY`` is never
written anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm

from echo_vault_app.auth.errors import UnknownSigningKey, WeakSigningKey
from echo_vault_app.auth.store import AuthStore, Change
from echo_vault_app.errors import UsageError

log = logging.getLogger(__name__)

SIGNING_ALGORITHMS = ("HS256", "EdDSA", "ES256")
MIN_HMAC_KEY_BYTES = 32
_ALG_IMPL = {
    "HS256": HMACAlgorithm(HMACAlgorithm.SHA256),
    "EdDSA": OKPAlgorithm(),
    "ES256": ECAlgorithm(ECAlgorithm.SHA256),
}


def algorithm_impl(alg: str):
    """PyJWT's implementation object for one of our signing algorithms."""
    return _ALG_IMPL[alg]


def check_hmac_key(key: bytes | str) -> bytes:
    """Return the key as bytes, refusing one shorter than 32 bytes.

    Raises:
        WeakSigningKey: the key is too short (RFC 7518 §3.2 wants at least the hash size).
    """
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(raw) < MIN_HMAC_KEY_BYTES:
        raise WeakSigningKey(
            f"HS256 secret key is {len(raw)} bytes; at least {MIN_HMAC_KEY_BYTES} bytes are "
            "required (secrets.token_urlsafe(48) makes a good one)"
        )
    return raw


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One signing key; ``private`` and ``public`` are prepared PyJWT key objects."""

    kid: str
    alg: str
    created_at: float
    sign_until: float | None
    retire_at: float | None
    source: str
    private: Any
    public: Any

    def can_sign(self, now: float) -> bool:
        return (self.sign_until is None or now < self.sign_until) and not self.retired(now)

    def retired(self, now: float) -> bool:
        return self.retire_at is not None and now >= self.retire_at

    def public_jwk(self) -> dict[str, Any] | None:
        """The public JWK (None for HMAC keys, which have no public half)."""
        if self.alg == "HS256":
            return None
        jwk = _ALG_IMPL[self.alg].to_jwk(self.public, as_dict=True)
        jwk.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return jwk

    def describe(self) -> dict[str, Any]:
        """Listing data: never any key material."""
        return {
            "kid": self.kid,
            "alg": self.alg,
            "created_at": self.created_at,
            "sign_until": self.sign_until,
            "retire_at": self.retire_at,
            "source": self.source,
        }


def _private_bytes(alg: str, private: Any) -> bytes:
    if alg == "HS256":
        return private
    if alg == "EdDSA":
        return private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    return private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_private(alg: str, raw: bytes) -> tuple[Any, Any]:
    if alg == "HS256":
        return raw, raw
    if alg == "EdDSA":
        private = Ed25519PrivateKey.from_private_bytes(raw)
    else:
        private = serialization.load_der_private_key(raw, password=None)
    return private, private.public_key()


def _generate(alg: str) -> tuple[Any, Any]:
    if alg == "HS256":
        raw = os.urandom(32)
        return raw, raw
    private = (
        Ed25519PrivateKey.generate() if alg == "EdDSA" else ec.generate_private_key(ec.SECP256R1())
    )
    return private, private.public_key()


def configured_hmac_kid(raw: bytes) -> str:
    """A stable kid for a configured HS256 key that reveals nothing usable about it."""
    digest = hashlib.sha256(b"echo-vault configured hs256 kid\0" + raw).digest()
    return "hs256-" + base64.b32encode(digest[:10]).decode().lower()


def _same_window(key: SigningKey, doc: dict[str, Any]) -> bool:
    """A stored key whose times did not change needs no unsealing again on reload."""
    return (key.sign_until, key.retire_at) == (doc["sign_until"], doc["retire_at"])


class KeyRing:
    """Signing keys by kid, loaded from the store, kept in sync with it on every change."""

    def __init__(self, store: AuthStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, SigningKey] = {}
        self._signers: dict[str, SigningKey] = {}  # cache, re-checked on every use
        self.reload()

    def reload(self) -> None:
        """Re-read the stored keys; a configured HS256 key (not stored) stays as it is."""
        keys = {kid: key for kid, key in self._keys.items() if key.source == "configured"}
        for kid, doc in self._store.load_all("signing_keys").items():
            known = self._keys.get(kid)
            if known is not None and known.source == "vault" and _same_window(known, doc):
                keys[kid] = known
                continue
            raw = self._store.open_sealed(base64.b64decode(doc["sealed"]), self._aad(kid))
            private, public = _load_private(doc["alg"], raw)
            keys[kid] = SigningKey(
                kid,
                doc["alg"],
                doc["created_at"],
                doc["sign_until"],
                doc["retire_at"],
                "vault",
                private,
                public,
            )
        with self._lock:
            self._keys = keys
            self._signers = {}

    @staticmethod
    def _aad(kid: str) -> bytes:
        return b"echo-vault auth signing key\0" + kid.encode("utf-8")

    def _doc(self, key: SigningKey) -> dict[str, Any]:
        sealed = self._store.seal(_private_bytes(key.alg, key.private), self._aad(key.kid))
        doc = key.describe()
        del doc["source"]
        doc["sealed"] = base64.b64encode(sealed).decode("ascii")
        return doc

    def add_configured_hmac(self, secret: bytes | str) -> SigningKey:
        """Use an HS256 key given by configuration; it lives in memory only."""
        raw = check_hmac_key(secret)
        key = SigningKey(configured_hmac_kid(raw), "HS256", 0.0, None, None, "configured", raw, raw)
        self._keys[key.kid] = key
        self._signers.clear()
        return key

    def generate(self, alg: str, *, lifetime: float | None = None) -> SigningKey:
        """Create and store a key; ``lifetime`` sets its publication window (retire time)."""
        if alg not in SIGNING_ALGORITHMS:
            raise UsageError(f"signing algorithm must be one of {', '.join(SIGNING_ALGORITHMS)}")
        if lifetime is not None and not lifetime > 0:
            raise UsageError("key lifetime must be a positive number of seconds")
        now = self._clock()
        private, public = _generate(alg)
        kid = f"{alg.lower()}-{base64.b32encode(os.urandom(10)).decode().lower()}"
        key = SigningKey(
            kid,
            alg,
            now,
            None,
            None if lifetime is None else now + lifetime,
            "vault",
            private,
            public,
        )
        with self._lock:
            self._store.write(
                [Change("signing_keys", kid, self._doc(key))],
                action="auth.jwt.key_create",
                target=kid,
                detail={"alg": alg},
            )
            self._keys[kid] = key
            self._signers.clear()
        log.info("created %s signing key %s", alg, kid)
        return key

    def get(self, kid: str) -> SigningKey | None:
        """Exact lookup by kid (never a path, pattern or query)."""
        return self._keys.get(kid) if isinstance(kid, str) else None

    def signer(self, alg: str) -> SigningKey | None:
        """The key that signs new tokens with ``alg``: a configured key first, else the newest."""
        now = self._clock()
        cached = self._signers.get(alg)
        if cached is not None and cached is self._keys.get(cached.kid) and cached.can_sign(now):
            return cached
        usable = [k for k in self._keys.values() if k.alg == alg and k.can_sign(now)]
        if not usable:
            return None
        best = max(usable, key=lambda k: (k.source == "configured", k.created_at))
        self._signers[alg] = best
        return best

    def has_signer(self, alg: str) -> bool:
        return self.signer(alg) is not None

    def rotate(self, alg: str, *, overlap: float = 86400.0, lifetime: float | None = None):
        """Create a successor; the current ``alg`` keys stop signing now and retire after
        ``overlap`` seconds (or earlier if they were already due to).
        """
        if not overlap >= 0:
            raise UsageError("overlap must be zero or more seconds")
        new = self.generate(alg, lifetime=lifetime)
        now = self._clock()
        changes = []
        with self._lock:
            for key in list(self._keys.values()):
                if key.alg != alg or key.kid == new.kid or key.source != "vault":
                    continue
                if key.sign_until is not None and key.sign_until <= now:
                    continue
                retire = (
                    now + overlap if key.retire_at is None else min(key.retire_at, now + overlap)
                )
                old = replace(key, sign_until=now, retire_at=retire)
                self._keys[key.kid] = old
                changes.append(Change("signing_keys", key.kid, self._doc(old)))
            if changes:
                self._store.write(
                    changes, action="auth.jwt.key_rotate", target=new.kid, detail={"alg": alg}
                )
        log.info("rotated %s signing keys to %s", alg, new.kid)
        return new

    def retire(self, kid: str) -> SigningKey:
        """Retire a key now: tokens it signed stop verifying and it leaves the JWKS."""
        with self._lock:
            key = self._keys.get(kid)
            if key is None or key.source != "vault":
                raise UnknownSigningKey(f"no stored signing key has kid {kid!r}")
            now = self._clock()
            key = replace(key, sign_until=now, retire_at=now)
            self._store.write(
                [Change("signing_keys", kid, self._doc(key))],
                action="auth.jwt.key_retire",
                target=kid,
            )
            self._keys[kid] = key
        log.info("retired signing key %s", kid)
        return key

    def list_keys(self) -> list[SigningKey]:
        return sorted(self._keys.values(), key=lambda k: k.created_at)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """Public keys of every asymmetric key not yet retired (the published set)."""
        now = self._clock()
        return {
            "keys": [
                k.public_jwk() for k in self.list_keys() if k.alg != "HS256" and not k.retired(now)
            ]
        }
