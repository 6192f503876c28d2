"""Strict parsing of compact JWS before any key or signature is looked at.

PyJWT's base64url decoder quietly drops characters outside the alphabet, which makes
signatures malleable (one valid token yields many accepted spellings). Every segment here must be
canonical unpadded base64url: only ``A-Z a-z 0-9 - _``, no length of 1 modulo 4, and zero
unused trailing bits. The header must be a JSON object without duplicate members, with a string
``alg``; ``crit`` is refused because Echo Vault understands no header extension. Header members
that carry key material (``jwk``, ``jku``, ``x5u``, ``x5c``) are parsed but never used.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from echo_vault_app.auth.errors import TokenMalformed, TokenTooLarge

DEFAULT_MAX_TOKEN_BYTES = 8192
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
# The last character of a canonical encoding may only use the bits that carry data.
_LAST_OK_2 = frozenset("AQgw")  # length % 4 == 2: 4 unused bits must be zero
_LAST_OK_3 = frozenset("AEIMQUYcgkosw048")  # length % 4 == 3: 2 unused bits must be zero


@dataclass(frozen=True, slots=True)
class CompactJws:
    """A parsed compact JWS whose signature has not been checked yet."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes


def b64url_decode(segment: str) -> bytes:
    """Decode canonical unpadded base64url, refusing every other spelling.

    >>> b64url_decode("Zm9v")
    b'foo'
    """
    rest = len(segment) % 4
    if rest == 1 or not _SEGMENT.fullmatch(segment):
        raise TokenMalformed("a token segment is not canonical base64url")
    if (rest == 2 and segment[-1] not in _LAST_OK_2) or (
        rest == 3 and segment[-1] not in _LAST_OK_3
    ):
        raise TokenMalformed("a token segment is not canonical base64url")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenMalformed("a token segment is not canonical base64url") from exc


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise TokenMalformed("a token JSON object repeats a member")
        result[name] = value
    return result


def loads_object(data: bytes, what: str) -> dict[str, Any]:
    """Parse a JSON object, refusing duplicates, invalid UTF-8 and non-objects."""
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except TokenMalformed:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise TokenMalformed(f"the token {what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise TokenMalformed(f"the token {what} is not a JSON object")
    return value


def parse_compact(token: object, max_bytes: int = DEFAULT_MAX_TOKEN_BYTES) -> CompactJws:
    """Split and decode a compact JWS; raises ``TokenMalformed`` or ``TokenTooLarge``."""
    if isinstance(token, bytes | bytearray):
        if len(token) > max_bytes:
            raise TokenTooLarge(f"the token is longer than {max_bytes} bytes")
        try:
            token = bytes(token).decode("ascii")
        except UnicodeDecodeError as exc:
            raise TokenMalformed("the token is not ASCII") from exc
    if not isinstance(token, str):
        raise TokenMalformed("the token is not a string")
    if len(token) > max_bytes:
        raise TokenTooLarge(f"the token is longer than {max_bytes} bytes")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenMalformed("the token is not three dot-separated segments")
    header_b64, payload_b64, signature_b64 = parts
    if not header_b64 or not signature_b64:
        raise TokenMalformed("the token has an empty header or signature")

    header = loads_object(b64url_decode(header_b64), "header")
    payload = b64url_decode(payload_b64)
    signature = b64url_decode(signature_b64)

    if not isinstance(header.get("alg"), str):
        raise TokenMalformed("the token header has no algorithm")
    if "crit" in header:
        raise TokenMalformed("the token header lists critical extensions this verifier lacks")
    if "kid" in header and not isinstance(header["kid"], str):
        raise TokenMalformed("the token header kid is not a string")
    signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
    return CompactJws(header, payload, signing_input, signature)
