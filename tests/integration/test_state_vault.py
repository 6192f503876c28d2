"""StateManager over a real SQLCipher vault: persistence, audit trail, and routed settings."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import ValidationError, VersionConflict
from echo_vault_app.secrets.store import SecretStore
from echo_vault_app.state import StateManager


@pytest.fixture
def headless(vault_dir, monkeypatch):
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", Fernet.generate_key().decode())
    Vault.create(vault_dir, use_keyring=False).vault.lock()
    opened = []

    def open_vault() -> Vault:
        vault = Vault.open(vault_dir, use_keyring=False)
        opened.append(vault)
        return vault

    yield open_vault
    for vault in opened:
        if not vault.is_locked:
            vault.lock()


def test_everything_survives_reopening(headless):
    vault = headless()
    state = StateManager(vault=vault)
    assert state.persistent
    state.sessions.set("desktop", "open_tab", {"pane": "secrets", "row": 4})
    state.register_agent("agent-1", "sync", {"host": "ci"})
    state.update_state("agent-1", {"cursor": 17}, 0)
    state.set_status("agent-1", "running")
    state.config.set("auto_lock_minutes", 30)
    state.config.set("theme", "dark")
    vault.lock()

    again = StateManager(vault=headless())
    assert again.sessions.get("desktop", "open_tab") == {"pane": "secrets", "row": 4}
    agent = again.get_agent("agent-1")
    assert (agent.state, agent.version, agent.status, agent.meta) == (
        {"cursor": 17},
        1,
        "running",
        {"host": "ci"},
    )
    assert again.config.get("auto_lock_minutes") == 30
    assert again.config.get("theme") == "dark"
    with pytest.raises(VersionConflict):
        again.update_state("agent-1", {"cursor": 0}, 0)


def test_changes_land_in_the_vault_audit_trail_without_values(headless):
    vault = headless()
    state = StateManager(vault=vault)
    state.sessions.set("s", "note", "marker-value-7f3a")
    state.sessions.delete("s", "note")
    state.register_agent("a", "worker")
    state.update_state("a", {"doc": "marker-doc-9c1e"}, 0)
    state.config.set("clipboard_clear_seconds", 20)

    with vault.read() as conn:
        events = vault.audit.events(conn)
        assert vault.audit.verify(conn).ok
    mine = [(e.action, e.target, e.detail) for e in events if e.action not in ("create", "unlock")]
    assert mine == [
        ("state-set", "s", {"key": "note"}),
        ("state-delete", "s", {"key": "note"}),
        ("agent-register", "a", {"kind": "worker"}),
        ("agent-state", "a", {"version": 1}),
        ("config-set", "clipboard_clear_seconds", {"value": 20}),
    ]
    assert "marker" not in repr(events)


def test_history_depth_is_the_secret_stores_setting(headless):
    vault = headless()
    state = StateManager(vault=vault)
    secrets = SecretStore(vault)
    assert state.config.get("history_depth") == secrets.history_depth() == 10

    state.config.set("history_depth", "3")
    assert secrets.history_depth() == 3
    secrets.set_history_depth(42)
    assert state.config.get("history_depth") == 42
    assert state.config.all()["history_depth"] == 42
    with pytest.raises(ValidationError):
        state.config.set("history_depth", 1001)
    assert secrets.history_depth() == 42
    assert state.config.reset("history_depth") == 10
    assert secrets.history_depth() == 10

    with vault.read() as conn:
        rows = conn.execute("SELECT count(*) FROM state_settings").fetchone()[0]
    assert rows == 0, "history_depth must not be duplicated in the state tables"


def test_values_are_not_in_the_file_in_plain_text(headless, vault_dir):
    vault = headless()
    StateManager(vault=vault).sessions.set("s", "k", "plain-marker-5d8e2b")
    with vault.read() as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    vault.lock()
    for path in vault_dir.iterdir():
        if path.is_file():
            assert b"plain-marker-5d8e2b" not in path.read_bytes()


def test_two_managers_on_one_vault_see_each_other(headless):
    first = StateManager(vault=headless())
    second = StateManager(vault=headless())
    first.register_agent("a", "w")
    version = second.update_state("a", {"n": 1}, 0)
    with pytest.raises(VersionConflict):
        first.update_state("a", {"n": "stale"}, 0)
    assert first.update_state("a", {"n": 2}, version) == 2
    assert second.get_agent("a").state == {"n": 2}
