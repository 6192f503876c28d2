"""Unlock slots: each wraps the vault key under a key-encryption key of its own.

Like LUKS key slots, any one slot opens the vault, and adding or changing one rewrites only
that slot. The associated data names the vault and the slot kind, so a slot copied from another
vault or into another position does not open.
"""

from __future__ import annotations

import base64
import binascii
import os
import time

from echo_vault_app.core.crypto import (
    Argon2Params,
    SealError,
    argon2id,
    hkdf,
    normalize_passphrase,
    open_sealed,
    seal,
    sha256,
)
from echo_vault_app.core.keyfile import KeyFile, Slot, WrappedDataKey
from echo_vault_app.errors import KeyFileDamaged, WrongMasterKey, WrongRecoveryKey

RECOVERY_PREFIX = "EVRK"
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def slot_aad(kind: str, vault_id: str) -> bytes:
    return f"echo-vault/slot/{kind}/{vault_id}".encode()


def data_key_aad(vault_id: str, version: int) -> bytes:
    return f"echo-vault/data-key/{vault_id}/{version}".encode()


def wrap_data_key(vault_key: bytes, vault_id: str, data_key: bytes, version: int) -> WrappedDataKey:
    return WrappedDataKey(version, seal(vault_key, data_key, data_key_aad(vault_id, version)))


def unwrap_data_key(vault_key: bytes, vault_id: str, wrapped: WrappedDataKey) -> bytes:
    try:
        key = open_sealed(vault_key, wrapped.wrapped, data_key_aad(vault_id, wrapped.version))
    except SealError as exc:
        raise KeyFileDamaged("vault.keys is damaged: the data key does not unwrap") from exc
    if len(key) != 32:
        raise KeyFileDamaged("vault.keys is damaged: the data key has the wrong length")
    return key


def make_slot(kind: str, kek: bytes, vault_key: bytes, vault_id: str, **extra: object) -> Slot:
    return Slot(
        kind=kind,
        wrapped=seal(kek, vault_key, slot_aad(kind, vault_id)),
        created=time.time(),
        **extra,  # type: ignore[arg-type]
    )


def open_slot(slot: Slot, kek: bytes, vault_id: str) -> bytes:
    """Return the vault key or raise SealError when ``kek`` is not this slot's key."""
    return open_sealed(kek, slot.wrapped, slot_aad(slot.kind, vault_id))


# passphrase ---------------------------------------------------------------------------------


def passphrase_kek(passphrase: str, salt: bytes, params: Argon2Params) -> bytes:
    return argon2id(normalize_passphrase(passphrase), salt, params)


def passphrase_slot(passphrase: str, params: Argon2Params, vault_key: bytes, vault_id: str) -> Slot:
    salt = os.urandom(16)
    kek = passphrase_kek(passphrase, salt, params)
    return make_slot("passphrase", kek, vault_key, vault_id, salt=salt, argon2=params)


# recovery key -------------------------------------------------------------------------------


def new_recovery_key() -> tuple[str, bytes]:
    """A 256-bit recovery key as users type it: prefix, base32 groups, a 2-character check."""
    raw = os.urandom(32)
    body = base64.b32encode(raw).decode("ascii").rstrip("=")
    check = base64.b32encode(sha256(raw)).decode("ascii")[:2]
    text = body + check
    groups = [text[i : i + 6] for i in range(0, len(text), 6)]
    return RECOVERY_PREFIX + "-" + "-".join(groups), raw


def parse_recovery_key(text: str) -> bytes:
    """Accept the key with any spacing, dashes or case; raise WrongRecoveryKey if malformed."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n")
    if cleaned.startswith(RECOVERY_PREFIX):
        cleaned = cleaned[len(RECOVERY_PREFIX) :]
    if len(cleaned) != 54 or any(ch not in _B32 for ch in cleaned):
        raise WrongRecoveryKey("that is not an Echo Vault recovery key (wrong length or letters)")
    try:
        raw = base64.b32decode(cleaned[:52] + "====")
    except binascii.Error as exc:
        raise WrongRecoveryKey("that is not an Echo Vault recovery key") from exc
    check = base64.b32encode(sha256(raw)).decode("ascii")[:2]
    if check != cleaned[52:]:
        raise WrongRecoveryKey("the recovery key has a typo (its check letters do not match)")
    return raw


def recovery_kek(raw: bytes, salt: bytes) -> bytes:
    return hkdf(raw, b"echo-vault/recovery-slot", salt=salt)


def recovery_slot(raw: bytes, vault_key: bytes, vault_id: str) -> Slot:
    salt = os.urandom(16)
    return make_slot("recovery", recovery_kek(raw, salt), vault_key, vault_id, salt=salt)


# headless (ECHO_VAULT_MASTER_KEY) ------------------------------------------------------------


def parse_master_key(text: str) -> bytes:
    """``ECHO_VAULT_MASTER_KEY`` is a Fernet key: url-safe base64 of 32 bytes."""
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise WrongMasterKey(
            "ECHO_VAULT_MASTER_KEY is malformed (expected Fernet.generate_key() output)"
        ) from exc
    if len(raw) != 32:
        raise WrongMasterKey(
            "ECHO_VAULT_MASTER_KEY is malformed (expected Fernet.generate_key() output)"
        )
    return raw


def env_kek(raw: bytes, vault_id: str) -> bytes:
    return hkdf(raw, b"echo-vault/env-slot", salt=vault_id.encode())


def env_slot(raw: bytes, vault_key: bytes, vault_id: str) -> Slot:
    return make_slot("env", env_kek(raw, vault_id), vault_key, vault_id)


def keyring_slot(kek: bytes, vault_key: bytes, vault_id: str) -> Slot:
    return make_slot("keyring", kek, vault_key, vault_id)


def has_slot(keyfile: KeyFile, kind: str) -> bool:
    return kind in keyfile.slots
