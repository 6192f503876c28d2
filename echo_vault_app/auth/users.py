"""Users and roles: who may log in, with which password, holding which roles and permissions."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from echo_vault_app.auth.errors import InvalidCredentials, UnknownUser
from echo_vault_app.auth.passwords import PasswordHasher
from echo_vault_app.auth.rbac import Principal, RoleBook, normalize_permission
from echo_vault_app.auth.store import AuthStore, Change
from echo_vault_app.errors import Conflict, UsageError

log = logging.getLogger(__name__)

_USER_ID = re.compile(r"[^\s:]{1,256}")


@dataclass(frozen=True, slots=True)
class User:
    """A stored account (the password hash stays inside ``password``)."""

    user_id: str
    roles: tuple[str, ...]
    permissions: tuple[str, ...]
    created_at: float
    password: dict[str, Any] | None
    disabled: bool = False

    def principal(self, kind: str = "user", **attributes: object) -> Principal:
        return Principal(
            kind, self.user_id, frozenset(self.permissions), frozenset(self.roles), attributes
        )

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["roles"], doc["permissions"] = list(self.roles), list(self.permissions)
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> User:
        fields = dict(doc)
        fields["roles"], fields["permissions"] = tuple(doc["roles"]), tuple(doc["permissions"])
        return cls(**fields)

    def describe(self) -> dict[str, Any]:
        doc = self.to_doc()
        doc["has_password"] = doc.pop("password") is not None
        return doc


class UserService:
    """Accounts and role definitions over an ``AuthStore``."""

    def __init__(
        self,
        store: AuthStore,
        hasher: PasswordHasher,
        roles: RoleBook,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._hasher = hasher
        self.roles = roles
        self._clock = clock
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}
        self.reload()

    def reload(self) -> None:
        """Re-read users and role definitions from the store."""
        users = {uid: User.from_doc(d) for uid, d in self._store.load_all("users").items()}
        roles = {name: doc["permissions"] for name, doc in self._store.load_all("roles").items()}
        with self._lock:
            self._users = users
            self.roles.replace_all(roles)

    def _save(self, user: User, action: str) -> None:
        self._store.write(
            [Change("users", user.user_id, user.to_doc())], action=action, target=user.user_id
        )
        self._users[user.user_id] = user

    def create(
        self,
        user_id: str,
        password: str | None = None,
        *,
        roles: Iterable[str] = (),
        permissions: Iterable[str] = (),
    ) -> User:
        """Add an account; a user without a password can only log in with an API key.

        Raises:
            UsageError: bad user id; Conflict: it exists; WeakPassword: password too short.
        """
        if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
            raise UsageError("a user id is 1-256 characters without spaces or colons")
        perms = tuple(normalize_permission(p) for p in permissions)
        hashed = None if password is None else self._hasher.hash(password)
        with self._lock:
            if user_id in self._users:
                raise Conflict(f"user {user_id!r} already exists")
            user = User(user_id, tuple(roles), perms, self._clock(), hashed)
            self._save(user, "auth.user.create")
        log.info("created user %s", user_id)
        return user

    def get(self, user_id: str) -> User:
        user = self._users.get(user_id)
        if user is None:
            raise UnknownUser(f"no user has id {user_id!r}")
        return user

    def find(self, user_id: str) -> User | None:
        return self._users.get(user_id) if isinstance(user_id, str) else None

    def list(self) -> list[User]:
        return sorted(self._users.values(), key=lambda u: u.user_id)

    def set_password(self, user_id: str, password: str) -> None:
        hashed = self._hasher.hash(password)
        with self._lock:
            self._save(replace(self.get(user_id), password=hashed), "auth.user.password")

    def set_grants(
        self,
        user_id: str,
        *,
        roles: Iterable[str] | None = None,
        permissions: Iterable[str] | None = None,
    ) -> User:
        """Replace a user's roles and/or direct permissions."""
        with self._lock:
            user = self.get(user_id)
            if roles is not None:
                user = replace(user, roles=tuple(roles))
            if permissions is not None:
                user = replace(
                    user, permissions=tuple(normalize_permission(p) for p in permissions)
                )
            self._save(user, "auth.user.grants")
        return user

    def delete(self, user_id: str) -> None:
        with self._lock:
            self.get(user_id)
            self._store.write(
                [Change("users", user_id, None)], action="auth.user.delete", target=user_id
            )
            del self._users[user_id]

    def authenticate(self, user_id: str, password: str) -> User:
        """Check a password; unknown users cost the same time as wrong passwords.

        Raises:
            InvalidCredentials: unknown user, no password set, disabled or wrong password.
        """
        user = self.find(user_id)
        stored = None if user is None or user.disabled else user.password
        if not self._hasher.verify(password, stored):
            raise InvalidCredentials("user name or password is wrong")
        return user

    def define_role(self, name: str, permissions: Iterable[str]) -> None:
        with self._lock:
            grants = self.roles.define(name, permissions)
            self._store.write(
                [Change("roles", name, {"permissions": sorted(grants)})],
                action="auth.role.define",
                target=name,
            )

    def delete_role(self, name: str) -> None:
        with self._lock:
            self._store.write([Change("roles", name, None)], action="auth.role.delete", target=name)
            self.roles.remove(name)
