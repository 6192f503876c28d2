"""Damaged or foreign database files: refused with DatabaseDamaged, and never written.

Each case builds a real vault, damages ``vault.db`` the way a disk, a bad copy or a confused
user would, and checks that opening fails with a typed one-line error while every file in the
folder keeps its bytes and its modification time. The CLI must say the same in one line with
exit status 5, and a throttle after wrong passphrases must hold in a second process too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.core import throttle
from echo_vault_app.core.storage import DB_NAME
from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import DatabaseDamaged, VaultDamaged, WrongPassphrase
from echo_vault_app.secrets import SecretsManager

MASTER_KEY = Fernet.generate_key().decode()
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="module")
def template_vault(tmp_path_factory) -> Path:
    """A headless vault holding a few secrets, several pages long."""
    folder = tmp_path_factory.mktemp("template") / "vault"
    created = Vault.create(folder, master_key=MASTER_KEY, use_keyring=False)
    manager = SecretsManager(vault=created.vault)
    for number in range(60):
        manager.store_secret(f"svc/key{number}", f"value-{number}-" + "x" * 200)
    manager.lock()
    return folder


@pytest.fixture
def folder(template_vault, vault_dir) -> Path:
    shutil.copytree(template_vault, vault_dir)
    return vault_dir


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def open_headless(folder: Path) -> Vault:
    return Vault.open(folder, master_key=MASTER_KEY, use_keyring=False)


def assert_refused_untouched(folder: Path, error=DatabaseDamaged) -> str:
    before = snapshot(folder)

    with pytest.raises(error) as caught:
        open_headless(folder)

    assert snapshot(folder) == before
    assert sorted(p.name for p in folder.iterdir()) == sorted(before)  # no -wal, no -shm left
    message = str(caught.value)
    assert message and "\n" not in message
    return message


def test_intact_copy_opens(folder) -> None:
    vault = open_headless(folder)
    assert SecretsManager(vault=vault).get_secret("svc/key7").startswith("value-7-")
    vault.lock()


@pytest.mark.parametrize("keep", [0, 100, 1000, 4096, 8192, 12288])
def test_truncated_database_is_refused_and_kept(folder, keep) -> None:
    db = folder / DB_NAME
    assert db.stat().st_size > keep
    with db.open("r+b") as handle:
        handle.truncate(keep)

    message = assert_refused_untouched(folder)

    assert "vault.db" in message or "database" in message


@pytest.mark.parametrize("size", [512, 4096, 65536])
def test_random_bytes_database_is_refused_and_kept(folder, size) -> None:
    (folder / DB_NAME).write_bytes(os.urandom(size))

    assert_refused_untouched(folder)


def test_damaged_page_is_reported_and_never_overwritten(folder) -> None:
    # Page 4 holds secret rows, which the open path does not read: the vault opens (a full
    # integrity check on every open would cost too much on large vaults) and the first read of
    # that page fails with DatabaseDamaged. The damaged bytes must stay as they were.
    db = folder / DB_NAME
    data = bytearray(db.read_bytes())
    damaged = slice(4096 * 3, 4096 * 3 + 64)
    data[damaged] = os.urandom(64)
    db.write_bytes(bytes(data))

    try:
        vault = open_headless(folder)
    except VaultDamaged:
        pass
    else:
        manager = SecretsManager(vault=vault)
        with pytest.raises(VaultDamaged) as caught:
            for number in range(60):
                manager.get_secret(f"svc/key{number}")
        assert "\n" not in str(caught.value)
        vault.lock()
    assert db.read_bytes()[damaged] == bytes(data[damaged])


def test_plaintext_sqlite_file_is_refused_and_kept(folder) -> None:
    db = folder / DB_NAME
    db.unlink()
    plain = sqlite3.connect(db)
    plain.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB)")
    plain.execute("INSERT INTO meta VALUES ('vault_id', 'x')")
    plain.commit()
    plain.close()

    message = assert_refused_untouched(folder)

    assert "unencrypted" in message


def test_database_of_another_vault_is_refused_and_kept(folder, tmp_path) -> None:
    other = Vault.create(tmp_path / "other", master_key=MASTER_KEY, use_keyring=False)
    other.vault.lock()
    shutil.copy2(tmp_path / "other" / DB_NAME, folder / DB_NAME)

    message = assert_refused_untouched(folder)

    assert "does not decrypt" in message


def test_missing_database_is_refused(folder) -> None:
    (folder / DB_NAME).unlink()

    assert_refused_untouched(folder)


def test_create_never_overwrites_a_lone_database(folder) -> None:
    (folder / "vault.keys").unlink()
    before = snapshot(folder)

    with pytest.raises(Exception) as caught:
        Vault.create(folder, master_key=MASTER_KEY, use_keyring=False)

    assert "exists" in str(caught.value)
    assert snapshot(folder) == before


# -- the same through the CLI ------------------------------------------------------------------


def test_cli_reports_damage_in_one_line_exit_5(folder, cli) -> None:
    with (folder / DB_NAME).open("r+b") as handle:
        handle.truncate(2000)
    before = snapshot(folder)

    result = cli("list", env={"ECHO_VAULT_MASTER_KEY": MASTER_KEY})

    assert result.returncode == 5
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("echo-vault-cli: error: ")
    assert "Traceback" not in result.stderr
    assert snapshot(folder) == before


def test_cli_reports_damaged_keyfile_exit_5(folder, cli) -> None:
    (folder / "vault.keys").write_bytes(b"\x00garbage")

    result = cli("get", "svc/key1", env={"ECHO_VAULT_MASTER_KEY": MASTER_KEY})

    assert result.returncode == 5
    assert result.stderr.strip().splitlines() == [
        "echo-vault-cli: error: vault.keys is damaged: not valid JSON"
    ]
    assert result.stdout == ""


def test_cli_reports_missing_keyfile_exit_5(folder, cli) -> None:
    (folder / "vault.keys").unlink()

    result = cli("list", env={"ECHO_VAULT_MASTER_KEY": MASTER_KEY})

    assert result.returncode == 5
    assert len(result.stderr.strip().splitlines()) == 1
    assert "vault.keys is missing" in result.stderr


# -- throttling holds across processes ---------------------------------------------------------


def test_throttle_is_persisted_for_other_processes(make_vault, vault_dir, cli) -> None:
    make_vault(PASSPHRASE).vault.lock()
    for _ in range(throttle.FREE_ATTEMPTS):
        with pytest.raises(WrongPassphrase):
            Vault.open(vault_dir, passphrase="nope, wrong", use_keyring=False)

    library = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys
                from echo_vault_app.core.vault import Vault
                from echo_vault_app.errors import UnlockThrottled
                try:
                    Vault.open(sys.argv[1], passphrase=sys.stdin.read(), use_keyring=False)
                except UnlockThrottled as exc:
                    print("throttled", exc.retry_after > 0)
                """
            ),
            str(vault_dir),
        ],
        input=PASSPHRASE,
        capture_output=True,
        text=True,
        timeout=60,
    )
    result = cli("--passphrase-stdin", "list", input=PASSPHRASE + "\n")

    assert library.stdout.strip() == "throttled True", library.stderr
    assert result.returncode == 3
    assert len(result.stderr.strip().splitlines()) == 1
    assert "try again" in result.stderr
    assert "Traceback" not in result.stderr
