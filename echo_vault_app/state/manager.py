"""``StateManager``: session state, agent state and settings behind one object."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from echo_vault_app.state.agents import Agent, AgentRegistry
from echo_vault_app.state.backend import MemoryBackend, VaultBackend
from echo_vault_app.state.config_store import Settings
from echo_vault_app.state.session_state import SessionState


class StateManager:
    """Session key/value state, agent tracking with compare-and-set, and typed settings.

    Storage: ``StateManager(vault=vault)`` keeps everything in the encrypted vault (tables
    ``state_*``; ``history_depth`` in the secrets store's own setting), each change committed
    together with its audit event, and visible to every process using the vault.
    ``StateManager()`` without a vault keeps everything **in memory for this process only**;
    its audit events are in ``audit_events``.

    Parts: ``sessions`` (``set``/``get``/``delete``/``items``/``clear`` per session id),
    ``config`` (``get``/``set``/``all``/``reset``/``describe``), and the agent methods below
    (also reachable as ``agents``).
    """

    def __init__(self, vault: Any = None, *, clock: Callable[[], float] = time.time) -> None:
        self.backend = VaultBackend(vault) if vault is not None else MemoryBackend()
        self.sessions = SessionState(self.backend, clock)
        self.agents = AgentRegistry(self.backend, clock)
        self.config = Settings(self.backend, clock)

    @property
    def persistent(self) -> bool:
        return self.backend.persistent

    @property
    def audit_events(self) -> list[tuple[float, str, str | None, dict[str, Any]]]:
        """In-memory mode only: ``(time, action, target, detail)`` of committed changes."""
        return list(getattr(self.backend, "events", []))

    # -- agents -----------------------------------------------------------------------------

    def register_agent(self, agent_id: str, kind: str, meta: dict[str, Any] | None = None) -> Agent:
        return self.agents.register(agent_id, kind, meta)

    def heartbeat(self, agent_id: str) -> float:
        return self.agents.heartbeat(agent_id)

    def set_status(self, agent_id: str, status: str) -> None:
        self.agents.set_status(agent_id, status)

    def update_state(self, agent_id: str, new_doc: Any, expected_version: int) -> int:
        """Compare-and-set; raises ``VersionConflict`` when ``expected_version`` is stale."""
        return self.agents.update_state(agent_id, new_doc, expected_version)

    def get_agent(self, agent_id: str) -> Agent:
        return self.agents.get(agent_id)

    def list_agents(self, kind: str | None = None) -> list[Agent]:
        return self.agents.list(kind)

    def list_stale_agents(self, older_than_seconds: float) -> list[Agent]:
        return self.agents.list_stale(older_than_seconds)

    def unregister_agent(self, agent_id: str) -> None:
        self.agents.unregister(agent_id)
