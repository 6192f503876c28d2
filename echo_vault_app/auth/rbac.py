"""Permissions, roles and the one ``check`` that decides for every kind of principal.

A permission is ``resource:action`` or ``resource:action:resource-glob``:

- ``secrets:read`` grants reading any secret; ``secrets:read:stripe/*`` only secrets whose name
  matches the glob (``*`` matches any run of characters, ``/`` included; nothing else is
  special);
- ``*`` in the resource or action place matches any (``secrets:*``, ``*:read``);
- ``*`` alone grants everything.

The seed's plain words keep their meaning: a permission without a colon is an action on every
resource type, so ``"read"`` means ``*:read`` and ``"write"`` means ``*:write`` (likewise
``"delete"`` → ``*:delete``). ``"admin"`` is not special; grant ``*`` for everything.

A request names a permission ``resource:action`` (no wildcards) and optionally the resource it
acts on. A grant without a glob covers every resource of its type, and a request without a
resource is covered only by grants without a glob, so a narrowly scoped key cannot pass a
check that does not say which resource it touches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from echo_vault_app.auth.errors import InvalidPermission

_WORD = r"[A-Za-z0-9_.\-]+"
_PART = re.compile(rf"\*|{_WORD}")
_GLOB = re.compile(r"[^\s:]{1,256}")


@dataclass(frozen=True, slots=True)
class Grant:
    """One parsed permission grant."""

    resource: str
    action: str
    glob: re.Pattern[str] | None

    def covers(self, resource: str, action: str, target: str | None) -> bool:
        if self.resource != "*" and self.resource != resource:
            return False
        if self.action != "*" and self.action != action:
            return False
        if self.glob is None:
            return True
        return target is not None and self.glob.fullmatch(target) is not None


def normalize_permission(text: str) -> str:
    """Return the canonical form of a grant, mapping the seed's bare words.

    >>> normalize_permission("read")
    '*:read'
    >>> normalize_permission("secrets:read:stripe/*")
    'secrets:read:stripe/*'

    Raises:
        InvalidPermission: the text is not a permission.
    """
    if not isinstance(text, str) or not text or len(text) > 300:
        raise InvalidPermission("a permission must be a non-empty string of at most 300 chars")
    if text == "*":
        return "*"
    parts = text.split(":", 2)
    if len(parts) == 1:
        parts = ["*", parts[0]]
    if not all(_PART.fullmatch(part) for part in parts[:2]):
        raise InvalidPermission(f"permission {text!r} is not resource:action[:resource-glob]")
    if len(parts) == 3 and not _GLOB.fullmatch(parts[2]):
        raise InvalidPermission(f"permission {text!r} has an empty or invalid resource glob")
    return ":".join(parts)


@lru_cache(maxsize=4096)
def parse_grant(text: str) -> Grant:
    """Parse (and cache) one grant."""
    canonical = normalize_permission(text)
    if canonical == "*":
        return Grant("*", "*", None)
    parts = canonical.split(":", 2)
    glob = None
    if len(parts) == 3 and parts[2] != "*":
        glob = re.compile(".*".join(re.escape(piece) for piece in parts[2].split("*")), re.S)
    return Grant(parts[0], parts[1], glob)


def _parse_request(permission: str) -> tuple[str, str]:
    parts = permission.split(":") if isinstance(permission, str) else []
    if len(parts) == 1 and parts[0] and parts[0] != "*":
        parts = ["*", parts[0]]
    if len(parts) != 2 or not all(_PART.fullmatch(part) for part in parts):
        raise InvalidPermission(f"requested permission {permission!r} is not resource:action")
    return parts[0], parts[1]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the same shape whether it came from an API key, a JWT or a session."""

    kind: str
    id: str
    permissions: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    attributes: Mapping[str, object] = field(default_factory=dict)


class RoleBook:
    """Role definitions: a role grants a set of permissions (roles do not nest)."""

    def __init__(self, roles: Mapping[str, Iterable[str]] | None = None) -> None:
        self._roles: dict[str, frozenset[str]] = {}
        for name, permissions in (roles or {}).items():
            self.define(name, permissions)

    def define(self, name: str, permissions: Iterable[str]) -> frozenset[str]:
        """Add or replace a role; every permission is validated first."""
        if not isinstance(name, str) or not re.fullmatch(_WORD, name):
            raise InvalidPermission(f"role name {name!r} is not a simple word")
        grants = frozenset(normalize_permission(p) for p in permissions)
        self._roles[name] = grants
        return grants

    def remove(self, name: str) -> None:
        self._roles.pop(name, None)

    def replace_all(self, roles: Mapping[str, Iterable[str]]) -> None:
        """Swap in a whole new set of definitions at once (used when reloading from storage)."""
        fresh = RoleBook(roles)
        self._roles = fresh._roles

    def permissions_of(self, name: str) -> frozenset[str]:
        """A role's grants; an unknown role grants nothing."""
        return self._roles.get(name, frozenset())

    def as_dict(self) -> dict[str, list[str]]:
        return {name: sorted(grants) for name, grants in sorted(self._roles.items())}


def effective_grants(principal: Principal, roles: RoleBook) -> list[Grant]:
    """Direct permissions plus those of every role the principal holds."""
    texts = set(principal.permissions)
    for role in principal.roles:
        texts |= roles.permissions_of(role)
    return [parse_grant(text) for text in texts]


def check(
    principal: Principal,
    permission: str,
    resource: str | None = None,
    roles: RoleBook | None = None,
) -> bool:
    """True when ``principal`` may perform ``permission`` (on ``resource`` when given).

    Raises:
        InvalidPermission: ``permission`` itself is malformed (a programming error, not a denial).
    """
    wanted_resource, wanted_action = _parse_request(permission)
    grants = effective_grants(principal, roles or RoleBook())
    return any(g.covers(wanted_resource, wanted_action, resource) for g in grants)
