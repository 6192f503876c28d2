"""Backups stream: an export reads a snapshot while the vault stays in use, an import writes
as it reads and keeps nothing when the file turns out to be bad.

Real vaults and real backup files throughout; the moments in between are reached through the
progress callbacks the dialogs use.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from echo_vault_app.core.rotation import rotate_data_key
from echo_vault_app.errors import BackupCorrupted, VaultLocked
from echo_vault_app.secrets import SecretsManager, backup, backup_format
from echo_vault_app.secrets.model import FieldValue
from echo_vault_app.secrets.store import SecretStore
from tests.integration.backup_support import PASSWORD, audit_events, fill, live, new_vault, snapshot


@pytest.fixture
def vault(tmp_path: Path):
    vault = new_vault(tmp_path / "vault")
    yield vault
    vault.lock()


def _count(conn) -> int:
    return conn.execute("SELECT count(*) FROM secrets WHERE deleted IS NULL").fetchone()[0]


def test_a_snapshot_does_not_see_later_writes_and_does_not_block_them(vault) -> None:
    store = SecretStore(vault)
    fill(vault, 5)

    with vault.snapshot() as conn:
        store.put("later/one", [FieldValue("api_key", "sk_later")], template="api_key")
        assert store.get("later/one", action="read").fields[0].value == "sk_later"
        assert _count(conn) == 5

    with vault.read() as conn:
        assert _count(conn) == 6


def test_a_rotation_waits_for_a_snapshot_which_keeps_opening_values(vault) -> None:
    fill(vault, 5)
    store = SecretStore(vault)
    old_version = vault.data_key_version
    rotation = threading.Thread(target=rotate_data_key, args=(vault,))

    with vault.snapshot() as conn:
        sid, version = conn.execute("SELECT id, version FROM secrets LIMIT 1").fetchone()
        rotation.start()
        rotation.join(1.0)
        assert rotation.is_alive(), "the rotation went ahead while a snapshot was open"
        assert store.read_fields(conn, sid, version)[0].value.startswith("sk_test_")

    rotation.join(30)
    assert not rotation.is_alive()
    assert vault.data_key_version == old_version + 1


def test_export_reads_a_snapshot_while_other_threads_read_and_write(vault, tmp_path) -> None:
    fill(vault, 300)
    before = live(snapshot(vault))
    store = SecretStore(vault)
    done: list[str] = []

    def meanwhile() -> None:
        store.put("during/export", [FieldValue("api_key", "sk_during")], template="api_key")
        done.append(store.get("svc/00001", action="read").name)

    def progress(stage: str, items: int, total: int) -> None:
        if stage == "writing" and items == 150:
            other = threading.Thread(target=meanwhile)
            other.start()
            other.join(10)
            assert done == ["svc/00001"], "a read or write waited for the export"

    path = tmp_path / "all.evb"
    assert backup.export_backup(vault, path, PASSWORD, progress=progress) == 300

    assert done
    names = [s["name"] for s in backup_format.read_backup(path, PASSWORD)["secrets"]]
    assert "during/export" not in names and len(names) == 300
    other = new_vault(tmp_path / "other")
    SecretsManager(vault=other).import_secrets(path, PASSWORD)
    assert live(snapshot(other)) == before
    other.lock()


def test_an_import_that_meets_a_bad_last_chunk_after_writing_keeps_nothing(vault, tmp_path) -> None:
    source = new_vault(tmp_path / "source")
    fill(source, 600, versions=1)
    path = tmp_path / "bad-end.evb"
    payload = backup.build_payload(source)
    source.lock()
    # Small chunks, so that the import writes secrets before it reaches the last one.
    chunk = 4096
    backup_format._write(
        path, PASSWORD.encode(), payload, False, backup_format.KdfParams(), None, chunk
    )
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    path.write_bytes(bytes(data))
    events_before = len(audit_events(vault))
    written: list[int] = []

    def progress(stage: str, done: int, total: int) -> None:
        with vault.read() as conn:  # inside the import's transaction: its writes so far
            written.append(_count(conn))

    with pytest.raises(BackupCorrupted, match="failed authentication"):
        backup.import_backup(vault, path, PASSWORD, progress=progress)

    assert max(written) >= 500, "the import had written secrets before it met the fault"
    with vault.read() as conn:
        assert _count(conn) == 0
    events = audit_events(vault)
    assert len(events) == events_before + 1
    assert (events[-1].action, events[-1].outcome) == ("import", "failed")


def test_locking_during_an_export_stops_it_and_leaves_no_file(vault, tmp_path) -> None:
    fill(vault, 300, versions=1)

    def progress(stage: str, items: int, total: int) -> None:
        if items == 100:
            vault.lock()

    path = tmp_path / "cut.evb"
    with pytest.raises(VaultLocked):
        backup.export_backup(vault, path, PASSWORD, progress=progress)
    assert not path.exists() and not list(tmp_path.glob(".cut.evb*"))
