"""One permission decision for API keys, JWT claims, sessions and users: a table of cases."""

from __future__ import annotations

import pytest

from echo_vault_app.auth import AuthManager, Principal
from echo_vault_app.auth.errors import InvalidPermission
from echo_vault_app.auth.passwords import Argon2Params
from echo_vault_app.auth.rbac import normalize_permission

KEY = "rbac-test-key-0123456789-abcdefghijklmnopq"
FAST = Argon2Params(memory_kib=1024, iterations=1, lanes=1)

PRINCIPALS = {
    "seed_rw": ["read", "write"],
    "secrets_all": ["secrets:*"],
    "stripe_reader": ["secrets:read:stripe/*"],
    "admin": ["*"],
    "any_read": ["*:read"],
    "nothing": [],
    "exact": ["secrets:read:db/prod"],
}

# principal, permission, resource, expected
TABLE = [
    ("seed_rw", "read", None, True),
    ("seed_rw", "write", None, True),
    ("seed_rw", "delete", None, False),
    ("seed_rw", "secrets:read", "stripe/live", True),
    ("seed_rw", "secrets:write", None, True),
    ("seed_rw", "apikeys:read", None, True),
    ("seed_rw", "secrets:delete", "x", False),
    ("secrets_all", "secrets:read", None, True),
    ("secrets_all", "secrets:delete", "aws/prod", True),
    ("secrets_all", "apikeys:read", None, False),
    ("secrets_all", "read", None, False),
    ("stripe_reader", "secrets:read", "stripe/live", True),
    ("stripe_reader", "secrets:read", "stripe/test/nested", True),
    ("stripe_reader", "secrets:read", "stripe", False),
    ("stripe_reader", "secrets:read", "aws/stripe/x", False),
    ("stripe_reader", "secrets:read", None, False),
    ("stripe_reader", "secrets:write", "stripe/live", False),
    ("admin", "secrets:delete", "anything", True),
    ("admin", "users:admin", None, True),
    ("admin", "read", None, True),
    ("any_read", "secrets:read", "x", True),
    ("any_read", "config:read", None, True),
    ("any_read", "secrets:write", "x", False),
    ("nothing", "secrets:read", None, False),
    ("nothing", "read", None, False),
    ("exact", "secrets:read", "db/prod", True),
    ("exact", "secrets:read", "db/prod2", False),
    ("exact", "secrets:read", "db/pro", False),
]


@pytest.fixture(scope="module")
def auth() -> AuthManager:
    return AuthManager(secret_key=KEY, password_params=FAST)


def _principals(auth: AuthManager, name: str) -> dict[str, object]:
    """The same grants as an API key, JWT claims, an API-key session and a user."""
    perms = PRINCIPALS[name]
    api_key = auth.generate_api_key(user_id=f"{name}@example.com", permissions=perms)
    claims = auth.decode_jwt_token(auth.create_jwt_token(user_id=name, permissions=perms))
    _, session = auth.login_with_api_key(api_key)
    user_id = f"user-{name}"
    user = auth.users.find(user_id) or auth.create_user(user_id, permissions=perms)
    return {
        "api_key": auth.check_api_key(api_key),
        "jwt": claims,
        "session": session,
        "user": user,
        "principal": Principal("test", name, frozenset(perms)),
    }


@pytest.mark.parametrize(("name", "permission", "resource", "expected"), TABLE)
def test_permission_table(auth, name: str, permission: str, resource, expected: bool) -> None:
    for kind, principal in _principals(auth, name).items():
        assert auth.check(principal, permission, resource) is expected, kind


def test_roles_grant_and_changes_apply_to_password_sessions() -> None:
    auth = AuthManager(secret_key=KEY, password_params=FAST)
    auth.define_role("reader", ["secrets:read"])
    auth.create_user("ann", "correct horse battery", roles=["reader"])
    _, session = auth.login("ann", "correct horse battery")

    assert auth.check(session, "secrets:read", "x")
    assert not auth.check(session, "secrets:write", "x")
    auth.define_role("reader", ["secrets:read", "secrets:write"])
    assert auth.check(session, "secrets:write", "x")
    auth.users.set_grants("ann", roles=[])
    assert not auth.check(session, "secrets:read", "x")


def test_jwt_roles_claim_uses_current_role_definitions() -> None:
    auth = AuthManager(secret_key=KEY, password_params=FAST)
    auth.define_role("ops", ["config:*"])

    claims = auth.decode_jwt_token(auth.create_jwt_token(user_id="bot", roles=["ops"]))

    assert auth.check(claims, "config:write")
    assert not auth.check(claims, "secrets:read")


def test_malformed_grants_in_a_token_are_dropped_not_widened() -> None:
    auth = AuthManager(secret_key=KEY)

    claims = {"sub": "x", "permissions": ["bad grant", 7, None, "secrets:read"]}

    assert auth.check(claims, "secrets:read")
    assert not auth.check(claims, "secrets:write")


def test_refused_api_key_grants_nothing() -> None:
    auth = AuthManager(secret_key=KEY)
    key = auth.generate_api_key(user_id="u", permissions=["*"])
    auth.revoke_api_key(auth.check_api_key(key).record.key_id)

    assert not auth.check(auth.check_api_key(key), "secrets:read")


@pytest.mark.parametrize("bad", ["", "a b", "secrets:", ":read", "a:b:", "x" * 301, "s:r:g lob"])
def test_malformed_permissions_raise(bad: str) -> None:
    with pytest.raises(InvalidPermission):
        normalize_permission(bad)
