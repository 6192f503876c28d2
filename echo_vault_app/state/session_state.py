"""Per-session key/value state: what a desktop or API session wants back after a restart.

Values are JSON. The audit trail records which key of which session changed, never the value.
Limits keep one runaway client from filling the vault: a value is at most 64 KiB as JSON and a
session holds at most 1,000 keys.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from echo_vault_app.errors import NotFound, ValidationError
from echo_vault_app.state.values import check_id, check_key, dump_json

log = logging.getLogger(__name__)

MAX_VALUE_BYTES = 64 * 1024
MAX_KEYS_PER_SESSION = 1000
_MISSING = object()


class SessionState:
    """``set``/``get``/``delete``/``items``/``clear`` on one backend, keyed by session id."""

    def __init__(self, backend: Any, clock: Callable[[], float] = time.time) -> None:
        self._backend = backend
        self._clock = clock

    def set(self, session_id: str, key: str, value: Any) -> None:
        """Store ``value`` (any JSON) under ``key``.

        Raises:
            ValidationError: bad id or key, non-JSON or oversized value, or the session is full.
        """
        check_id(session_id, "session id")
        check_key(key)
        text = dump_json(value, "a session state value", MAX_VALUE_BYTES)

        with self._backend.transaction() as tx:
            exists = tx.execute(
                "SELECT 1 FROM state_session_values WHERE session_id = ? AND key = ?",
                (session_id, key),
            ).fetchone()
            if exists is None:
                count = tx.execute(
                    "SELECT count(*) FROM state_session_values WHERE session_id = ?",
                    (session_id,),
                ).fetchone()[0]
                if count >= MAX_KEYS_PER_SESSION:
                    raise ValidationError(
                        f"a session holds at most {MAX_KEYS_PER_SESSION} keys; delete some first"
                    )
            tx.execute(
                "INSERT INTO state_session_values (session_id, key, value, updated)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (session_id, key)"
                " DO UPDATE SET value = excluded.value, updated = excluded.updated",
                (session_id, key, text, self._clock()),
            )
            self._backend.record(tx, "state-set", session_id, {"key": key})
        log.debug("stored session state key for session %s", session_id)

    def get(self, session_id: str, key: str, default: Any = _MISSING) -> Any:
        """The stored value; ``default`` if given and nothing is stored, else ``NotFound``."""
        with self._backend.read() as conn:
            row = conn.execute(
                "SELECT value FROM state_session_values WHERE session_id = ? AND key = ?",
                (session_id, key),
            ).fetchone()
        if row is None:
            if default is _MISSING:
                raise NotFound(f"session {session_id!r} has no state key {key!r}")
            return default
        return json.loads(row[0])

    def delete(self, session_id: str, key: str) -> bool:
        """Remove one key; returns whether it existed (deleting nothing is not an error)."""
        with self._backend.transaction() as tx:
            gone = tx.execute(
                "DELETE FROM state_session_values WHERE session_id = ? AND key = ?",
                (session_id, key),
            ).rowcount
            if gone:
                self._backend.record(tx, "state-delete", session_id, {"key": key})
        return bool(gone)

    def items(self, session_id: str) -> dict[str, Any]:
        """Every key and value of one session."""
        with self._backend.read() as conn:
            rows = conn.execute(
                "SELECT key, value FROM state_session_values WHERE session_id = ? ORDER BY key",
                (session_id,),
            ).fetchall()
        return {key: json.loads(value) for key, value in rows}

    def clear(self, session_id: str) -> int:
        """Drop every key of a session; returns how many there were."""
        with self._backend.transaction() as tx:
            gone = tx.execute(
                "DELETE FROM state_session_values WHERE session_id = ?", (session_id,)
            ).rowcount
            if gone:
                self._backend.record(tx, "state-clear", session_id, {"keys": gone})
        return gone

    def sessions(self) -> dict[str, int]:
        """Session ids that hold state, with how many keys each."""
        with self._backend.read() as conn:
            rows = conn.execute(
                "SELECT session_id, count(*) FROM state_session_values"
                " GROUP BY session_id ORDER BY session_id"
            ).fetchall()
        return dict(rows)
