"""Authentication and authorisation: API keys, JWTs, sessions, roles, Basic and OAuth clients.

``AuthManager`` is the entry point; the submodules are its parts. No Qt here.
"""

from echo_vault_app import log as _log  # noqa: F401 (keeps the library silent by default)
from echo_vault_app.auth.apikeys import (
    ApiKeyRecord,
    ApiKeyStatus,
    ApiKeyVerification,
    looks_like_api_key,
)
from echo_vault_app.auth.errors import (
    AlgorithmNotAllowed,
    AudienceMismatch,
    InvalidClient,
    InvalidCredentials,
    InvalidScope,
    IssuerMismatch,
    MissingClaim,
    SessionInvalid,
    TokenError,
    TokenExpired,
    TokenLifetimeError,
    TokenMalformed,
    TokenNotYetValid,
    TokenRevoked,
    TokenSignatureInvalid,
    TokenTooLarge,
    UnknownKey,
    WeakSigningKey,
)
from echo_vault_app.auth.jwks import JwkSet
from echo_vault_app.auth.manager import AuthManager
from echo_vault_app.auth.passwords import Argon2Params
from echo_vault_app.auth.rbac import Principal
from echo_vault_app.auth.sessions import Session

__all__ = [
    "AlgorithmNotAllowed",
    "ApiKeyRecord",
    "ApiKeyStatus",
    "ApiKeyVerification",
    "Argon2Params",
    "AudienceMismatch",
    "AuthManager",
    "InvalidClient",
    "InvalidCredentials",
    "InvalidScope",
    "IssuerMismatch",
    "JwkSet",
    "MissingClaim",
    "Principal",
    "Session",
    "SessionInvalid",
    "TokenError",
    "TokenExpired",
    "TokenLifetimeError",
    "TokenMalformed",
    "TokenNotYetValid",
    "TokenRevoked",
    "TokenSignatureInvalid",
    "TokenTooLarge",
    "UnknownKey",
    "WeakSigningKey",
    "looks_like_api_key",
]
