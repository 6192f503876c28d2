"""What the vault files look like on disk and how the SQLCipher connection is configured."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.core import storage, throttle
from echo_vault_app.core.schema import SCHEMA_VERSION
from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import WrongPassphrase
from echo_vault_app.secrets import SecretsManager

MASTER_KEY = Fernet.generate_key().decode()


@pytest.fixture
def vault(vault_dir):
    created = Vault.create(vault_dir, master_key=MASTER_KEY, use_keyring=False)
    SecretsManager(vault=created.vault).store_secret("svc/key", "value")
    yield created.vault
    created.vault.lock()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_folder_is_0700_and_every_file_0600(vault, vault_dir, make_vault) -> None:
    files = [p for p in vault_dir.iterdir() if p.is_file()]

    assert mode(vault_dir) == 0o700
    assert {p.name for p in files} >= {"vault.db", "vault.keys", "vault.db-wal", "vault.db-shm"}
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_side_files_are_0600_too(vault_dir, make_vault) -> None:
    created = make_vault()
    created.vault.set_passphrase("another long passphrase")  # rewrites vault.keys under a lock
    created.vault.lock()
    with pytest.raises(WrongPassphrase):
        Vault.open(vault_dir, passphrase="wrong one", use_keyring=False)  # writes unlock.state

    files = {p.name: mode(p) for p in vault_dir.iterdir() if p.is_file()}

    assert throttle.STATE_NAME in files
    assert files == {name: 0o600 for name in files}


def test_an_existing_folder_with_loose_mode_is_tightened(tmp_path) -> None:
    folder = tmp_path / "loose"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)

    Vault.create(folder, master_key=MASTER_KEY, use_keyring=False).vault.lock()

    assert mode(folder) == 0o700


def test_connection_pragmas(vault) -> None:
    with vault.read() as conn:
        value = {
            name: conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in (
                "cipher_version",
                "journal_mode",
                "foreign_keys",
                "temp_store",
                "secure_delete",
                "user_version",
                "busy_timeout",
            )
        }

    assert value["cipher_version"]
    assert value["journal_mode"] == "wal"
    assert value["foreign_keys"] == 1
    assert value["temp_store"] == 2
    assert value["secure_delete"] == 1
    assert value["user_version"] == SCHEMA_VERSION
    assert value["busy_timeout"] >= 1000


def test_raw_file_is_not_plain_sqlite(vault, vault_dir) -> None:
    raw = (vault_dir / storage.DB_NAME).read_bytes()

    assert not raw.startswith(b"SQLite format 3")
    assert b"svc/key" not in raw
    assert b"CREATE TABLE" not in raw


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def test_wrong_data_key_never_writes_the_file(vault, vault_dir) -> None:
    vault.lock()
    before = snapshot(vault_dir)

    for _ in range(3):
        with pytest.raises(storage.WrongDataKey):
            storage.connect(vault_dir / storage.DB_NAME, os.urandom(32))

    assert snapshot(vault_dir) == before
    assert sorted(p.name for p in vault_dir.iterdir()) == sorted(before)


def test_malformed_raw_key_is_refused_before_any_pragma(vault_dir, vault) -> None:
    vault.lock()
    for bad in (b"short", b"x" * 33, "a" * 32):
        with pytest.raises(ValueError):
            storage.connect(vault_dir / storage.DB_NAME, bad)  # type: ignore[arg-type]


def test_sqlcipher_error_log_stays_quiet_on_a_wrong_key(vault, vault_dir) -> None:
    vault.lock()
    script = textwrap.dedent(
        """
        import os, sys
        from pathlib import Path
        from echo_vault_app.core import storage
        try:
            storage.connect(Path(sys.argv[1]), os.urandom(32))
        except storage.WrongDataKey:
            print("refused")
        """
    )

    result = subprocess.run(
        [sys.executable, "-c", script, str(vault_dir / storage.DB_NAME)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.strip() == "refused"
    assert result.stderr == ""


def test_create_refuses_to_overwrite_an_existing_database(vault, vault_dir) -> None:
    vault.lock()
    before = snapshot(vault_dir)

    with pytest.raises(Exception, match="refusing to overwrite"):
        storage.connect(vault_dir / storage.DB_NAME, os.urandom(32), create=True)

    assert snapshot(vault_dir) == before


def test_page_cache_limit_lowers_but_never_raises_the_cache(vault) -> None:
    def cache_kib() -> int:
        with vault.read() as conn:
            return -conn.execute("PRAGMA cache_size").fetchone()[0]

    opened = cache_kib()
    vault.limit_page_cache(opened // 1024 + 64)
    assert cache_kib() == opened
    vault.limit_page_cache(4)
    assert cache_kib() == 4 * 1024
    assert SecretsManager(vault=vault).get_secret("svc/key") == "value"


def test_an_older_vault_is_migrated_on_open_and_keeps_its_trail(vault, vault_dir) -> None:
    with vault.transaction() as tx:  # as schema 3 left it: an index on the value hashes
        tx.execute(
            "CREATE INDEX audit_value_hash ON audit_log (value_hash) WHERE value_hash IS NOT NULL"
        )
        tx.execute("PRAGMA user_version = 3")
    vault.lock()

    reopened = Vault.open(vault_dir, master_key=MASTER_KEY, use_keyring=False)
    try:
        with reopened.read() as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
            indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            assert "audit_value_hash" not in indexes
            assert reopened.audit.verify(conn).ok
        found = SecretsManager(vault=reopened).audit_find_value("value")
        assert [(e.action, e.target) for e in found] == [("write", "svc/key")]
    finally:
        reopened.lock()
