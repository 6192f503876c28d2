"""Registered-claim checks shared by our own tokens and tokens from imported issuers.

``exp`` is always required. Times may be integers or floats (never booleans). ``nbf`` and
``iat`` in the future beyond the leeway make a token not yet valid. When an audience is
expected, ``aud`` (a string or a list of strings) must name it; a token that carries an
audience when none is expected is refused too, since it was meant for someone else.
"""

from __future__ import annotations

from typing import Any

from echo_vault_app.auth.errors import (
    AudienceMismatch,
    IssuerMismatch,
    MissingClaim,
    TokenExpired,
    TokenMalformed,
    TokenNotYetValid,
)


def _time(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None and name not in claims:
        return None
    if type(value) not in (int, float) or value != value:  # rejects bool, str, null, NaN
        raise TokenMalformed(f"the token's {name} claim is not a number")
    return float(value)


def validate_claims(
    claims: dict[str, Any],
    *,
    now: float,
    leeway: float,
    audience: str | None,
    issuer: str | None,
) -> None:
    """Raise the matching ``TokenError`` if the claims are not acceptable at ``now``."""
    exp = _time(claims, "exp")
    if exp is None:
        raise MissingClaim("the token has no exp claim")
    if now >= exp + leeway:
        raise TokenExpired("the token has expired")
    nbf = _time(claims, "nbf")
    if nbf is not None and nbf > now + leeway:
        raise TokenNotYetValid("the token is not valid yet (nbf)")
    iat = _time(claims, "iat")
    if iat is not None and iat > now + leeway:
        raise TokenNotYetValid("the token was issued in the future (iat)")

    if issuer is not None and claims.get("iss") != issuer:
        raise IssuerMismatch("the token's issuer is not the expected one")

    aud = claims.get("aud")
    if audience is None:
        if aud is not None:
            raise AudienceMismatch("the token names an audience but none was expected")
        return
    if isinstance(aud, str):
        aud = [aud]
    if not isinstance(aud, list) or not all(isinstance(a, str) for a in aud):
        raise AudienceMismatch("the token has no usable aud claim")
    if audience not in aud:
        raise AudienceMismatch("the token is meant for another audience")
