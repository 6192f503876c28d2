"""Operations grouped under one commit: each keeps the meaning it has alone, on a real vault."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.core.grouped import run_grouped
from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import SecretNotFound, StorageError
from echo_vault_app.secrets import SecretsManager
from tests.conftest import held_in_another_thread, holding_write_lock

MASTER_KEY = Fernet.generate_key().decode()


@pytest.fixture
def manager(vault_dir):
    created = Vault.create(vault_dir, master_key=MASTER_KEY, use_keyring=False)
    manager = SecretsManager(vault=created.vault)
    manager.store_secret("team/one", "value-one")
    manager.store_secret("team/two", "value-two")
    yield manager
    manager.lock()


def audit_rows(manager: SecretsManager) -> list[tuple[str, str | None]]:
    with manager.vault.read() as conn:
        return conn.execute("SELECT action, target FROM audit_log ORDER BY seq").fetchall()


def read(manager: SecretsManager, name: str):
    return lambda: manager.store.get(name).fields[0].value


def test_operations_answer_in_order_and_every_read_is_recorded(manager) -> None:
    before = len(audit_rows(manager))
    operations = [
        read(manager, "team/one"),
        lambda: manager.store_secret("team/three", "value-three").version,
        read(manager, "team/three"),  # sees the write made earlier in the same group
        read(manager, "team/two"),
    ]

    outcomes = run_grouped(manager.vault, operations)

    assert [o.value for o in outcomes] == ["value-one", 1, "value-three", "value-two"]
    assert all(o.error is None for o in outcomes)
    rows = audit_rows(manager)[before:]
    assert [target for action, target in rows if action == "read"] == [
        "team/one",
        "team/three",
        "team/two",
    ]
    assert manager.vault.audit.verify(manager.vault._conn).ok


def test_a_failing_operation_keeps_what_it_completed_and_spoils_nothing_else(manager) -> None:
    before = len(audit_rows(manager))

    def refused_after_recording() -> None:
        with manager.vault.transaction() as tx:  # like a 403: the refusal itself is recorded
            manager.vault.audit.record(tx, "api.denied", "team/one", "denied")
        raise PermissionError("refused")

    def half_written() -> None:
        with manager.vault.transaction() as tx:
            manager.vault.audit.record(tx, "half", "team/two")
            raise RuntimeError("fails inside its own transaction")

    outcomes = run_grouped(
        manager.vault,
        [
            refused_after_recording,
            read(manager, "team/missing"),
            half_written,
            read(manager, "team/two"),
        ],
    )

    assert isinstance(outcomes[0].error, PermissionError)
    assert isinstance(outcomes[1].error, SecretNotFound)
    assert isinstance(outcomes[2].error, RuntimeError)
    assert outcomes[3] == ("value-two", None)
    assert audit_rows(manager)[before:] == [("api.denied", "team/one"), ("read", "team/two")]


def test_a_failed_commit_fails_every_operation_and_keeps_nothing(manager) -> None:
    before = audit_rows(manager)

    def breaks_the_commit() -> str:
        with manager.vault.transaction() as tx:
            tx.execute("PRAGMA defer_foreign_keys = ON")  # checked only at COMMIT
            tx.execute("INSERT INTO secret_tags (tag, secret_id) VALUES ('orphan', 999999)")
        return "reported as done"

    outcomes = run_grouped(
        manager.vault,
        [
            read(manager, "team/one"),
            lambda: manager.store_secret("team/new", "v"),
            breaks_the_commit,
        ],
    )

    assert all(o.value is None and isinstance(o.error, StorageError) for o in outcomes)
    assert audit_rows(manager) == before  # the read went unanswered, so it is not recorded
    assert "team/new" not in manager.list_secrets()
    assert manager.store.get("team/one").fields[0].value == "value-one"  # the vault goes on


def test_a_full_disk_fails_exactly_the_operations_it_rolled_back(manager) -> None:
    with manager.vault.read() as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    operations = [
        lambda: manager.store_secret("team/small", "s").name,
        lambda: manager.store_secret("team/huge", "x" * 300_000).name,
        lambda: manager.store_secret("team/after", "a").name,
        read(manager, "team/one"),
    ]

    outcomes = run_grouped(manager.vault, operations)
    with manager.vault.read() as conn:
        conn.execute("PRAGMA max_page_count = 1073741823")

    assert "disk is full" in str(outcomes[1].error)
    kept = set(manager.list_secrets())
    for name, outcome in zip(["team/small", "team/huge", "team/after"], outcomes, strict=False):
        assert (outcome.error is None) == (name in kept), name  # reported done <=> stored
    assert outcomes[2:] == [("team/after", None), ("value-one", None)]
    assert manager.vault.audit.verify(manager.vault._conn).ok


def test_nothing_runs_without_waiting_while_another_process_writes(manager, vault_dir) -> None:
    ran = []
    with holding_write_lock(vault_dir):
        assert run_grouped(manager.vault, [lambda: ran.append(1)], wait=False) is None
    assert ran == []
    outcomes = run_grouped(manager.vault, [read(manager, "team/one")], wait=False)
    assert outcomes == [("value-one", None)]


def test_nothing_runs_without_waiting_while_another_thread_uses_the_vault(manager) -> None:
    with held_in_another_thread(manager.vault.read):
        assert run_grouped(manager.vault, [read(manager, "team/one")], wait=False) is None


def test_a_transaction_inside_another_is_a_savepoint(manager) -> None:
    vault = manager.vault
    with vault.transaction() as tx:
        vault.audit.record(tx, "outer", None)
        with pytest.raises(RuntimeError), vault.transaction() as inner:
            vault.audit.record(inner, "inner-undone", None)
            raise RuntimeError
        with vault.transaction() as inner:
            vault.audit.record(inner, "inner-kept", None)
    actions = [action for action, _ in audit_rows(manager)[-2:]]
    assert actions == ["outer", "inner-kept"]
    assert vault.audit.verify(vault._conn).ok
