"""API keys: format, refusal reasons, rotation grace, last-used batching, random input."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echo_vault_app.auth import ApiKeyStatus, AuthManager, looks_like_api_key
from echo_vault_app.auth.apikeys import LAST_USED_FLUSH_SECONDS, checksum
from echo_vault_app.auth.store import MemoryAuthStore
from echo_vault_app.errors import UsageError

KEY = "apikey-test-key-0123456789-abcdefghijklmn"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(clock: Clock) -> AuthManager:
    return AuthManager(secret_key=KEY, clock=clock)


def _swap_char(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def test_format_is_recognisable_and_carries_256_bits(auth: AuthManager) -> None:
    key = auth.generate_api_key(user_id="u@example.com", permissions=["read"], environment="test")

    match = re.fullmatch(r"ev_test_([a-z2-7]{12})_([0-9A-Za-z]{43})([0-9A-Za-z]{6})", key)
    assert match
    assert 62 ** len(match.group(2)) >= 2**256
    assert looks_like_api_key(key)
    assert not looks_like_api_key(_swap_char(key, 30))
    assert checksum(key[:-6]) == key[-6:]


def test_only_a_keyed_hash_is_stored(clock: Clock) -> None:
    store = MemoryAuthStore()
    auth = AuthManager(secret_key=KEY, store=store, clock=clock)

    key = auth.generate_api_key(user_id="u@example.com")

    secret = key.split("_")[3][:43]
    dumped = repr(store._docs)
    assert secret not in dumped and key not in dumped
    assert len(store.load_all("api_keys")) == 1


def test_valid_key_has_status_and_record(auth: AuthManager) -> None:
    key = auth.generate_api_key(user_id="u@example.com", permissions=["secrets:read"], name="ci")

    result = auth.check_api_key(key)

    assert result.status is ApiKeyStatus.VALID
    assert result.record.user_id == "u@example.com" and result.record.name == "ci"


def test_wrong_key_of_the_right_shape_is_not_found(auth: AuthManager) -> None:
    auth.generate_api_key(user_id="u@example.com")
    other = AuthManager(secret_key=KEY).generate_api_key(user_id="u@example.com")

    assert looks_like_api_key(other)
    assert auth.check_api_key(other).status is ApiKeyStatus.NOT_FOUND
    assert auth.verify_api_key(other) is None


def test_right_id_wrong_secret_is_bad_secret(auth: AuthManager) -> None:
    key = auth.generate_api_key(user_id="u@example.com")
    body = _swap_char(key[:-6], len(key) - 20)
    forged = body + checksum(body)

    result = auth.check_api_key(forged)

    assert result.status is ApiKeyStatus.BAD_SECRET and result.record is None
    assert auth.verify_api_key(forged) is None


def test_wrong_environment_is_not_found(auth: AuthManager) -> None:
    key = auth.generate_api_key(user_id="u@example.com", environment="live")
    body = key[:-6].replace("ev_live_", "ev_test_", 1)

    assert auth.check_api_key(body + checksum(body)).status is ApiKeyStatus.NOT_FOUND


def test_bad_checksum_is_malformed(auth: AuthManager) -> None:
    key = auth.generate_api_key(user_id="u@example.com")

    assert auth.check_api_key(_swap_char(key, len(key) - 1)).status is ApiKeyStatus.MALFORMED


def test_revoked_key_is_refused(auth: AuthManager) -> None:
    key = auth.generate_api_key(user_id="u@example.com")
    key_id = auth.check_api_key(key).record.key_id

    auth.revoke_api_key(key_id)

    assert auth.check_api_key(key).status is ApiKeyStatus.REVOKED
    assert auth.verify_api_key(key) is None


def test_expired_key_is_refused(auth: AuthManager, clock: Clock) -> None:
    key = auth.generate_api_key(user_id="u@example.com", expires_in=60)
    assert auth.check_api_key(key).ok

    clock.now += 60

    assert auth.check_api_key(key).status is ApiKeyStatus.EXPIRED


def test_rotation_keeps_old_key_during_grace_only(auth: AuthManager, clock: Clock) -> None:
    old = auth.generate_api_key(user_id="u@example.com", permissions=["secrets:read"])
    old_id = auth.check_api_key(old).record.key_id

    new = auth.rotate_api_key(old_id, grace_seconds=3600)

    assert auth.check_api_key(old).ok and auth.check_api_key(new).ok
    assert auth.check_api_key(new).record.permissions == ("secrets:read",)
    assert auth.check_api_key(old).record.rotated_to == auth.check_api_key(new).record.key_id
    clock.now += 3599
    assert auth.check_api_key(old).ok
    clock.now += 1
    assert auth.check_api_key(old).status is ApiKeyStatus.EXPIRED
    assert auth.check_api_key(new).ok


def test_revoked_key_cannot_be_rotated(auth: AuthManager) -> None:
    key = auth.generate_api_key(user_id="u@example.com")
    key_id = auth.check_api_key(key).record.key_id
    auth.revoke_api_key(key_id)

    with pytest.raises(UsageError):
        auth.rotate_api_key(key_id)


def test_insufficient_permission_is_reported(auth: AuthManager) -> None:
    key = auth.generate_api_key(user_id="u@example.com", permissions=["secrets:read:stripe/*"])

    assert auth.check_api_key(key, "secrets:read", "stripe/live").ok
    denied = auth.check_api_key(key, "secrets:read", "aws/prod")
    assert denied.status is ApiKeyStatus.INSUFFICIENT_PERMISSION
    assert auth.check_api_key(key, "secrets:write", "stripe/live").status is (
        ApiKeyStatus.INSUFFICIENT_PERMISSION
    )


def test_list_shows_prefix_but_never_the_key(auth: AuthManager) -> None:
    key = auth.generate_api_key(user_id="u@example.com")
    auth.generate_api_key(user_id="other@example.com")

    listed = auth.list_api_keys("u@example.com")

    assert len(listed) == 1 and key.startswith(listed[0].prefix)
    assert key not in repr(listed)


def test_last_used_is_written_at_most_once_a_minute(clock: Clock) -> None:
    store = MemoryAuthStore()
    auth = AuthManager(secret_key=KEY, store=store, clock=clock)
    key = auth.generate_api_key(user_id="u@example.com")
    key_id = auth.check_api_key(key).record.key_id
    writes_before = len(store.audit)

    for _ in range(1000):
        assert auth.check_api_key(key).ok

    assert len(store.audit) == writes_before
    assert auth.api_keys.get(key_id).last_used_at == clock.now
    assert store.get("api_keys", key_id)["last_used_at"] is None
    clock.now += LAST_USED_FLUSH_SECONDS
    auth.check_api_key(key)
    assert len(store.audit) == writes_before + 1
    assert store.get("api_keys", key_id)["last_used_at"] == clock.now


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        b"ev_live_",
        "",
        "ev",
        "ev_live__",
        "x" * 100_000,
        "ev_live_" + "a" * 12 + "_" + "B" * 49,
    ],
)
def test_odd_inputs_are_malformed(auth: AuthManager, value: object) -> None:
    assert auth.check_api_key(value).status is ApiKeyStatus.MALFORMED
    assert auth.verify_api_key(value) is None


@pytest.mark.parametrize("permissions", ["read", ["bad permission"], ["a:b:c:"]])
def test_bad_permissions_are_refused(auth: AuthManager, permissions: object) -> None:
    with pytest.raises(UsageError):
        auth.generate_api_key(user_id="u@example.com", permissions=permissions)


_auth_for_hypothesis = AuthManager(secret_key=KEY)
_known = _auth_for_hypothesis.generate_api_key(user_id="u@example.com")
_known_id = _known.split("_")[2]

shaped = st.builds(
    lambda env, secret: (lambda body: body + checksum(body))(f"ev_{env}_{_known_id}_{secret}"),
    st.sampled_from(["live", "test"]),
    st.text(
        alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        min_size=43,
        max_size=43,
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=100), shaped, st.integers()))
def test_random_strings_never_verify_and_never_raise(value: object) -> None:
    result = _auth_for_hypothesis.check_api_key(value)

    assert not result.ok
    assert _auth_for_hypothesis.verify_api_key(value) is None
