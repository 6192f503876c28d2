"""The audit actor of one request, without touching other threads' actors.

The library records audit events under ``vault.audit.actor``, one value for the whole vault.
The API serves many clients at once from worker threads (and, inside the desktop app, shares
the vault with the GUI), so setting that attribute per request would mislabel events written
concurrently by others. Instead the vault's trail is given a context-local override: inside
:func:`acting_as` events of *this thread's* call carry the client's identity, everywhere else
the vault's own actor is used unchanged.

Known shortcoming: this changes the class of the vault's ``AuditTrail`` object at run time,
because the library's trail has no context-local actor of its own yet. Moving the override
into ``echo_vault_app.core.audit`` (a ``ContextVar`` consulted by ``record``) would remove the
swap; behaviour for every other caller is the same either way.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from echo_vault_app.core.audit import AuditTrail

_ACTOR: contextvars.ContextVar[str | None] = contextvars.ContextVar("api_actor", default=None)


class _ScopedActorTrail(AuditTrail):
    """An ``AuditTrail`` whose ``actor`` is the current request's while one is active."""

    @property  # type: ignore[override]
    def actor(self) -> str:
        return _ACTOR.get() or self.__dict__["actor"]

    @actor.setter
    def actor(self, value: str) -> None:
        self.__dict__["actor"] = value


def install(vault: Any) -> None:
    """Let ``vault``'s audit trail take its actor from :func:`acting_as` (idempotent)."""
    trail = vault.audit
    if type(trail) is AuditTrail:
        trail.__class__ = _ScopedActorTrail


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Record every audit event written by this thread inside the block under ``actor``."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def current_actor() -> str | None:
    return _ACTOR.get()
