"""Verifying tokens from other issuers against an imported JWK or JWKS.

Each imported key gets the set of algorithms it may verify, fixed at import time:

- a key that declares ``alg`` verifies that algorithm only (``ES521``, PyJWT's old spelling of
  ``ES512``, is read as ``ES512``), and the declaration must suit the key type and curve;
- otherwise the key type decides: an EC key its curve's one algorithm, an Ed25519/Ed448 key
  ``EdDSA``, an RSA key RS256/384/512 and PS256/384/512, a symmetric key the HS algorithms its
  length supports.

Keys marked ``"use": "enc"`` or whose ``key_ops`` lack ``verify`` are refused at import, as
are RSA moduli under 2048 bits, symmetric keys under 32 bytes, duplicate kids and unknown key
types. A token is checked against the key whose ``kid`` equals its own; a token without a
``kid`` is only checked when the set holds a single key. Header key material is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jwt.algorithms import (
    ECAlgorithm,
    HMACAlgorithm,
    OKPAlgorithm,
    RSAAlgorithm,
    RSAPSSAlgorithm,
)
from jwt.exceptions import InvalidKeyError, PyJWKError

from echo_vault_app.auth.claims import validate_claims
from echo_vault_app.auth.errors import (
    AlgorithmNotAllowed,
    TokenSignatureInvalid,
    UnknownKey,
    WeakSigningKey,
)
from echo_vault_app.auth.jws import (
    DEFAULT_MAX_TOKEN_BYTES,
    CompactJws,
    b64url_decode,
    loads_object,
    parse_compact,
)
from echo_vault_app.errors import UsageError

_IMPLS: dict[str, Any] = {
    "HS256": HMACAlgorithm(HMACAlgorithm.SHA256),
    "HS384": HMACAlgorithm(HMACAlgorithm.SHA384),
    "HS512": HMACAlgorithm(HMACAlgorithm.SHA512),
    "RS256": RSAAlgorithm(RSAAlgorithm.SHA256),
    "RS384": RSAAlgorithm(RSAAlgorithm.SHA384),
    "RS512": RSAAlgorithm(RSAAlgorithm.SHA512),
    "PS256": RSAPSSAlgorithm(RSAPSSAlgorithm.SHA256),
    "PS384": RSAPSSAlgorithm(RSAPSSAlgorithm.SHA384),
    "PS512": RSAPSSAlgorithm(RSAPSSAlgorithm.SHA512),
    "ES256": ECAlgorithm(ECAlgorithm.SHA256),
    "ES384": ECAlgorithm(ECAlgorithm.SHA384),
    "ES512": ECAlgorithm(ECAlgorithm.SHA512),
    "EdDSA": OKPAlgorithm(),
}
_ALIASES = {"ES521": "ES512"}
_EC_CURVES = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_RSA_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_HMAC_MIN = {"HS256": 32, "HS384": 48, "HS512": 64}
_PUBLIC_MEMBERS = {
    "RSA": ("kty", "n", "e"),
    "EC": ("kty", "crv", "x", "y"),
    "OKP": ("kty", "crv", "x"),
}


@dataclass(frozen=True, slots=True)
class ImportedKey:
    """A verification key from another issuer, with the algorithms it may verify."""

    kid: str | None
    algorithms: frozenset[str]
    key: Any
    jwk: dict[str, Any]


def _allowed_algorithms(jwk: dict[str, Any]) -> frozenset[str]:
    kty = jwk.get("kty")
    declared = jwk.get("alg")
    if declared is not None:
        declared = _ALIASES.get(declared, declared)
        if declared not in _IMPLS:
            raise UsageError(f"imported key declares an unsupported algorithm {declared!r}")
    if kty == "EC":
        fitting = _EC_CURVES.get(jwk.get("crv"))
        natural = frozenset({fitting} if fitting else ())
    elif kty == "OKP":
        natural = frozenset({"EdDSA"} if jwk.get("crv") in ("Ed25519", "Ed448") else ())
    elif kty == "RSA":
        natural = _RSA_ALGS
    elif kty == "oct":
        length = len(b64url_decode(jwk.get("k", "")))
        if length < 32:
            raise WeakSigningKey("imported symmetric key is shorter than 32 bytes")
        natural = frozenset(a for a, n in _HMAC_MIN.items() if length >= n)
    else:
        raise UsageError(f"imported key has an unsupported key type {kty!r}")
    if not natural:
        raise UsageError("imported key uses an unsupported curve")
    if declared is None:
        return natural
    if declared not in natural:
        raise UsageError(f"imported key declares {declared}, which its key type cannot do")
    return frozenset({declared})


def import_jwk(jwk: dict[str, Any]) -> ImportedKey:
    """Check one JWK and prepare it for verification (public half only for key pairs).

    Raises:
        UsageError: unsupported, mis-declared or encryption-only key.
        WeakSigningKey: RSA modulus under 2048 bits or symmetric key under 32 bytes.
    """
    if not isinstance(jwk, dict):
        raise UsageError("a JWK must be a JSON object")
    if "use" in jwk and jwk["use"] != "sig":
        raise UsageError("imported key is not meant for signatures (use)")
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        raise UsageError("imported key is not allowed to verify (key_ops)")
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise UsageError("imported key has a kid that is not a string")
    try:
        algorithms = _allowed_algorithms(jwk)
        kty = jwk["kty"]
        if kty == "oct":
            key = b64url_decode(jwk["k"])
        else:
            public = {name: jwk[name] for name in _PUBLIC_MEMBERS[kty]}
            impl = {"RSA": RSAAlgorithm, "EC": ECAlgorithm, "OKP": OKPAlgorithm}[kty]
            key = impl.from_jwk(json.dumps(public))
    except (KeyError, ValueError, TypeError, InvalidKeyError, PyJWKError) as exc:
        raise UsageError("imported key is malformed") from exc
    if jwk["kty"] == "RSA" and key.key_size < 2048:
        raise WeakSigningKey("imported RSA key is shorter than 2048 bits")
    return ImportedKey(kid, algorithms, key, dict(jwk))


class JwkSet:
    """A trusted issuer's keys. Build with ``JwkSet.from_json`` (a JWK or a JWKS)."""

    def __init__(self, keys: list[ImportedKey]) -> None:
        kids = [k.kid for k in keys if k.kid is not None]
        if len(kids) != len(set(kids)):
            raise UsageError("imported key set has two keys with the same kid")
        if not keys:
            raise UsageError("imported key set is empty")
        self.keys = keys
        self._by_kid = {k.kid: k for k in keys if k.kid is not None}

    @classmethod
    def from_json(cls, value: str | bytes | dict[str, Any]) -> JwkSet:
        """Accept a JWKS (``{"keys": [...]}``) or a single JWK, as text or parsed."""
        if isinstance(value, str | bytes):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise UsageError("key set is not valid JSON") from exc
        if isinstance(value, dict) and "keys" in value:
            if not isinstance(value["keys"], list):
                raise UsageError("a JWKS's keys member must be a list")
            return cls([import_jwk(jwk) for jwk in value["keys"]])
        return cls([import_jwk(value)])

    def to_json(self) -> dict[str, Any]:
        return {"keys": [k.jwk for k in self.keys]}

    def _key_for(self, header: dict[str, Any]) -> ImportedKey:
        kid = header.get("kid")
        if kid is None:
            if len(self.keys) == 1:
                return self.keys[0]
            raise UnknownKey("the token names no kid and the key set has several keys")
        key = self._by_kid.get(kid)
        if key is None:
            raise UnknownKey("no trusted key has the token's kid")
        return key

    def verify_jws(self, token: object, max_bytes: int = DEFAULT_MAX_TOKEN_BYTES) -> CompactJws:
        """Check a compact JWS's signature; return it parsed (payload may be any bytes)."""
        jws = parse_compact(token, max_bytes)
        alg = jws.header["alg"]
        if alg.lower() == "none":
            raise AlgorithmNotAllowed("unsigned tokens (alg none) are never accepted")
        key = self._key_for(jws.header)
        if alg not in key.algorithms:
            raise AlgorithmNotAllowed("the token's algorithm is not one its key may verify")
        if not _IMPLS[alg].verify(jws.signing_input, key.key, jws.signature):
            raise TokenSignatureInvalid("the token's signature does not verify")
        return jws

    def verify_jwt(
        self,
        token: object,
        *,
        audience: str | None = None,
        issuer: str | None = None,
        leeway: float = 30.0,
        clock: Callable[[], float],
        max_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
    ) -> dict[str, Any]:
        """Check signature and claims (``exp`` required) and return the claims."""
        jws = self.verify_jws(token, max_bytes)
        claims = loads_object(jws.payload, "claims")
        validate_claims(claims, now=clock(), leeway=leeway, audience=audience, issuer=issuer)
        return claims
