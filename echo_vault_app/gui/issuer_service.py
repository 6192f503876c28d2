"""IssuerService: the issuer pane's and rotation wizard's way to the vault's ``AuthManager``.

The ``AuthManager`` is built on first use (importing the auth package costs start-up time that
a user who never opens the issuer should not pay) and dropped when the vault locks. Results are
typed (:class:`IssuedToken`, :class:`TokenInspection`); a full API key or token leaves here only
as the return value of the call that created it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from echo_vault_app.gui.service import VaultService
from echo_vault_app.gui.signals import emit

if TYPE_CHECKING:
    from echo_vault_app.auth import ApiKeyRecord, AuthManager

log = logging.getLogger(__name__)

ALGORITHMS = ("HS256", "EdDSA", "ES256")


@dataclass(frozen=True)
class IssuedToken:
    """A freshly signed JWT with its header and claims, for showing side by side."""

    token: str
    header: dict[str, Any]
    claims: dict[str, Any]


@dataclass(frozen=True)
class TokenInspection:
    """What a pasted token says and whether this vault accepts it.

    ``header``/``claims`` are decoded without trusting them (empty when the token cannot be
    parsed); ``reason`` is the library's machine word (``valid``, ``expired``, ``bad_signature``
    …) and ``message`` its one-line explanation.
    """

    valid: bool
    reason: str
    message: str
    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, parsed strictly but with no signature check.

    Raises:
        TokenMalformed: not a well-formed token.
    """
    from echo_vault_app.auth.jws import loads_object, parse_compact

    jws = parse_compact(token.strip())
    return jws.header, loads_object(jws.payload, "claims")


def decode_for_display(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Whatever can be shown of a token: the header even when the claims do not parse."""
    from echo_vault_app.auth import TokenError
    from echo_vault_app.auth.jws import loads_object, parse_compact

    try:
        jws = parse_compact(token.strip())
    except TokenError:
        return {}, {}
    try:
        return jws.header, loads_object(jws.payload, "claims")
    except TokenError:
        return jws.header, {}


class IssuerService(QObject):
    """API keys, JWTs, signing keys and JWKS of the unlocked vault."""

    api_keys_changed = Signal()
    signing_keys_changed = Signal()

    def __init__(self, service: VaultService) -> None:
        super().__init__()
        self.service = service
        self._auth: AuthManager | None = None
        service.vault_locked.connect(self._on_service_vault_locked)

    def auth(self) -> AuthManager:
        """The vault's AuthManager, built on first use; raises VaultLocked while locked."""
        if self._auth is None:
            from echo_vault_app.auth import AuthManager
            from echo_vault_app.state import StateManager

            vault = self.service.manager.vault
            hours = StateManager(vault=vault).config.get("token_expiry_hours")
            self._auth = AuthManager(vault=vault, token_expiry_hours=hours)
            log.info("opened auth records of vault %s", vault.vault_id)
        return self._auth

    def _on_service_vault_locked(self) -> None:
        if self._auth is not None:
            try:
                self._auth.close()
            except Exception:  # the vault is already locked; pending bookkeeping is lost
                log.warning("could not flush API-key bookkeeping on lock")
        self._auth = None

    def default_lifetime_hours(self) -> float:
        return self.auth().tokens.default_lifetime / 3600.0

    # -- API keys -------------------------------------------------------------------------

    def api_keys(self) -> list[ApiKeyRecord]:
        return self.auth().list_api_keys()

    def create_api_key(
        self,
        user_id: str,
        permissions: Iterable[str],
        *,
        name: str = "",
        expires_in: float | None = None,
    ) -> str:
        """The new key, to be shown once; only its hash is kept."""
        key = self.auth().generate_api_key(
            user_id, list(permissions), name=name, expires_in=expires_in
        )
        emit(self.api_keys_changed)
        return key

    def revoke_api_key(self, key_id: str) -> None:
        self.auth().revoke_api_key(key_id)
        emit(self.api_keys_changed)

    def rotate_api_key(self, key_id: str, grace_seconds: float) -> str:
        """The successor key (shown once); safe to call from a worker thread."""
        key = self.auth().rotate_api_key(key_id, grace_seconds)
        emit(self.api_keys_changed)
        return key

    def check_api_key(self, key: str) -> str:
        """The library's status word for ``key`` (``valid``, ``revoked``, ``expired`` …)."""
        return self.auth().check_api_key(key.strip()).status.value

    # -- JWTs -----------------------------------------------------------------------------

    def issue_jwt(
        self,
        subject: str,
        permissions: Iterable[str],
        claims: dict[str, Any],
        *,
        algorithm: str,
        lifetime_seconds: float,
    ) -> IssuedToken:
        token = self.auth().create_jwt_token(
            subject,
            list(permissions),
            claims or None,
            algorithm=algorithm,
            expires_in=lifetime_seconds,
        )
        header, decoded = decode_unverified(token)
        emit(self.signing_keys_changed)  # a first EdDSA/ES256 token creates its key
        return IssuedToken(token, header, decoded)

    def inspect_token(self, token: str) -> TokenInspection:
        """Decode ``token`` for display and say whether, and why not, this vault accepts it."""
        from echo_vault_app.auth import TokenError

        token = token.strip()
        header, claims = decode_for_display(token)
        try:
            self.auth().decode_jwt_token(token)
        except TokenError as exc:
            return TokenInspection(False, exc.reason, _sentence(str(exc)), header, claims)
        return TokenInspection(True, "valid", "", header, claims)

    # -- signing keys and JWKS ------------------------------------------------------------

    def signing_keys(self) -> list[dict[str, Any]]:
        return self.auth().list_signing_keys()

    def rotate_signing_key(self, algorithm: str, overlap_seconds: float) -> str:
        """Rotate ``algorithm``'s key; returns the new kid (safe from a worker thread)."""
        kid = self.auth().rotate_signing_key(algorithm, overlap=overlap_seconds).kid
        emit(self.signing_keys_changed)
        return kid

    def jwks(self) -> dict[str, Any]:
        return self.auth().jwks()

    def export_jwks(self, path: Path) -> int:
        """Write the public JWKS to ``path``; returns the number of keys (public data only)."""
        document = self.jwks()
        Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        log.info("exported JWKS with %d keys", len(document["keys"]))
        return len(document["keys"])


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def describe_time(seconds: float | None) -> str:
    """A local date and time for a timestamp claim, or "" (pure helper for the panes).

    >>> describe_time(None)
    ''
    """
    if seconds is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(seconds)))
