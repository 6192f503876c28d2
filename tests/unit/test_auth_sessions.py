"""Users, passwords, sessions, Basic auth and OAuth 2.0 client credentials."""

from __future__ import annotations

import base64

import pytest

from echo_vault_app.auth import (
    AuthManager,
    InvalidClient,
    InvalidCredentials,
    InvalidScope,
    SessionInvalid,
)
from echo_vault_app.auth.passwords import Argon2Params, PasswordHasher
from echo_vault_app.auth.store import MemoryAuthStore
from echo_vault_app.errors import Conflict, WeakPassword

KEY = "session-test-key-0123456789-abcdefghijklmn"
FAST = Argon2Params(memory_kib=1024, iterations=1, lanes=1)
PASSWORD = "correct horse battery staple"


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
    manager = AuthManager(secret_key=KEY, clock=clock, password_params=FAST)
    manager.create_user("ann", PASSWORD, permissions=["secrets:read"])
    return manager


def test_default_password_hash_is_argon2id_64mib_3_passes_4_lanes() -> None:
    hashed = PasswordHasher().hash(PASSWORD)

    assert (hashed["alg"], hashed["memory_kib"], hashed["iterations"], hashed["lanes"]) == (
        "argon2id",
        65536,
        3,
        4,
    )
    assert PASSWORD not in repr(hashed)
    assert PasswordHasher().verify(PASSWORD, hashed)
    assert not PasswordHasher().verify(PASSWORD + "!", hashed)


def test_short_password_and_duplicate_user_are_refused(auth: AuthManager) -> None:
    with pytest.raises(WeakPassword):
        auth.create_user("bob", "short")
    with pytest.raises(Conflict):
        auth.create_user("ann", PASSWORD)


def test_login_gives_a_session_that_validates(auth: AuthManager) -> None:
    token, session = auth.login("ann", PASSWORD)

    assert token.startswith("evs_") and session.user_id == "ann"
    assert auth.validate_session(token).session_id == session.session_id
    assert auth.check(auth.validate_session(token), "secrets:read", "x")


@pytest.mark.parametrize(("user", "password"), [("ann", "wrong password!!"), ("nobody", PASSWORD)])
def test_wrong_password_or_user_is_refused(auth: AuthManager, user: str, password: str) -> None:
    with pytest.raises(InvalidCredentials):
        auth.login(user, password)


def test_idle_expiry_is_refreshed_by_use(auth: AuthManager, clock: Clock) -> None:
    token, _ = auth.login("ann", PASSWORD, idle_timeout=600, absolute_timeout=3600)

    clock.now += 599
    auth.validate_session(token)
    clock.now += 599
    auth.validate_session(token)
    clock.now += 600
    with pytest.raises(SessionInvalid) as error:
        auth.validate_session(token)
    assert error.value.reason == "idle"


def test_absolute_expiry_wins_over_activity(auth: AuthManager, clock: Clock) -> None:
    token, _ = auth.login("ann", PASSWORD, idle_timeout=600, absolute_timeout=1000)

    for _ in range(3):
        clock.now += 300
        auth.validate_session(token)
    clock.now += 100
    with pytest.raises(SessionInvalid) as error:
        auth.validate_session(token)
    assert error.value.reason == "expired"


def test_sessions_list_and_revoke(auth: AuthManager) -> None:
    token, session = auth.login("ann", PASSWORD)
    other, _ = auth.login("ann", PASSWORD)

    assert len(auth.list_sessions("ann")) == 2
    auth.revoke_session(session.session_id)

    with pytest.raises(SessionInvalid) as error:
        auth.validate_session(token)
    assert error.value.reason == "revoked"
    assert auth.validate_session(other)
    assert len(auth.list_sessions("ann")) == 1


@pytest.mark.parametrize("token", ["", "evs_x", None, 5, "evs_" + "a" * 16 + "_" + "b" * 43])
def test_bad_session_tokens_are_refused(auth: AuthManager, token: object) -> None:
    with pytest.raises(SessionInvalid):
        auth.validate_session(token)


def test_forged_secret_for_real_session_id_is_refused(auth: AuthManager) -> None:
    token, _ = auth.login("ann", PASSWORD)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")

    with pytest.raises(SessionInvalid) as error:
        auth.validate_session(forged)
    assert error.value.reason == "unknown"


def test_api_key_login_carries_the_key_grants(auth: AuthManager) -> None:
    key = auth.generate_api_key(user_id="ci", permissions=["config:read"])

    token, session = auth.login_with_api_key(key)

    assert session.method == "api_key" and session.key_id
    assert auth.check(auth.validate_session(token), "config:read")
    assert not auth.check(session, "secrets:read")
    auth.revoke_api_key(session.key_id)
    with pytest.raises(InvalidCredentials):
        auth.login_with_api_key(key)


def test_sessions_survive_a_restart_on_the_same_store(clock: Clock) -> None:
    store = MemoryAuthStore()
    first = AuthManager(secret_key=KEY, store=store, clock=clock, password_params=FAST)
    first.create_user("ann", PASSWORD)
    token, _ = first.login("ann", PASSWORD)

    second = AuthManager(secret_key=KEY, store=store, clock=clock, password_params=FAST)

    assert second.validate_session(token).user_id == "ann"


def test_basic_auth_header_and_pair(auth: AuthManager) -> None:
    header = "Basic " + base64.b64encode(f"ann:{PASSWORD}".encode()).decode()
    wrong = "Basic " + base64.b64encode(b"ann:nope nope nope").decode()

    assert auth.verify_basic_auth(header).id == "ann"
    assert auth.verify_basic_auth("ann", PASSWORD).id == "ann"
    assert auth.verify_basic_auth(wrong) is None
    for bad in ["", "Basic", "Basic !!!", "Bearer abc", "Basic " + base64.b64encode(b"x").decode()]:
        assert auth.verify_basic_auth(bad) is None


def test_client_credentials_issue_scoped_tokens(auth: AuthManager) -> None:
    client_id, secret = auth.register_client("ci", ["secrets:read", "config:read"])

    full = auth.issue_client_credentials_token(client_id, secret)
    narrow = auth.issue_client_credentials_token(client_id, secret, "secrets:read")

    assert full["token_type"] == "Bearer" and full["expires_in"] == 3600
    assert set(full["scope"].split()) == {"secrets:read", "config:read"}
    claims = auth.decode_jwt_token(narrow["access_token"])
    assert claims["sub"] == client_id and claims["scope"] == "secrets:read"
    assert auth.check(claims, "secrets:read", "x") and not auth.check(claims, "config:read")


def test_client_credentials_refusals(auth: AuthManager) -> None:
    client_id, secret = auth.register_client("ci", ["secrets:read"])

    with pytest.raises(InvalidScope):
        auth.issue_client_credentials_token(client_id, secret, "secrets:read secrets:write")
    with pytest.raises(InvalidScope):
        auth.issue_client_credentials_token(client_id, secret, "*")
    with pytest.raises(InvalidClient):
        auth.issue_client_credentials_token(client_id, secret + "x")
    with pytest.raises(InvalidClient):
        auth.issue_client_credentials_token("evc_unknown", secret)
    with pytest.raises(InvalidClient):
        auth.issue_client_credentials_token(None, None)
