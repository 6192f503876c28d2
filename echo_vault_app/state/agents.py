"""Agent state: who is running, when each last said so, and one versioned JSON document each.

``update_state`` is compare-and-set: the caller names the version it read, and the write
happens only if that is still the current one, inside one ``BEGIN IMMEDIATE`` transaction, so
two processes updating the same agent never lose an update — the loser gets
``VersionConflict`` and retries from a fresh read.

Heartbeats are not written to the audit trail: they are liveness, not changes, and an agent
beating every few seconds would bury every real event. The time of the last heartbeat is kept
in the agent's row. Registration, status changes, state updates and removal are audited, with
the new version number but never the document itself.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from echo_vault_app.errors import NotFound, ValidationError, VersionConflict
from echo_vault_app.state.values import check_id, dump_json

MAX_STATE_BYTES = 1024 * 1024
MAX_META_BYTES = 16 * 1024
_WORD = re.compile(r"[a-z][a-z0-9_.-]{0,31}")
_COLUMNS = "agent_id, kind, meta, status, registered, last_heartbeat, version, state, state_updated"


@dataclass(frozen=True)
class Agent:
    agent_id: str
    kind: str
    meta: dict[str, Any]
    status: str
    registered_at: float
    last_heartbeat: float
    version: int
    state: Any
    state_updated_at: float | None

    def describe(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "kind": self.kind,
            "meta": self.meta,
            "status": self.status,
            "registered_at": self.registered_at,
            "last_heartbeat": self.last_heartbeat,
            "version": self.version,
            "state_updated_at": self.state_updated_at,
        }


def _agent(row: Any) -> Agent:
    return Agent(
        row[0], row[1], json.loads(row[2]), row[3], row[4], row[5], row[6], json.loads(row[7]),
        row[8],
    )  # fmt: skip


def _word(value: object, what: str) -> str:
    if not isinstance(value, str) or not _WORD.fullmatch(value):
        raise ValidationError(
            f"{what} must be 1-32 lowercase letters, digits, dots, dashes or underscores"
        )
    return value


class AgentRegistry:
    """Registered agents over one backend."""

    def __init__(self, backend: Any, clock: Callable[[], float] = time.time) -> None:
        self._backend = backend
        self._clock = clock

    def register(self, agent_id: str, kind: str, meta: dict[str, Any] | None = None) -> Agent:
        """Add an agent, or refresh kind and meta of a returning one (its state is kept).

        Raises:
            ValidationError: bad id, kind or meta.
        """
        check_id(agent_id, "agent id")
        _word(kind, "agent kind")
        if meta is not None and not isinstance(meta, dict):
            raise ValidationError("agent meta must be a JSON object")
        meta_text = dump_json(meta or {}, "agent meta", MAX_META_BYTES)
        now = self._clock()

        with self._backend.transaction() as tx:
            tx.execute(
                "INSERT INTO state_agents (agent_id, kind, meta, status, registered,"
                " last_heartbeat) VALUES (?, ?, ?, 'registered', ?, ?)"
                " ON CONFLICT (agent_id) DO UPDATE SET kind = excluded.kind,"
                " meta = excluded.meta, last_heartbeat = excluded.last_heartbeat",
                (agent_id, kind, meta_text, now, now),
            )
            self._backend.record(tx, "agent-register", agent_id, {"kind": kind})
            return self._get(tx, agent_id)

    def _get(self, conn: Any, agent_id: str) -> Agent:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM state_agents WHERE agent_id = ?", (agent_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no agent is registered as {agent_id!r}")
        return _agent(row)

    def get(self, agent_id: str) -> Agent:
        with self._backend.read() as conn:
            return self._get(conn, agent_id)

    def heartbeat(self, agent_id: str) -> float:
        """Record that the agent is alive now; returns the time written."""
        now = self._clock()
        with self._backend.transaction() as tx:
            if not tx.execute(
                "UPDATE state_agents SET last_heartbeat = ? WHERE agent_id = ?", (now, agent_id)
            ).rowcount:
                raise NotFound(f"no agent is registered as {agent_id!r}")
        return now

    def set_status(self, agent_id: str, status: str) -> None:
        """Set a short status word (``running``, ``idle``, ``error``...); counts as a heartbeat."""
        _word(status, "agent status")
        now = self._clock()
        with self._backend.transaction() as tx:
            if not tx.execute(
                "UPDATE state_agents SET status = ?, last_heartbeat = ? WHERE agent_id = ?",
                (status, now, agent_id),
            ).rowcount:
                raise NotFound(f"no agent is registered as {agent_id!r}")
            self._backend.record(tx, "agent-status", agent_id, {"status": status})

    def update_state(self, agent_id: str, new_doc: Any, expected_version: int) -> int:
        """Replace the agent's state document if its version is still ``expected_version``.

        Returns:
            The new version (``expected_version + 1``).

        Raises:
            VersionConflict: someone else wrote first; read again and retry.
            NotFound: no such agent.
            ValidationError: the document is not JSON or larger than 1 MiB.
        """
        if isinstance(expected_version, bool) or not isinstance(expected_version, int):
            raise ValidationError("expected_version must be a whole number")
        text = dump_json(new_doc, "agent state", MAX_STATE_BYTES)
        now = self._clock()

        with self._backend.transaction() as tx:
            row = tx.execute(
                "SELECT version FROM state_agents WHERE agent_id = ?", (agent_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"no agent is registered as {agent_id!r}")
            if row[0] != expected_version:
                raise VersionConflict(
                    f"agent {agent_id!r} state is at version {row[0]}, not {expected_version}"
                )
            version = expected_version + 1
            tx.execute(
                "UPDATE state_agents SET state = ?, version = ?, state_updated = ?,"
                " last_heartbeat = ? WHERE agent_id = ?",
                (text, version, now, now, agent_id),
            )
            self._backend.record(tx, "agent-state", agent_id, {"version": version})
        return version

    def list(self, kind: str | None = None) -> list[Agent]:
        sql = f"SELECT {_COLUMNS} FROM state_agents"
        args: tuple[Any, ...] = ()
        if kind is not None:
            sql, args = sql + " WHERE kind = ?", (kind,)
        with self._backend.read() as conn:
            rows = conn.execute(sql + " ORDER BY agent_id", args).fetchall()
        return [_agent(row) for row in rows]

    def list_stale(self, older_than_seconds: float) -> list[Agent]:
        """Agents whose last heartbeat is more than ``older_than_seconds`` ago, oldest first."""
        if isinstance(older_than_seconds, bool) or not isinstance(older_than_seconds, int | float):
            raise ValidationError("older_than_seconds must be a number")
        if not older_than_seconds >= 0:
            raise ValidationError("older_than_seconds must be zero or more")
        cutoff = self._clock() - older_than_seconds
        with self._backend.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM state_agents WHERE last_heartbeat < ?"
                " ORDER BY last_heartbeat",
                (cutoff,),
            ).fetchall()
        return [_agent(row) for row in rows]

    def unregister(self, agent_id: str) -> None:
        with self._backend.transaction() as tx:
            if not tx.execute("DELETE FROM state_agents WHERE agent_id = ?", (agent_id,)).rowcount:
                raise NotFound(f"no agent is registered as {agent_id!r}")
            self._backend.record(tx, "agent-unregister", agent_id, {})
