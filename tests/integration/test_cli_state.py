"""``echo-vault-cli state ...`` and ``config ...`` as real processes on a headless vault."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.core.vault import Vault
from echo_vault_app.secrets.store import SecretStore
from echo_vault_app.state import StateManager


@pytest.fixture
def headless(vault_dir, monkeypatch):
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", Fernet.generate_key().decode())
    Vault.create(vault_dir, use_keyring=False).vault.lock()
    return vault_dir


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result


def _open(vault_dir) -> Vault:
    return Vault.open(vault_dir, use_keyring=False)


def test_session_state_set_get_list_delete(cli, headless):
    _ok(cli("state", "set", "desk", "layout", input='{"split": [1, 2], "dark": true}\n'))
    _ok(cli("state", "set", "desk", "title", "--text", input="hello there\n"))
    got = json.loads(_ok(cli("state", "get", "desk", "layout", "--json")).stdout)
    assert got == {"session_id": "desk", "key": "layout", "value": {"split": [1, 2], "dark": True}}
    assert _ok(cli("state", "get", "desk", "title")).stdout == "hello there\n"

    listed = json.loads(_ok(cli("state", "list", "desk", "--json")).stdout)
    assert listed["values"] == {"layout": {"split": [1, 2], "dark": True}, "title": "hello there"}
    assert json.loads(_ok(cli("state", "list", "--json")).stdout) == {"sessions": {"desk": 2}}

    _ok(cli("state", "delete", "desk", "title"))
    missing = cli("state", "get", "desk", "title")
    assert missing.returncode == 6 and missing.stderr.count("\n") == 1
    _ok(cli("state", "delete", "desk"))
    assert json.loads(_ok(cli("state", "list", "--json")).stdout) == {"sessions": {}}


def test_bad_state_input_is_one_line_and_writes_nothing(cli, headless):
    for result in (
        cli("state", "set", "s", "k", input="{not json"),
        cli("state", "set", "s", "k", input="NaN"),
        cli("state", "set", "", "k", input="1"),
        cli("state", "set", "s", "k", input=b"\xff\xfe"),
    ):
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert json.loads(_ok(cli("state", "list", "--json")).stdout) == {"sessions": {}}


def test_agents_listing_staleness_and_removal(cli, headless, vault_dir):
    vault = _open(vault_dir)
    try:
        state = StateManager(vault=vault)
        state.register_agent("sync-1", "sync", {"host": "a"})
        state.register_agent("backup-1", "backup")
        state.update_state("sync-1", {"cursor": 9}, 0)
        with vault.transaction() as tx:
            tx.execute("UPDATE state_agents SET last_heartbeat = 0 WHERE agent_id = 'backup-1'")
    finally:
        vault.lock()

    agents = json.loads(_ok(cli("state", "agents", "--json")).stdout)["agents"]
    assert [(a["agent_id"], a["kind"], a["version"]) for a in agents] == [
        ("backup-1", "backup", 0),
        ("sync-1", "sync", 1),
    ]
    stale = json.loads(_ok(cli("state", "agents", "--stale", "3600", "--json")).stdout)["agents"]
    assert [a["agent_id"] for a in stale] == ["backup-1"]
    one = json.loads(_ok(cli("state", "agent", "sync-1")).stdout)
    assert (one["state"], one["meta"]) == ({"cursor": 9}, {"host": "a"})

    _ok(cli("state", "agent", "backup-1", "--remove"))
    assert cli("state", "agent", "backup-1").returncode == 6
    table = _ok(cli("state", "agents")).stdout.splitlines()
    assert table[0].split()[:2] == ["AGENT", "KIND"] and "sync-1" in table[1]


def test_config_get_set_reset_list(cli, headless, vault_dir):
    assert _ok(cli("config", "get", "auto_lock_minutes")).stdout.strip() == "5"
    _ok(cli("config", "set", "auto_lock_minutes", "15"))
    _ok(cli("config", "set", "keyring_enabled", "off"))
    _ok(cli("config", "set", "history_depth", "4"))
    assert _ok(cli("config", "get", "auto_lock_minutes")).stdout.strip() == "15"
    assert _ok(cli("config", "get", "keyring_enabled")).stdout.strip() == "false"

    settings = json.loads(_ok(cli("config", "list", "--json")).stdout)["settings"]
    by_name = {s["name"]: s for s in settings}
    assert by_name["auto_lock_minutes"]["value"] == 15
    assert by_name["auto_lock_minutes"]["default"] == 5
    assert by_name["theme"]["choices"] == ["system", "light", "dark"]
    assert all(s["help"] for s in settings)

    vault = _open(vault_dir)
    try:
        assert SecretStore(vault).history_depth() == 4
    finally:
        vault.lock()

    _ok(cli("config", "reset", "auto_lock_minutes"))
    assert _ok(cli("config", "get", "auto_lock_minutes")).stdout.strip() == "5"


@pytest.mark.parametrize(
    ("name", "value"),
    [("auto_lock_minutes", "1441"), ("theme", "neon"), ("nope", "1"), ("token_expiry_hours", "0")],
)
def test_config_refusals(cli, headless, name, value):
    result = cli("config", "set", name, value)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and name in result.stderr


def test_state_changes_are_audited_without_values(cli, headless):
    _ok(cli("state", "set", "s", "token-note", input='"very-private-note-31c"'))
    _ok(cli("config", "set", "theme", "dark"))
    events = json.loads(_ok(cli("audit", "--json")).stdout)["events"]
    mine = [(e["action"], e["target"], e["detail"]) for e in events if e["action"] != "unlock"]
    assert ("state-set", "s", {"key": "token-note"}) in mine
    assert ("config-set", "theme", {"value": "dark"}) in mine
    assert "very-private-note" not in json.dumps(events)
