"""The OS-keyring unlock slot.

The keyring holds a random key-encryption key (service ``echo-vault``, account = vault id); the
slot in ``vault.keys`` wraps the vault key under it. Only backends that keep secrets encrypted
by the OS are accepted: a plaintext store would turn the vault's encryption into decoration, so
it is refused with a message and the passphrase path is used instead.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os

from echo_vault_app.config import ENV_NO_KEYRING, env_flag
from echo_vault_app.errors import KeyringError

log = logging.getLogger(__name__)

SERVICE = "echo-vault"

# Module path and class name of every backend we trust, so a look-up never imports a backend
# (some import platform libraries that do not exist elsewhere).
ALLOWED_BACKENDS = {
    ("keyring.backends.SecretService", "Keyring"): "Secret Service",
    ("keyring.backends.kwallet", "DBusKeyring"): "KWallet",
    ("keyring.backends.kwallet", "DBusKeyringKWallet4"): "KWallet",
    ("keyring.backends.macOS", "Keyring"): "macOS Keychain",
    ("keyring.backends.Windows", "WinVaultKeyring"): "Windows Credential Locker",
}


def backend_label(backend: object) -> str | None:
    """The human name of an allowed backend, or None when it is not on the allowlist."""
    cls = type(backend)
    return ALLOWED_BACKENDS.get((cls.__module__, cls.__name__))


def find_backend() -> object:
    """Return the OS keyring backend to use, or raise KeyringError saying why there is none."""
    if env_flag(ENV_NO_KEYRING, False):
        raise KeyringError(f"keyring use is switched off ({ENV_NO_KEYRING} is set)")
    try:
        import keyring
        from keyring.backends.chainer import ChainerBackend

        chosen = keyring.get_keyring()
        candidates = chosen.backends if isinstance(chosen, ChainerBackend) else [chosen]
    except Exception as exc:  # keyring's own discovery can fail in many platform ways
        raise KeyringError(
            f"the system keyring could not be loaded ({type(exc).__name__})"
        ) from exc

    for backend in candidates:
        if backend_label(backend):
            return backend
    names = ", ".join(f"{type(b).__module__}.{type(b).__name__}" for b in candidates)
    if "fail" in names:
        raise KeyringError("no system keyring is available (install gnome-keyring or KWallet)")
    raise KeyringError(f"refusing keyring backend {names}: it does not encrypt with the OS")


def store_kek(backend: object, vault_id: str, kek: bytes) -> None:
    """Write the key-encryption key for ``vault_id``; raises KeyringError on failure."""
    try:
        backend.set_password(SERVICE, vault_id, base64.b64encode(kek).decode("ascii"))  # type: ignore[attr-defined]
    except Exception as exc:
        raise KeyringError(f"the system keyring refused the write ({_reason(exc)})") from exc
    log.info("stored keyring entry for vault %s", vault_id)


def load_kek(backend: object, vault_id: str) -> bytes:
    """Read the key-encryption key; raises KeyringError if missing, locked or damaged."""
    try:
        stored = backend.get_password(SERVICE, vault_id)  # type: ignore[attr-defined]
    except Exception as exc:
        raise KeyringError(f"the system keyring could not be read ({_reason(exc)})") from exc
    if stored is None:
        raise KeyringError("the keyring entry for this vault is missing")
    try:
        kek = base64.b64decode(stored.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise KeyringError("the keyring entry for this vault is damaged") from exc
    if len(kek) != 32:
        raise KeyringError("the keyring entry for this vault is damaged")
    return kek


def delete_kek(backend: object, vault_id: str) -> None:
    try:
        backend.delete_password(SERVICE, vault_id)  # type: ignore[attr-defined]
    except Exception as exc:
        log.info("keyring entry for vault %s not deleted (%s)", vault_id, type(exc).__name__)


def _reason(exc: Exception) -> str:
    name = type(exc).__name__
    if "Locked" in name:
        return "it is locked"
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{name}: {text}" if text else name


def new_kek() -> bytes:
    return os.urandom(32)
