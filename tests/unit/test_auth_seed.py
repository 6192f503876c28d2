"""The auth part of the seed-compatible calls, run as the original specification wrote them."""

from __future__ import annotations

import pytest

from echo_vault_app.auth import AuthManager, WeakSigningKey
from echo_vault_app.errors import UsageError

STRONG_KEY = "seed-test-key-0123456789-abcdefghijklmnop"


def test_placeholder_secret_key_is_refused_with_a_reason() -> None:
    with pytest.raises(WeakSigningKey, match="at least 32 bytes"):
        auth = AuthManager(secret_key="your-secret-key")  # noqa: F841


def test_seed_calls_verbatim() -> None:
    auth = AuthManager(secret_key=STRONG_KEY)
    api_key = auth.generate_api_key(user_id="user@example.com", permissions=["read", "write"])
    key_data = auth.verify_api_key(api_key)
    token = auth.create_jwt_token(
        user_id="user@example.com", permissions=["read", "write"], custom_claims={"org_id": "123"}
    )
    payload = auth.verify_jwt_token(token)

    assert key_data["user_id"] == "user@example.com"
    assert key_data["permissions"] == ["read", "write"]
    assert "secret_hash" not in key_data
    assert api_key not in repr(key_data)
    assert payload["sub"] == "user@example.com"
    assert payload["permissions"] == ["read", "write"]
    assert payload["org_id"] == "123"
    assert payload["exp"] - payload["iat"] == 24 * 3600
    assert auth.verify_api_key(api_key[:-1] + ("A" if api_key[-1] != "A" else "B")) is None
    assert auth.verify_jwt_token(token + "x") is None


def test_seed_read_write_keep_their_meaning() -> None:
    auth = AuthManager(secret_key=STRONG_KEY)
    api_key = auth.generate_api_key(user_id="user@example.com", permissions=["read"])

    assert auth.check(auth.check_api_key(api_key), "read")
    assert auth.check(auth.check_api_key(api_key), "secrets:read", "stripe/live")
    assert not auth.check(auth.check_api_key(api_key), "write")
    assert not auth.check(auth.check_api_key(api_key), "secrets:write", "stripe/live")


def test_environment_supplies_key_and_lifetime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHO_VAULT_SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("ECHO_VAULT_TOKEN_EXPIRY_HOURS", "2")
    first, second = AuthManager(), AuthManager()

    token = first.create_jwt_token(user_id="a@example.com")

    claims = second.verify_jwt_token(token)
    assert claims is not None and claims["exp"] - claims["iat"] == 7200


def test_short_key_from_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHO_VAULT_SECRET_KEY", "short")
    with pytest.raises(WeakSigningKey):
        AuthManager()


@pytest.mark.parametrize("hours", ["abc", "0", "-3", "100000"])
def test_bad_expiry_hours_are_refused(monkeypatch: pytest.MonkeyPatch, hours: str) -> None:
    monkeypatch.setenv("ECHO_VAULT_TOKEN_EXPIRY_HOURS", hours)
    with pytest.raises(UsageError):
        AuthManager(secret_key=STRONG_KEY)


def test_without_any_key_a_random_in_memory_key_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECHO_VAULT_SECRET_KEY", raising=False)
    one, other = AuthManager(), AuthManager()

    token = one.create_jwt_token(user_id="a@example.com")

    assert one.verify_jwt_token(token) is not None
    assert other.verify_jwt_token(token) is None
    assert not one.store.persistent
