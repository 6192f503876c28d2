"""Errors of the auth package, all inside the library's one hierarchy.

Exit codes (``exit_code``, used by the CLI): configuration and usage errors 2 (``UsageError``),
refused credentials and tokens 3 (``AuthenticationError``), refused permission 3, unknown
objects 6 (``NotFound``), lost races 7 (``Conflict``). Messages name what failed and why, never
a key, secret, password or token.
"""

from __future__ import annotations

from echo_vault_app.errors import AuthenticationError, NotFound, UsageError


class WeakSigningKey(UsageError):
    """An HS256 key shorter than 32 bytes (or an imported key too weak to trust) was given."""


class InvalidPermission(UsageError):
    """A permission string does not follow ``resource:action[:resource-glob]``."""


class TokenLifetimeError(UsageError):
    """A token was asked to live longer than its signing key stays published for verification."""


class TokenError(AuthenticationError):
    """A JWT or JWS was refused; ``reason`` is a stable machine-readable word for why.

    Subclasses name each reason so callers can catch exactly what they handle; the message is a
    sentence for a person and never contains the token.
    """

    reason = "invalid"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__.splitlines()[0].rstrip("."))


class TokenMalformed(TokenError):
    """The token is not a well-formed compact JWS or its claims are not a JSON object."""

    reason = "malformed"


class TokenTooLarge(TokenMalformed):
    """The token is longer than the configured limit and was refused before parsing."""

    reason = "too_large"


class AlgorithmNotAllowed(TokenError):
    """The token's algorithm is not the one its key is pinned to (or is ``none``)."""

    reason = "algorithm_not_allowed"


class UnknownKey(TokenError):
    """No trusted key has the token's ``kid``, or that key has been retired."""

    reason = "unknown_key"


class TokenSignatureInvalid(TokenError):
    """The signature does not verify under the key the token names."""

    reason = "bad_signature"


class TokenExpired(TokenError):
    """The token's ``exp`` has passed (beyond the allowed leeway)."""

    reason = "expired"


class TokenNotYetValid(TokenError):
    """The token's ``nbf`` or ``iat`` lies in the future (beyond the allowed leeway)."""

    reason = "not_yet_valid"


class AudienceMismatch(TokenError):
    """The token's ``aud`` does not name the expected audience."""

    reason = "wrong_audience"


class IssuerMismatch(TokenError):
    """The token's ``iss`` is not the expected issuer."""

    reason = "wrong_issuer"


class MissingClaim(TokenMalformed):
    """A claim the verifier requires (``exp`` always) is absent or of the wrong type."""

    reason = "missing_claim"


class TokenRevoked(TokenError):
    """The token's ``jti`` is on the revocation list."""

    reason = "revoked"


class InvalidCredentials(AuthenticationError):
    """A user name and password, API key or client secret was refused."""


class InvalidClient(InvalidCredentials):
    """OAuth 2.0 ``invalid_client``: unknown client or wrong client secret."""


class InvalidScope(AuthenticationError):
    """OAuth 2.0 ``invalid_scope``: the client asked for a scope it was not granted."""


class SessionInvalid(AuthenticationError):
    """A session token was refused; ``reason`` says why (unknown, expired, idle, revoked)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class PermissionDenied(AuthenticationError):
    """The principal is known but lacks the permission the operation needs."""


class UnknownUser(NotFound):
    """No user has that id."""


class UnknownApiKey(NotFound):
    """No API key has that key id."""


class UnknownSigningKey(NotFound):
    """No signing key has that ``kid``."""


class UnknownSession(NotFound):
    """No session has that id."""


class UnknownClient(NotFound):
    """No OAuth client has that id."""
