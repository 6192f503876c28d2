"""``echo-vault-cli apikey|jwt|user|session`` as real processes on a headless vault."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.auth import AuthManager
from echo_vault_app.core.vault import Vault


@pytest.fixture
def headless(vault_dir, monkeypatch):
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", Fernet.generate_key().decode())
    Vault.create(vault_dir, use_keyring=False).vault.lock()
    return vault_dir


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result


def test_apikey_lifecycle(cli, headless):
    created = _ok(cli("apikey", "create", "--user", "bob", "-p", "secrets:read", "--name", "ci"))
    key = created.stdout.strip()
    assert created.stdout.count("\n") == 1 and key.startswith("ev_live_")
    key_id = key.split("_")[2]
    assert "shown only this once" in created.stderr and key not in created.stderr

    listed = json.loads(_ok(cli("apikey", "list", "--json")).stdout)["api_keys"]
    assert [(k["key_id"], k["user_id"], k["name"]) for k in listed] == [(key_id, "bob", "ci")]
    assert "secret_hash" not in listed[0] and key not in json.dumps(listed)

    verified = cli("apikey", "verify", "--json", "--permission", "secrets:read", input=key + "\n")
    assert verified.returncode == 0
    assert json.loads(verified.stdout) == {
        "status": "valid",
        "valid": True,
        "key_id": key_id,
        "user_id": "bob",
    }
    denied = cli("apikey", "verify", "--permission", "secrets:write", input=key)
    assert (denied.returncode, denied.stdout.strip()) == (3, "insufficient_permission")

    _ok(cli("apikey", "revoke", key_id))
    revoked = cli("apikey", "verify", input=key)
    assert (revoked.returncode, revoked.stdout.strip()) == (3, "revoked")


def test_apikey_rotate_keeps_the_old_key_for_the_grace(cli, headless):
    old = _ok(cli("apikey", "create", "--user", "bob")).stdout.strip()
    new = _ok(cli("apikey", "rotate", old.split("_")[2], "--grace-hours", "1")).stdout.strip()
    assert new != old and new.startswith("ev_live_")
    assert cli("apikey", "verify", input=old).stdout.strip() == "valid"
    assert cli("apikey", "verify", input=new).stdout.strip() == "valid"

    gone = _ok(cli("apikey", "create", "--user", "bob")).stdout.strip()
    _ok(cli("apikey", "rotate", gone.split("_")[2], "--grace-hours", "0"))
    assert cli("apikey", "verify", input=gone).stdout.strip() == "expired"


def test_verify_never_takes_the_key_from_argv(cli, headless):
    key = _ok(cli("apikey", "create", "--user", "bob")).stdout.strip()
    result = cli("apikey", "verify", key)
    assert result.returncode == 2
    assert key not in result.stderr and "never from the command line" in result.stderr
    token = _ok(cli("jwt", "issue", "--user", "bob")).stdout.strip()
    result = cli("jwt", "verify", token)
    assert result.returncode == 2 and token not in result.stderr + result.stdout
    garbage = cli("apikey", "verify", input="not a key at all")
    assert (garbage.returncode, garbage.stdout.strip()) == (3, "malformed")
    empty = cli("apikey", "verify", input="")
    assert empty.returncode == 2 and empty.stderr.count("\n") == 1


def test_unknown_key_id_is_one_line_not_found(cli, headless):
    result = cli("apikey", "revoke", "aaaaaaaaaaaa")
    assert result.returncode == 6
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("alg", ["HS256", "EdDSA", "ES256"])
def test_jwt_issue_and_verify(cli, headless, alg):
    token = _ok(
        cli("jwt", "issue", "--user", "bob", "--alg", alg, "-p", "read", "--claim", "org_id=123",
            "--claim", "team=blue", "--audience", "api")
    ).stdout.strip()  # fmt: skip
    claims = json.loads(_ok(cli("jwt", "verify", "--audience", "api", input=token)).stdout)
    assert (claims["sub"], claims["permissions"], claims["org_id"], claims["team"]) == (
        "bob",
        ["read"],
        123,
        "blue",
    )
    wrong_audience = cli("jwt", "verify", "--audience", "other", "--json", input=token)
    assert wrong_audience.returncode == 3
    assert json.loads(wrong_audience.stdout)["reason"] == "wrong_audience"

    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["sub"] = "mallory"
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    forged = cli("jwt", "verify", input=f"{head}.{forged_body}.{sig}")
    assert forged.returncode == 3 and "mallory" not in forged.stdout
    assert forged.stderr.count("\n") == 1


def test_token_lifetime_follows_the_setting(cli, headless):
    _ok(cli("config", "set", "token_expiry_hours", "2"))
    token = _ok(cli("jwt", "issue", "--user", "bob")).stdout.strip()
    claims = json.loads(_ok(cli("jwt", "verify", input=token)).stdout)
    assert claims["exp"] - claims["iat"] == 2 * 3600


def test_jwt_keys_rotation_and_jwks(cli, headless):
    _ok(cli("jwt", "issue", "--user", "bob", "--alg", "EdDSA"))
    first = _ok(cli("jwt", "rotate-key", "EdDSA", "--overlap-hours", "1")).stdout.strip()
    second = _ok(cli("jwt", "rotate-key", "EdDSA")).stdout.strip()
    assert first != second
    keys = json.loads(_ok(cli("jwt", "keys", "--json")).stdout)["keys"]
    eddsa = [k["kid"] for k in keys if k["alg"] == "EdDSA"]
    assert first in eddsa and second in eddsa and len(eddsa) == 3
    assert all("sealed" not in k and "private" not in json.dumps(k) for k in keys)

    jwks = json.loads(_ok(cli("jwt", "jwks")).stdout)
    published = {k["kid"] for k in jwks["keys"]}
    assert {first, second} <= published
    assert all("d" not in k for k in jwks["keys"]), "a private member leaked into the JWKS"


def test_users_passwords_and_roles(cli, headless, vault_dir):
    _ok(cli("user", "add", "alice", "--role", "reader", input="first password 123\n"))
    weak = cli("user", "add", "carol", input="short\n")
    assert weak.returncode == 2 and weak.stderr.count("\n") == 1
    duplicate = cli("user", "add", "alice", input="another password 1\n")
    assert duplicate.returncode == 7

    assert _ok(cli("user", "roles", "alice")).stdout.split() == ["reader"]
    roles = json.loads(_ok(cli("user", "roles", "alice", "--set", "admin", "--set", "ops",
                               "--json")).stdout)  # fmt: skip
    assert roles == {"user_id": "alice", "roles": ["admin", "ops"]}
    _ok(cli("user", "passwd", "alice", input="second password 456\n"))

    users = json.loads(_ok(cli("user", "list", "--json")).stdout)["users"]
    assert [(u["user_id"], u["has_password"]) for u in users] == [("alice", True)]
    assert "password 456" not in json.dumps(users)

    vault = Vault.open(vault_dir, use_keyring=False)
    try:
        auth = AuthManager(vault=vault)
        auth.login("alice", "second password 456")
        with pytest.raises(Exception, match="wrong"):
            auth.login("alice", "first password 123")
    finally:
        vault.lock()


def test_sessions_list_and_revoke(cli, headless, vault_dir):
    vault = Vault.open(vault_dir, use_keyring=False)
    try:
        auth = AuthManager(vault=vault)
        auth.create_user("dan", "dan's long password 1")
        _, session = auth.login("dan", "dan's long password 1")
    finally:
        vault.lock()

    listed = json.loads(_ok(cli("session", "list", "--json")).stdout)["sessions"]
    assert [(s["session_id"], s["user_id"]) for s in listed] == [(session.session_id, "dan")]
    assert "secret_hash" not in listed[0]
    _ok(cli("session", "revoke", session.session_id))
    assert json.loads(_ok(cli("session", "list", "--json")).stdout)["sessions"] == []
    ended = json.loads(_ok(cli("session", "list", "--all", "--json")).stdout)["sessions"]
    assert ended[0]["revoked_at"] is not None


def test_audit_records_the_commands_without_keys(cli, headless):
    key = _ok(cli("apikey", "create", "--user", "bob")).stdout.strip()
    _ok(cli("apikey", "revoke", key.split("_")[2]))
    events = json.loads(_ok(cli("audit", "--json")).stdout)["events"]
    actions = [e["action"] for e in events]
    assert "auth.apikey.create" in actions and "auth.apikey.revoke" in actions
    assert key.split("_")[3][:20] not in json.dumps(events)
