"""The audit trail: what is recorded, how tampering is found, and refusal when it cannot write."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import AuditError, WrongPassphrase
from echo_vault_app.secrets import SecretsManager

MASTER_KEY = Fernet.generate_key().decode()
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def manager(vault_dir):
    created = Vault.create(vault_dir, master_key=MASTER_KEY, use_keyring=False)
    manager = SecretsManager(vault=created.vault)
    yield manager
    manager.lock()


def actions(manager: SecretsManager) -> list[tuple[str, str | None, str]]:
    return [(e.action, e.target, e.outcome) for e in manager.audit_events()]


def test_every_kind_of_event_is_recorded(vault_dir, make_vault) -> None:
    make_vault(PASSPHRASE).vault.lock()
    with pytest.raises(WrongPassphrase):
        Vault.open(vault_dir, passphrase="wrong passphrase", use_keyring=False)
    manager = SecretsManager(vault=Vault.open(vault_dir, passphrase=PASSPHRASE, use_keyring=False))
    try:
        manager.store_secret("app/token", "v1")
        manager.store_secret("app/token", "v2")
        manager.get_secret("app/token")
        manager.reveal("app/token")
        manager.reveal("app/token", action="copy")
        manager.history("app/token")
        manager.restore_version("app/token", 1)
        manager.delete_secret("app/token")
        manager.restore_from_trash("app/token")
        manager.delete_secret("app/token")
        manager.empty_trash()
        manager.vault.set_passphrase("a brand new passphrase")

        seen = actions(manager)
    finally:
        manager.lock()

    kinds = {(action, outcome) for action, _, outcome in seen}
    for wanted in [
        ("create", "ok"),
        ("unlock", "failed"),
        ("unlock", "ok"),
        ("write", "ok"),
        ("read", "ok"),
        ("reveal", "ok"),
        ("copy", "ok"),
        ("history", "ok"),
        ("restore-version", "ok"),
        ("delete", "ok"),
        ("restore", "ok"),
        ("empty-trash", "ok"),
        ("passphrase-change", "ok"),
    ]:
        assert wanted in kinds, wanted
    assert [a for a, t, _ in seen if t == "app/token"][:3] == ["write", "write", "read"]


def test_events_never_hold_values(manager) -> None:
    manager.store_secret("db/pass", "value-4c7d1e0b")
    manager.get_secret("db/pass")

    with manager.vault.read() as conn:
        rows = conn.execute("SELECT * FROM audit_log").fetchall()

    assert "value-4c7d1e0b" not in repr(rows)
    hashes = [e.value_hash for e in manager.audit_find_value("value-4c7d1e0b")]
    assert len(hashes) == 2 and hashes[0] == hashes[1]
    assert [e.action for e in manager.audit_find_value("value-4c7d1e0b")] == ["write", "read"]
    assert manager.audit_find_value("value-4c7d1e0") == []


def test_intact_chain_verifies(manager) -> None:
    for number in range(5):
        manager.store_secret(f"k{number}", "v")

    result = manager.audit_verify()

    assert result.ok and result.checked == len(manager.audit_events())


def _tamper(manager: SecretsManager, *statements: tuple[str, tuple]) -> None:
    with manager.vault.transaction() as tx:
        for sql, args in statements:
            tx.execute(sql, args)


@pytest.fixture
def chained(manager) -> SecretsManager:
    for number in range(6):
        manager.store_secret(f"k{number}", f"v{number}")
    assert manager.audit_verify().ok
    return manager


def test_verify_names_an_edited_row(chained) -> None:
    _tamper(chained, ("UPDATE audit_log SET action = 'x' WHERE seq = 3", ()))

    result = chained.audit_verify()

    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "event 3" in result.message()


@pytest.mark.parametrize("column", ["ts", "actor", "target", "outcome", "detail", "value_hash"])
def test_verify_catches_an_edit_in_any_column(chained, column) -> None:
    value = 1.0 if column == "ts" else "{}" if column == "detail" else "forged"
    _tamper(chained, (f"UPDATE audit_log SET {column} = ? WHERE seq = 4", (value,)))

    assert chained.audit_verify().first_bad_seq == 4


def test_verify_names_a_deleted_row(chained) -> None:
    _tamper(chained, ("DELETE FROM audit_log WHERE seq = 3", ()))

    result = chained.audit_verify()

    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_verify_names_reordered_rows(chained) -> None:
    _tamper(
        chained,
        ("UPDATE audit_log SET seq = -1 WHERE seq = 3", ()),
        ("UPDATE audit_log SET seq = 3 WHERE seq = 4", ()),
        ("UPDATE audit_log SET seq = 4 WHERE seq = -1", ()),
    )

    result = chained.audit_verify()

    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_verify_names_an_inserted_row(chained) -> None:
    with chained.vault.read() as conn:
        last = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    shifts = [
        (f"UPDATE audit_log SET seq = {seq + 1} WHERE seq = {seq}", ())
        for seq in range(last, 2, -1)
    ]
    forged = (
        "INSERT INTO audit_log (seq, ts, actor, action, target, outcome, detail, mac)"
        " VALUES (3, 1.0, 'lib:x', 'read', 'k0', 'ok', '{}', zeroblob(32))",
        (),
    )
    _tamper(chained, *shifts, forged)

    result = chained.audit_verify()

    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_verify_names_a_row_appended_past_the_anchor(chained) -> None:
    with chained.vault.read() as conn:
        last, mac = conn.execute("SELECT seq, mac FROM audit_log ORDER BY seq DESC").fetchone()
    _tamper(
        chained,
        (
            "INSERT INTO audit_log (seq, ts, actor, action, target, outcome, detail, mac)"
            " VALUES (?, 1.0, 'lib:x', 'read', 'k0', 'ok', '{}', ?)",
            (last + 1, mac),
        ),
    )

    assert chained.audit_verify().first_bad_seq == last + 1


def test_verify_names_truncation_that_leaves_the_anchor(chained) -> None:
    with chained.vault.read() as conn:
        last = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    _tamper(chained, ("DELETE FROM audit_log WHERE seq = ?", (last,)))

    result = chained.audit_verify()

    assert (result.ok, result.first_bad_seq) == (False, last)


def test_verify_notices_a_deleted_anchor(chained) -> None:
    _tamper(chained, ("DELETE FROM audit_anchor", ()))

    assert not chained.audit_verify().ok


def test_verify_survives_reopen_and_new_events(chained, vault_dir) -> None:
    _tamper(chained, ("UPDATE audit_log SET target = 'zz' WHERE seq = 2", ()))
    chained.lock()

    again = SecretsManager(vault=Vault.open(vault_dir, master_key=MASTER_KEY, use_keyring=False))
    again.store_secret("later", "value")
    result = again.audit_verify()
    again.lock()

    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_disabled_audit_records_nothing(vault_dir, monkeypatch) -> None:
    monkeypatch.setenv("ECHO_VAULT_ENABLE_AUDIT", "false")
    created = Vault.create(vault_dir, master_key=MASTER_KEY, use_keyring=False)
    created.vault.lock()
    manager = SecretsManager(vault=Vault.open(vault_dir, master_key=MASTER_KEY, use_keyring=False))
    manager.store_secret("a", "1")
    manager.get_secret("a")
    manager.delete_secret("a")

    with manager.vault.read() as conn:
        count = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    manager.lock()

    assert count == 0


def _block_audit(manager: SecretsManager) -> None:
    with manager.vault.transaction() as tx:
        tx.execute(
            "CREATE TRIGGER block_audit BEFORE INSERT ON audit_log"
            " BEGIN SELECT RAISE(ABORT, 'no'); END"
        )


def test_write_fails_when_the_trail_cannot_be_written(manager) -> None:
    manager.store_secret("kept", "old value")
    _block_audit(manager)

    with pytest.raises(AuditError) as caught:
        manager.store_secret("new/secret", "never stored")
    with pytest.raises(AuditError):
        manager.store_secret("kept", "overwrite attempt")
    with pytest.raises(AuditError):
        manager.delete_secret("kept")

    assert "\n" not in str(caught.value)
    assert manager.list_secrets() == ["kept"]
    assert manager.store.summary("kept").version == 1
    with manager.vault.read() as conn:
        fields = conn.execute("SELECT count(*) FROM secret_fields").fetchone()[0]
    assert fields == 1


def test_read_returns_nothing_when_the_trail_cannot_be_written(manager) -> None:
    manager.store_secret("kept", "old value")
    _block_audit(manager)
    got: list[object] = []

    with pytest.raises(AuditError):
        got.append(manager.get_secret("kept"))
    with pytest.raises(AuditError):
        got.append(manager.reveal("kept"))
    with pytest.raises(AuditError):
        got.append(manager.get("kept"))

    assert got == []


def test_cli_refuses_to_run_unaudited(manager, vault_dir, cli) -> None:
    manager.store_secret("kept", "old value")
    _block_audit(manager)
    manager.lock()

    result = cli("get", "kept", env={"ECHO_VAULT_MASTER_KEY": MASTER_KEY})

    assert result.returncode == 8
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "audit trail could not be written" in result.stderr
