"""AuthManager over a real SQLCipher vault: everything survives lock and reopen, and is audited."""

from __future__ import annotations

import json

import pytest

from echo_vault_app.auth import ApiKeyStatus, AuthManager, TokenRevoked
from echo_vault_app.auth.passwords import Argon2Params
from echo_vault_app.core.vault import Vault

FAST = Argon2Params(memory_kib=1024, iterations=1, lanes=1)
PASSPHRASE = "correct horse battery staple"
USER_PASSWORD = "a long enough user password"


def _all_auth_rows(vault: Vault) -> str:
    with vault.read() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'auth_%'"
            )
        ]
        return json.dumps(
            {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in tables}, default=repr
        )


def test_everything_persists_across_reopen(make_vault, vault_dir) -> None:
    vault = make_vault(PASSPHRASE).vault
    auth = AuthManager(vault=vault, password_params=FAST)
    api_key = auth.generate_api_key(user_id="u@example.com", permissions=["secrets:read"])
    hs_token = auth.create_jwt_token(user_id="u@example.com")
    ed_token = auth.create_jwt_token(user_id="u@example.com", algorithm="EdDSA")
    revoked = auth.create_jwt_token(user_id="u@example.com")
    auth.revoke_jwt_token(revoked)
    auth.define_role("reader", ["secrets:read"])
    auth.create_user("ann", USER_PASSWORD, roles=["reader"])
    session_token, _ = auth.login("ann", USER_PASSWORD)
    client_id, client_secret = auth.register_client("ci", ["config:read"])
    jwks = auth.jwks()
    auth.close()
    vault.lock()

    reopened = Vault.open(vault_dir, passphrase=PASSPHRASE, use_keyring=False)
    try:
        again = AuthManager(vault=reopened, password_params=FAST)

        assert again.check_api_key(api_key, "secrets:read", "x").status is ApiKeyStatus.VALID
        assert again.decode_jwt_token(hs_token)["sub"] == "u@example.com"
        assert again.decode_jwt_token(ed_token)["sub"] == "u@example.com"
        assert again.jwks() == jwks
        with pytest.raises(TokenRevoked):
            again.decode_jwt_token(revoked)
        session = again.validate_session(session_token)
        assert again.check(session, "secrets:read", "x")
        assert again.login("ann", USER_PASSWORD)
        issued = again.issue_client_credentials_token(client_id, client_secret)
        assert again.decode_jwt_token(issued["access_token"])["scope"] == "config:read"
    finally:
        reopened.lock()


def test_secrets_are_never_stored_in_clear(make_vault) -> None:
    vault = make_vault(PASSPHRASE).vault
    auth = AuthManager(vault=vault, password_params=FAST)
    api_key = auth.generate_api_key(user_id="u@example.com")
    auth.create_jwt_token(user_id="u", algorithm="EdDSA")
    auth.create_user("ann", USER_PASSWORD)
    session_token, _ = auth.login("ann", USER_PASSWORD)
    _, client_secret = auth.register_client("ci", ["config:read"])
    hs_key = auth.keys.signer("HS256").private
    ed_key = auth.keys.signer("EdDSA").private.private_bytes_raw()

    dump = _all_auth_rows(vault)

    for secret in (
        api_key,
        api_key.split("_")[3][:43],
        session_token.split("_", 2)[2],  # the secret part may itself hold "_"
        client_secret,
        USER_PASSWORD,
    ):
        assert secret not in dump
    for raw in (hs_key, ed_key):
        assert raw.hex() not in dump and repr(raw) not in dump


def test_changes_are_audited_without_secrets(make_vault) -> None:
    vault = make_vault(PASSPHRASE).vault
    auth = AuthManager(vault=vault, password_params=FAST)
    api_key = auth.generate_api_key(user_id="u@example.com")
    key_id = auth.check_api_key(api_key).record.key_id
    auth.rotate_api_key(key_id, grace_seconds=60)
    auth.revoke_api_key(key_id)
    auth.create_jwt_token(user_id="u", algorithm="EdDSA")
    auth.rotate_signing_key("EdDSA", overlap=60)

    with vault.read() as conn:
        events = vault.audit.events(conn)
        assert vault.audit.verify(conn).ok

    actions = [e.action for e in events]
    for action in (
        "auth.apikey.create",
        "auth.apikey.rotate",
        "auth.apikey.revoke",
        "auth.jwt.key_create",
        "auth.jwt.key_rotate",
    ):
        assert action in actions
    assert api_key.split("_")[3][:43] not in repr(events)


def test_environment_key_is_used_with_a_vault(make_vault, monkeypatch) -> None:
    monkeypatch.setenv("ECHO_VAULT_SECRET_KEY", "env-held-signing-key-0123456789-abcdefgh")
    vault = make_vault(PASSPHRASE).vault
    auth = AuthManager(vault=vault)

    token = auth.create_jwt_token(user_id="u")

    assert AuthManager(secret_key="env-held-signing-key-0123456789-abcdefgh").verify_jwt_token(
        token
    )
