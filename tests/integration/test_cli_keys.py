"""CLI key management: rotate, passphrase change, recovery-key re-issue, re-sealing."""

from __future__ import annotations

import hashlib

from echo_vault_app.core.keyfile import KeyFile
from tests.conftest import PASSPHRASE, run_cli

NEW_PASSPHRASE = "a completely different passphrase 42"


def _init(vault_dir) -> str:
    result = run_cli("--passphrase-stdin", "init", "--kdf-seconds", "0", input=PASSPHRASE + "\n")
    assert result.returncode == 0, result.stderr
    recovery = result.stdout.strip().splitlines()[-1]
    stored = run_cli(
        "--passphrase-stdin", "set", "svc/token", input=f"{PASSPHRASE}\ntoken-value-123\n"
    )
    assert stored.returncode == 0, stored.stderr
    return recovery


def _get(passphrase: str) -> str:
    result = run_cli("--passphrase-stdin", "get", "svc/token", input=passphrase + "\n")
    return result.stdout if result.returncode == 0 else f"exit {result.returncode}"


def test_rotate_keeps_every_unlock_working_and_changes_the_database_key(vault_dir):
    recovery = _init(vault_dir)
    db_before = hashlib.sha256((vault_dir / "vault.db").read_bytes()).hexdigest()
    version = KeyFile.load(vault_dir).data_key.version

    rotated = run_cli("--passphrase-stdin", "rotate", input=PASSPHRASE + "\n")
    assert rotated.returncode == 0, rotated.stderr
    assert f"version {version + 1}" in rotated.stderr
    assert KeyFile.load(vault_dir).data_key.version == version + 1
    assert hashlib.sha256((vault_dir / "vault.db").read_bytes()).hexdigest() != db_before

    assert _get(PASSPHRASE) == "token-value-123"
    from echo_vault_app.core.vault import Vault

    vault = Vault.open(vault_dir, recovery_key=recovery, use_keyring=False)
    vault.lock()


def test_passphrase_change_stops_the_old_one_at_once(vault_dir):
    _init(vault_dir)
    changed = run_cli(
        "--passphrase-stdin",
        "passphrase",
        "change",
        "--kdf-seconds",
        "0",
        input=f"{PASSPHRASE}\n{NEW_PASSPHRASE}\n",
    )
    assert changed.returncode == 0, changed.stderr
    assert _get(PASSPHRASE) == "exit 3"
    assert _get(NEW_PASSPHRASE) == "token-value-123"


def test_recovery_key_reissue_and_reseal(vault_dir):
    from echo_vault_app.core.vault import Vault
    from echo_vault_app.errors import WrongPassphrase, WrongRecoveryKey

    old_recovery = _init(vault_dir)

    reissued = run_cli("--passphrase-stdin", "recovery-key", input=PASSPHRASE + "\n")
    assert reissued.returncode == 0, reissued.stderr
    new_recovery = reissued.stdout.strip()
    assert new_recovery.startswith("EVRK-") and new_recovery != old_recovery
    try:
        Vault.open(vault_dir, recovery_key=old_recovery, use_keyring=False)
        raise AssertionError("the old recovery key still opens the vault")
    except WrongRecoveryKey:
        pass

    resealed = run_cli(
        "--passphrase-stdin",
        "reseal",
        "--kdf-seconds",
        "0",
        input=f"{PASSPHRASE}\n{NEW_PASSPHRASE}\n",
    )
    assert resealed.returncode == 0, resealed.stderr
    third_recovery = resealed.stdout.strip()
    for stale in (new_recovery,):
        try:
            Vault.open(vault_dir, recovery_key=stale, use_keyring=False)
            raise AssertionError("a recovery key from before re-sealing still works")
        except WrongRecoveryKey:
            pass
    try:
        Vault.open(vault_dir, passphrase=PASSPHRASE, use_keyring=False)
        raise AssertionError("the passphrase from before re-sealing still works")
    except WrongPassphrase:
        pass
    vault = Vault.open(vault_dir, recovery_key=third_recovery, use_keyring=False)
    vault.lock()
    assert _get(NEW_PASSPHRASE) == "token-value-123"
    # Re-sealing rewrites vault.keys only: the database keeps its data key.
    assert KeyFile.load(vault_dir).data_key.version == 1


def test_recovery_key_unlocks_from_stdin(vault_dir):
    recovery = _init(vault_dir)
    result = run_cli("--recovery-key-stdin", "get", "svc/token", input=recovery + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "token-value-123"

    wrong = run_cli("--recovery-key-stdin", "get", "svc/token", input="EVRK-AAAA\n")
    assert wrong.returncode == 3
    assert len(wrong.stderr.strip().splitlines()) == 1
