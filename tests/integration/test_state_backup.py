"""The ``state`` and ``auth`` backup sections: round trips, re-sealing, revocations, refusals."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.auth import ApiKeyStatus, AuthManager
from echo_vault_app.auth import backup_section as auth_backup
from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import ValidationError
from echo_vault_app.secrets import SecretsManager, backup, backup_format
from echo_vault_app.state import StateManager
from echo_vault_app.state import backup_section as state_backup

PASSWORD = "a backup password that is long"
USER_PASSWORD = "ann's long password 1"


@pytest.fixture(autouse=True)
def sections():
    auth_backup.register()
    state_backup.register()
    yield
    backup.unregister_backup_section("auth")
    backup.unregister_backup_section("state")


@pytest.fixture
def vaults(tmp_path, monkeypatch):
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", Fernet.generate_key().decode())
    made = [Vault.create(tmp_path / name, use_keyring=False).vault for name in ("a", "b")]
    yield made
    for vault in made:
        if not vault.is_locked:
            vault.lock()


def _fill(vault):
    auth = AuthManager(vault=vault)
    key = auth.generate_api_key("svc@example.com", ["secrets:read"], name="ci")
    auth.create_user("ann", USER_PASSWORD, roles=["reader"])
    auth.define_role("reader", ["secrets:read"])
    token = auth.create_jwt_token("ann", ["read"], algorithm="EdDSA")
    revoked = auth.create_jwt_token("ann", ["read"], algorithm="EdDSA")
    auth.revoke_jwt_token(revoked)
    state = StateManager(vault=vault)
    state.sessions.set("desk", "layout", {"split": 2})
    state.register_agent("sync-1", "sync", {"host": "a"})
    state.update_state("sync-1", {"cursor": 5}, 0)
    state.config.set("auto_lock_minutes", 12)
    return key, token, revoked


def test_payload_carries_hashes_and_opened_signing_keys_only(vaults, tmp_path):
    key, _, _ = _fill(vaults[0])
    path = tmp_path / "a.evb"
    SecretsManager(vault=vaults[0]).export_secrets(path, PASSWORD)

    payload = backup_format.read_backup(path, PASSWORD)
    kinds = {item["type"] for item in payload["auth"]}
    assert {"origin", "api_keys", "signing_keys", "users", "roles", "revoked_jtis"} <= kinds
    assert "sessions" not in kinds
    text = json.dumps(payload)
    assert key not in text and key.split("_")[3] not in text
    assert USER_PASSWORD not in text
    signing = [i["doc"] for i in payload["auth"] if i["type"] == "signing_keys"]
    assert signing and all("private" in d and "sealed" not in d for d in signing)
    assert {i["type"] for i in payload["state"]} == {"session_value", "agent", "setting"}


def test_restore_into_another_vault(vaults, tmp_path):
    source, target = vaults
    key, token, revoked = _fill(source)
    path = tmp_path / "a.evb"
    SecretsManager(vault=source).export_secrets(path, PASSWORD)

    result = SecretsManager(vault=target).import_secrets(path, PASSWORD)
    assert set(result.sections) == {"auth", "state"}
    auth = AuthManager(vault=target)
    assert auth.verify_jwt_token(token)["sub"] == "ann", "signing key did not survive re-sealing"
    assert auth.verify_jwt_token(revoked) is None, "a revoked token came back to life"
    assert auth.check(auth.users.get("ann"), "secrets:read", "x")
    auth.login("ann", USER_PASSWORD)
    # Hashes keyed by the source vault's root could never verify here: they are left out.
    assert auth.list_api_keys() == []
    assert auth.check_api_key(key).status is ApiKeyStatus.NOT_FOUND

    with target.read() as conn:
        sealed = conn.execute("SELECT doc FROM auth_signing_keys").fetchall()
    assert all("private" not in row[0] and "sealed" in json.loads(row[0]) for row in sealed)

    state = StateManager(vault=target)
    assert state.sessions.get("desk", "layout") == {"split": 2}
    agent = state.get_agent("sync-1")
    assert (agent.state, agent.version, agent.meta) == ({"cursor": 5}, 1, {"host": "a"})
    assert state.config.get("auto_lock_minutes") == 12


def test_restore_into_the_same_vault_never_undoes_a_revocation(vaults, tmp_path):
    vault = vaults[0]
    key, _, _ = _fill(vault)
    path = tmp_path / "a.evb"
    SecretsManager(vault=vault).export_secrets(path, PASSWORD)

    auth = AuthManager(vault=vault)
    auth.revoke_api_key(key.split("_")[2])
    auth.users.delete("ann")
    state = StateManager(vault=vault)
    state.update_state("sync-1", {"cursor": 99}, 1)
    state.sessions.delete("desk", "layout")

    SecretsManager(vault=vault).import_secrets(path, PASSWORD, mode="replace-all")
    assert auth.refresh() is True, "a running AuthManager must notice the import"
    assert auth.check_api_key(key).status is ApiKeyStatus.REVOKED
    assert auth.users.find("ann") is not None
    agent = state.get_agent("sync-1")
    assert agent.state == {"cursor": 5}
    assert agent.version == 3, "a restored document must not reuse a version a writer holds"
    assert state.sessions.get("desk", "layout") == {"split": 2}


def test_skip_and_merge_keep_newer_local_state(vaults, tmp_path):
    vault = vaults[0]
    _fill(vault)
    path = tmp_path / "a.evb"
    SecretsManager(vault=vault).export_secrets(path, PASSWORD)
    state = StateManager(vault=vault)
    state.update_state("sync-1", {"cursor": 7}, 1)
    state.config.set("auto_lock_minutes", 20)

    for mode in ("skip", "merge"):
        SecretsManager(vault=vault).import_secrets(path, PASSWORD, mode=mode)
        assert state.get_agent("sync-1").state == {"cursor": 7}
        assert state.config.get("auto_lock_minutes") == 20


@pytest.mark.parametrize(
    ("section", "bad"),
    [
        ("auth", {"type": "api_keys", "id": "x", "doc": {"key_id": "x"}}),
        ("auth", {"type": "signing_keys", "id": "k", "doc": {"alg": "EdDSA", "private": "%%"}}),
        ("auth", {"type": "passwords", "id": "x", "doc": {}}),
        ("state", {"type": "setting", "name": "auto_lock_minutes", "value": 99999, "updated": 1}),
        ("state", {"type": "agent", "agent_id": "a"}),
        ("state", "not an object"),
    ],
)
def test_malformed_items_refuse_the_whole_import(vaults, tmp_path, section, bad):
    source, target = vaults
    _fill(source)
    path = tmp_path / "a.evb"
    SecretsManager(vault=source).export_secrets(path, PASSWORD)
    payload = backup_format.read_backup(path, PASSWORD)
    payload[section].append(bad)
    broken = tmp_path / "broken.evb"
    backup_format.write_backup(broken, PASSWORD, payload)

    with pytest.raises(ValidationError) as info:
        SecretsManager(vault=target).import_secrets(broken, PASSWORD)
    assert "\n" not in str(info.value)
    with target.read() as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not any(t.startswith(("auth_", "state_")) for t in tables), "something was written"
