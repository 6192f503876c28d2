"""The keyring slot against a real Secret Service (gnome-keyring in a private D-Bus session).

These tests cannot be skipped in CI (ECHO_VAULT_REQUIRE_REAL_KEYRING=1): they seal the vault key
in the keyring, reopen the vault through it in a new process, and take the keyring entry away
or damage it to check that the vault falls back to the passphrase, says so, and re-seals.
"""

from __future__ import annotations

import base64
import hashlib
import os

import pytest

from echo_vault_app.core import keyring_slot
from echo_vault_app.core.keyfile import KeyFile
from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import VaultLocked
from tests.conftest import PASSPHRASE, run_cli

pytestmark = pytest.mark.keyring


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def keyring_vault(secret_service, vault_dir):
    created = Vault.create(vault_dir, passphrase=PASSPHRASE, kdf_seconds=0)
    vault = created.vault
    assert "keyring" in vault.keyfile.slots
    from echo_vault_app.secrets import SecretsManager

    SecretsManager(vault=vault).store_secret("stripe/api_key", "sk_live_keyring_test_value")
    vault.lock()
    return vault_dir


def test_new_process_unlocks_through_keyring_without_typing(keyring_vault):
    result = run_cli("get", "stripe/api_key")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sk_live_keyring_test_value"

    vault = Vault.open(keyring_vault)
    try:
        assert vault.unlock_method == "keyring"
        with vault.read() as conn:
            methods = [e.detail.get("method") for e in vault.audit.events(conn, action="unlock")]
        assert "keyring" in methods
    finally:
        vault.lock()


def test_keyring_entry_is_the_only_thing_stored_and_is_not_the_vault_key(
    keyring_vault, secret_service
):
    vault_id = KeyFile.load(keyring_vault).vault_id
    stored = secret_service.backend().get_password(keyring_slot.SERVICE, vault_id)
    assert stored is not None and len(base64.b64decode(stored)) == 32
    # The entry is a key-encryption key: on its own it does not key the database.
    raw = base64.b64decode(stored)
    assert raw.hex() not in (keyring_vault / "vault.keys").read_text()


def test_deleted_keyring_entry_falls_back_to_passphrase_and_reseals(keyring_vault, secret_service):
    vault_id = KeyFile.load(keyring_vault).vault_id
    secret_service.backend().delete_password(keyring_slot.SERVICE, vault_id)
    db_before = _digest(keyring_vault / "vault.db")

    locked = run_cli("get", "stripe/api_key")
    assert locked.returncode == 4
    assert "missing" in locked.stderr and "passphrase" in locked.stderr
    assert len(locked.stderr.strip().splitlines()) == 1
    assert _digest(keyring_vault / "vault.db") == db_before

    unlocked = run_cli("--passphrase-stdin", "get", "stripe/api_key", input=PASSPHRASE + "\n")
    assert unlocked.returncode == 0, unlocked.stderr
    assert unlocked.stdout.strip() == "sk_live_keyring_test_value"
    assert "re-sealed" in unlocked.stderr

    again = run_cli("get", "stripe/api_key")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "sk_live_keyring_test_value"


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param("not base64 at all!", id="damaged"),
        pytest.param(base64.b64encode(os.urandom(32)).decode(), id="other-vault"),
        pytest.param(base64.b64encode(os.urandom(16)).decode(), id="wrong-length"),
    ],
)
def test_bad_keyring_entry_is_detected_before_the_database(keyring_vault, secret_service, entry):
    vault_id = KeyFile.load(keyring_vault).vault_id
    secret_service.backend().set_password(keyring_slot.SERVICE, vault_id, entry)
    db_before = _digest(keyring_vault / "vault.db")

    with pytest.raises(VaultLocked) as caught:
        Vault.open(keyring_vault)
    assert "passphrase" in str(caught.value)
    assert _digest(keyring_vault / "vault.db") == db_before

    vault = Vault.open(keyring_vault, passphrase=PASSPHRASE)
    assert any("re-sealed" in n for n in vault.notices)
    vault.lock()
    assert Vault.open(keyring_vault).unlock_method == "keyring"


def test_entry_of_another_vault_does_not_open_this_one(secret_service, tmp_path):
    first = Vault.create(tmp_path / "a", passphrase=PASSPHRASE, kdf_seconds=0).vault
    second = Vault.create(tmp_path / "b", passphrase=PASSPHRASE, kdf_seconds=0).vault
    backend = secret_service.backend()
    other_entry = backend.get_password(keyring_slot.SERVICE, second.vault_id)
    backend.set_password(keyring_slot.SERVICE, first.vault_id, other_entry)
    first.lock()
    second.lock()

    with pytest.raises(VaultLocked, match="another vault"):
        Vault.open(tmp_path / "a")


def test_plaintext_keyring_backend_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("ECHO_VAULT_NO_KEYRING", raising=False)
    env = {
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "HOME": str(tmp_path / "home"),
    }
    result = run_cli(
        "--passphrase-stdin", "init", "--kdf-seconds", "0", input=PASSPHRASE + "\n", env=env
    )
    assert result.returncode == 0, result.stderr
    assert "refusing keyring backend" in result.stderr
    assert "PlaintextKeyring" in result.stderr
    keyfile = KeyFile.load(tmp_path / "vault")
    assert "keyring" not in keyfile.slots
    assert not list((tmp_path / "xdg").rglob("*keyring*.cfg"))


def test_no_keyring_and_no_passphrase_refuses_to_create(tmp_path, monkeypatch):
    monkeypatch.delenv("ECHO_VAULT_NO_KEYRING", raising=False)
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = run_cli("init", env=env)
    assert result.returncode == 2
    assert "passphrase" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "vault" / "vault.keys").exists()


def test_keyring_forget_then_seal(keyring_vault, secret_service):
    vault_id = KeyFile.load(keyring_vault).vault_id
    forgot = run_cli("--passphrase-stdin", "keyring", "forget", input=PASSPHRASE + "\n")
    assert forgot.returncode == 0, forgot.stderr
    assert "keyring" not in KeyFile.load(keyring_vault).slots
    assert secret_service.backend().get_password(keyring_slot.SERVICE, vault_id) is None

    sealed = run_cli("--passphrase-stdin", "keyring", "seal", input=PASSPHRASE + "\n")
    assert sealed.returncode == 0, sealed.stderr
    assert run_cli("get", "stripe/api_key").stdout.strip() == "sk_live_keyring_test_value"


def test_locked_keyring_falls_back_to_passphrase(tmp_path, monkeypatch):
    """A locked collection (screen locked, session just started) must not block the vault.

    It runs its own Secret Service, because a locked collection cannot be unlocked again
    without a prompt and the shared one must stay usable for the other tests.
    """
    import secretstorage

    from tests.conftest import _start_secret_service

    service, pids = _start_secret_service(tmp_path / "own-service")
    try:
        for key, value in service.env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("ECHO_VAULT_NO_KEYRING", raising=False)
        vault = Vault.create(tmp_path / "vault", passphrase=PASSPHRASE, kdf_seconds=0).vault
        assert "keyring" in vault.keyfile.slots
        vault.lock()

        connection = secretstorage.dbus_init()
        secretstorage.get_default_collection(connection).lock()

        with pytest.raises(VaultLocked, match="locked"):
            Vault.open(tmp_path / "vault")
        reopened = Vault.open(tmp_path / "vault", passphrase=PASSPHRASE)
        assert reopened.unlock_method == "passphrase"
        assert any("not re-sealed" in n for n in reopened.notices)
        reopened.lock()
    finally:
        for pid in pids:
            os.kill(pid, 15)
