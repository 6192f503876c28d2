"""Recovering the vault key from one of the unlock slots, in the order DESIGN.md fixes.

Order: explicit headless key → ``ECHO_VAULT_MASTER_KEY`` → OS keyring → passphrase or recovery
key. Everything here works on ``vault.keys`` alone: a keyring entry that is missing, damaged or
belongs to another vault is detected before the database is touched.
"""

import logging
import os
from pathlib import Path
from typing import NamedTuple

from echo_vault_app.config import ENV_MASTER_KEY
from echo_vault_app.core import keyring_slot, slots, throttle
from echo_vault_app.core.crypto import SealError
from echo_vault_app.core.keyfile import KeyFile
from echo_vault_app.errors import (
    KeyringError,
    UnlockThrottled,
    VaultLocked,
    WrongMasterKey,
    WrongPassphrase,
    WrongRecoveryKey,
)

log = logging.getLogger(__name__)


class UnlockRequest(NamedTuple):
    passphrase: str | None = None
    recovery_key: str | None = None
    master_key: str | None = None
    use_keyring: bool = True
    use_env: bool = True
    keyring_backend: object | None = None


class UnlockResult(NamedTuple):
    vault_key: bytes
    method: str
    notices: list[str]
    reseal_keyring: bool = False
    keyring_backend: object | None = None


def recover_vault_key(folder: Path, keyfile: KeyFile, request: UnlockRequest) -> UnlockResult:
    notices: list[str] = []
    vault_id = keyfile.vault_id

    master = request.master_key
    if master is None and request.use_env:
        master = os.environ.get(ENV_MASTER_KEY) or None
    if master is not None:
        if "env" not in keyfile.slots:
            if request.master_key is not None:
                raise WrongMasterKey("this vault has no headless (master key) slot")
            notices.append(f"{ENV_MASTER_KEY} is set but this vault has no headless slot")
        else:
            raw = slots.parse_master_key(master)
            try:
                key = slots.open_slot(keyfile.slots["env"], slots.env_kek(raw, vault_id), vault_id)
            except SealError as exc:
                raise WrongMasterKey(f"{ENV_MASTER_KEY} does not open this vault") from exc
            return UnlockResult(key, "master-key", notices)

    reseal = False
    backend = None
    if request.use_keyring:
        try:
            backend = request.keyring_backend or keyring_slot.find_backend()
        except KeyringError as exc:
            if "keyring" in keyfile.slots:
                notices.append(f"keyring not used: {exc}")
        if backend is not None and "keyring" in keyfile.slots:
            try:
                kek = keyring_slot.load_kek(backend, vault_id)
                key = slots.open_slot(keyfile.slots["keyring"], kek, vault_id)
                return UnlockResult(key, "keyring", notices, keyring_backend=backend)
            except KeyringError as exc:
                notices.append(f"{exc}; unlock with the passphrase to re-seal it")
                reseal = True
            except SealError:
                notices.append(
                    "the keyring entry does not open this vault (damaged or from another vault);"
                    " unlock with the passphrase to re-seal it"
                )
                reseal = True

    if request.passphrase is not None:
        key = _try_passphrase(folder, keyfile, request.passphrase)
        return UnlockResult(key, "passphrase", notices, reseal, backend)
    if request.recovery_key is not None:
        key = _try_recovery(folder, keyfile, request.recovery_key)
        return UnlockResult(key, "recovery-key", notices, reseal, backend)

    for notice in notices:
        log.info("unlock notice for vault %s: %s", vault_id, notice)
    reason = "; ".join(notices) if notices else "no passphrase given"
    raise VaultLocked(f"the vault needs its passphrase ({reason})")


def _check_throttle(folder: Path) -> None:
    wait = throttle.load(folder).retry_after()
    if wait > 0:
        raise UnlockThrottled(
            f"too many wrong attempts: try again in {int(wait + 0.999)} s", retry_after=wait
        )


def _try_passphrase(folder: Path, keyfile: KeyFile, passphrase: str) -> bytes:
    slot = keyfile.slots.get("passphrase")
    if slot is None or slot.argon2 is None:
        raise WrongPassphrase("this vault has no passphrase; use the recovery key or keyring")
    _check_throttle(folder)
    kek = slots.passphrase_kek(passphrase, slot.salt, slot.argon2)
    try:
        return slots.open_slot(slot, kek, keyfile.vault_id)
    except SealError:
        throttle.record_failure(folder, "passphrase")
        log.warning("wrong passphrase for vault %s", keyfile.vault_id)
        raise WrongPassphrase("wrong passphrase") from None


def _try_recovery(folder: Path, keyfile: KeyFile, recovery_key: str) -> bytes:
    slot = keyfile.slots.get("recovery")
    if slot is None:
        raise WrongRecoveryKey("this vault has no recovery key slot")
    _check_throttle(folder)
    raw = slots.parse_recovery_key(recovery_key)
    try:
        return slots.open_slot(slot, slots.recovery_kek(raw, slot.salt), keyfile.vault_id)
    except SealError:
        throttle.record_failure(folder, "recovery-key")
        log.warning("wrong recovery key for vault %s", keyfile.vault_id)
        raise WrongRecoveryKey("wrong recovery key") from None
