"""How failures become HTTP answers: one JSON shape, a stable code, never a traceback.

Every error the API sends is ``{"error": {"code": "...", "message": "..."}}``. The ``code`` is
a stable word clients can branch on; the message is one sentence for a person and comes from
the library's typed errors, which never carry a secret, a key or a token.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

from echo_vault_app import errors
from echo_vault_app.auth import errors as auth_errors


class BodyTooLarge(Exception):
    """The request body grew past the configured limit while it was being read."""


class ApiError(Exception):
    """A refusal decided by the API layer itself (bad header, missing permission...)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


# Most specific first: the first class an error is an instance of decides.
_LIBRARY_MAP: tuple[tuple[type[BaseException], int, str], ...] = (
    (auth_errors.PermissionDenied, 403, "forbidden"),
    (errors.UnlockThrottled, 429, "rate_limited"),
    (errors.AuthenticationError, 401, "unauthenticated"),
    (errors.VaultLocked, 423, "locked"),
    (errors.VaultNotFound, 423, "locked"),
    (errors.VersionConflict, 409, "version_conflict"),
    (errors.VaultBusy, 503, "busy"),
    (errors.Conflict, 409, "conflict"),
    (errors.NotFound, 404, "not_found"),
    (errors.WeakPassword, 422, "weak_password"),
    (errors.InvalidName, 422, "invalid_name"),
    (errors.ValidationError, 422, "invalid"),
    (errors.UsageError, 422, "invalid"),
    (errors.AuditError, 503, "audit_unavailable"),
    (errors.StorageError, 507, "storage_error"),
    (errors.VaultDamaged, 500, "vault_damaged"),
    (errors.BackupError, 500, "backup_failed"),
)


def from_library(exc: errors.EchoVaultError) -> ApiError:
    """Map a library error to its status and code, keeping its one-line message."""
    for kind, status, code in _LIBRARY_MAP:
        if isinstance(exc, kind):
            headers = {}
            if isinstance(exc, errors.UnlockThrottled):
                headers["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
            return ApiError(status, code, str(exc) or code.replace("_", " "), headers)
    return ApiError(500, "internal", "the vault could not complete the request")


def error_response(error: ApiError) -> JSONResponse:
    headers = {"Cache-Control": "no-store", **error.headers}
    body = {"error": {"code": error.code, "message": error.message}}
    return JSONResponse(body, status_code=error.status, headers=headers)


def plain_error(
    status: int, code: str, message: str
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The same shape as raw ASGI parts, for the guard middleware that runs before routing."""
    import json

    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    return status, headers, body
