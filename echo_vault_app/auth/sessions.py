"""Login sessions with an idle and an absolute expiry, persisted in the store.

A session token is ``evs_<session id>_<secret>``; only ``HMAC-SHA256(stable_key("session-hash"),
id ":" secret)`` is stored. ``last_seen_at`` moves in memory on every use and is written at
most once a minute per session, so the idle timeout can be up to a minute more generous after
a restart than it was in the previous process.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from echo_vault_app.auth.errors import SessionInvalid, UnknownSession
from echo_vault_app.auth.store import AuthStore, Change
from echo_vault_app.errors import UsageError

log = logging.getLogger(__name__)

_TOKEN_RE = re.compile(r"evs_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})")
TOUCH_WRITE_SECONDS = 60.0
DEFAULT_IDLE_SECONDS = 30 * 60.0
DEFAULT_ABSOLUTE_SECONDS = 12 * 3600.0


@dataclass(frozen=True, slots=True)
class Session:
    """A stored session (never the token)."""

    session_id: str
    user_id: str
    method: str
    key_id: str | None
    permissions: tuple[str, ...]
    roles: tuple[str, ...]
    created_at: float
    last_seen_at: float
    idle_timeout: float
    absolute_expires_at: float
    revoked_at: float | None
    secret_hash: str

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["permissions"], doc["roles"] = list(self.permissions), list(self.roles)
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Session:
        fields = dict(doc)
        fields["permissions"], fields["roles"] = tuple(doc["permissions"]), tuple(doc["roles"])
        return cls(**fields)

    def describe(self) -> dict[str, Any]:
        doc = self.to_doc()
        del doc["secret_hash"]
        return doc

    def state(self, now: float) -> str:
        """``active``, ``revoked``, ``expired`` (absolute) or ``idle``."""
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.absolute_expires_at:
            return "expired"
        if now >= self.last_seen_at + self.idle_timeout:
            return "idle"
        return "active"


class SessionService:
    """Creates, validates, lists and revokes sessions."""

    def __init__(self, store: AuthStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._key = store.stable_key("session-hash")
        self._sessions: dict[str, Session] = {}
        self._persisted_seen: dict[str, float] = {}
        self.reload()

    def reload(self) -> None:
        """Re-read sessions from the store; a later use seen only in memory is kept."""
        loaded = {
            sid: Session.from_doc(doc) for sid, doc in self._store.load_all("sessions").items()
        }
        with self._lock:
            persisted = {sid: s.last_seen_at for sid, s in loaded.items()}
            for sid, session in loaded.items():
                mine = self._sessions.get(sid)
                if mine is not None and mine.last_seen_at > session.last_seen_at:
                    loaded[sid] = replace(session, last_seen_at=mine.last_seen_at)
            self._sessions, self._persisted_seen = loaded, persisted

    def _hash(self, session_id: str, secret: str) -> str:
        return hmac.digest(self._key, f"{session_id}:{secret}".encode("ascii"), "sha256").hex()

    def _save(self, session: Session, action: str | None) -> None:
        self._store.write(
            [Change("sessions", session.session_id, session.to_doc())],
            action=action or "auth.session.touch",
            target=session.session_id,
        )
        self._sessions[session.session_id] = session
        self._persisted_seen[session.session_id] = session.last_seen_at

    def _merge(self, session_id: str, action: str, **changes: Any) -> Session:
        """Apply ``changes`` to the stored record inside one transaction, so a revocation or a
        later use written by another process is not overwritten. ``last_seen_at`` only moves
        forward and ``revoked_at`` is kept once set."""

        def update(_: str, doc: dict[str, Any] | None) -> dict[str, Any] | None:
            if doc is None:
                raise UnknownSession(f"no session has id {session_id!r}")
            new = dict(doc)
            if "last_seen_at" in changes:
                new["last_seen_at"] = max(doc["last_seen_at"], changes["last_seen_at"])
            if "revoked_at" in changes and doc.get("revoked_at") is None:
                new["revoked_at"] = changes["revoked_at"]
            return None if new == doc else new

        written = self._store.modify(
            "sessions", [session_id], update, action=action, target=session_id
        )
        session = Session.from_doc(
            written.get(session_id) or self._store.get("sessions", session_id)
        )
        self._sessions[session_id] = session
        self._persisted_seen[session_id] = session.last_seen_at
        return session

    def create(
        self,
        user_id: str,
        *,
        method: str,
        key_id: str | None = None,
        permissions: tuple[str, ...] = (),
        roles: tuple[str, ...] = (),
        idle_timeout: float = DEFAULT_IDLE_SECONDS,
        absolute_timeout: float = DEFAULT_ABSOLUTE_SECONDS,
    ) -> tuple[str, Session]:
        """Open a session; returns the token (shown once) and the record."""
        if not (idle_timeout > 0 and absolute_timeout > 0):
            raise UsageError("session timeouts must be positive numbers of seconds")
        now = self._clock()
        session_id = "".join(secrets.choice("0123456789abcdefghijklmnopqrstuv") for _ in range(16))
        secret = secrets.token_urlsafe(32)
        session = Session(
            session_id,
            user_id,
            method,
            key_id,
            tuple(permissions),
            tuple(roles),
            now,
            now,
            float(idle_timeout),
            now + absolute_timeout,
            None,
            self._hash(session_id, secret),
        )
        with self._lock:
            self._save(session, "auth.session.create")
        log.info("opened session %s", session_id)
        return f"evs_{session_id}_{secret}", session

    def validate(self, token: object) -> Session:
        """Return the live session for ``token`` and mark it used.

        Raises:
            SessionInvalid: with ``reason`` malformed, unknown, revoked, expired or idle.
        """
        match = _TOKEN_RE.fullmatch(token) if isinstance(token, str) and len(token) < 80 else None
        if match is None:
            raise SessionInvalid("the session token is malformed", "malformed")
        session = self._sessions.get(match.group(1))
        if session is None or not hmac.compare_digest(
            self._hash(match.group(1), match.group(2)), session.secret_hash
        ):
            raise SessionInvalid("the session is unknown", "unknown")
        now = self._clock()
        state = session.state(now)
        if state != "active":
            raise SessionInvalid(f"the session is {state}", state)

        session = replace(session, last_seen_at=now)
        with self._lock:
            if now - self._persisted_seen.get(session.session_id, 0.0) >= TOUCH_WRITE_SECONDS:
                stored = self._merge(session.session_id, "auth.session.touch", last_seen_at=now)
                if stored.revoked_at is not None:
                    raise SessionInvalid("the session is revoked", "revoked")
            else:
                self._sessions[session.session_id] = session
        return session

    def get(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise UnknownSession(f"no session has id {session_id!r}")
        return session

    def list(self, user_id: str | None = None, *, include_ended: bool = False) -> list[Session]:
        now = self._clock()
        found = [
            s
            for s in self._sessions.values()
            if user_id in (None, s.user_id) and (include_ended or s.state(now) == "active")
        ]
        return sorted(found, key=lambda s: s.created_at)

    def revoke(self, session_id: str) -> Session:
        with self._lock:
            self.get(session_id)
            session = self._merge(session_id, "auth.session.revoke", revoked_at=self._clock())
        log.info("revoked session %s", session_id)
        return session

    def revoke_user(self, user_id: str) -> int:
        """Revoke every live session of a user; returns how many."""
        ended = [s.session_id for s in self.list(user_id)]
        for session_id in ended:
            self.revoke(session_id)
        return len(ended)
