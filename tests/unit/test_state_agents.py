"""Agent tracking in memory: registration, heartbeats, status, compare-and-set, staleness."""

from __future__ import annotations

import pytest

from echo_vault_app.errors import NotFound, ValidationError, VersionConflict
from echo_vault_app.state import StateManager


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock) -> StateManager:
    return StateManager(clock=clock)


def test_register_and_get(state, clock):
    agent = state.register_agent("agent-1", "sync", {"host": "box"})
    assert (agent.agent_id, agent.kind, agent.meta, agent.status) == (
        "agent-1",
        "sync",
        {"host": "box"},
        "registered",
    )
    assert agent.version == 0 and agent.state == {}
    assert agent.registered_at == agent.last_heartbeat == clock.now
    assert state.get_agent("agent-1") == agent


def test_reregistering_keeps_state_and_version(state, clock):
    state.register_agent("a", "sync")
    state.update_state("a", {"n": 1}, 0)
    clock.now += 50
    again = state.register_agent("a", "backup", {"v": 2})
    assert (again.kind, again.meta, again.version, again.state) == ("backup", {"v": 2}, 1, {"n": 1})
    assert again.registered_at == clock.now - 50
    assert again.last_heartbeat == clock.now


def test_compare_and_set(state):
    state.register_agent("a", "worker")
    assert state.update_state("a", {"step": 1}, 0) == 1
    assert state.update_state("a", {"step": 2}, 1) == 2
    with pytest.raises(VersionConflict, match="version 2, not 1"):
        state.update_state("a", {"step": "lost"}, 1)
    agent = state.get_agent("a")
    assert (agent.version, agent.state) == (2, {"step": 2})


@pytest.mark.parametrize("version", [True, "1", 1.0, None])
def test_expected_version_must_be_an_int(state, version):
    state.register_agent("a", "worker")
    with pytest.raises(ValidationError):
        state.update_state("a", {}, version)


def test_state_document_must_be_json_and_bounded(state):
    state.register_agent("a", "worker")
    with pytest.raises(ValidationError):
        state.update_state("a", {"x": float("nan")}, 0)
    with pytest.raises(ValidationError, match="larger than"):
        state.update_state("a", "x" * (1024 * 1024), 0)
    assert state.get_agent("a").version == 0


def test_stale_agents(state, clock):
    state.register_agent("old", "w")
    clock.now += 100
    state.register_agent("new", "w")
    clock.now += 30
    assert [a.agent_id for a in state.list_stale_agents(60)] == ["old"]
    state.heartbeat("old")
    assert state.list_stale_agents(60) == []
    clock.now += 61
    assert [a.agent_id for a in state.list_stale_agents(60)] == ["new", "old"]
    state.set_status("new", "running")
    assert [a.agent_id for a in state.list_stale_agents(60)] == ["old"]
    with pytest.raises(ValidationError):
        state.list_stale_agents(-1)


def test_status_list_unregister(state):
    state.register_agent("b", "sync")
    state.register_agent("a", "backup")
    state.set_status("a", "error")
    assert state.get_agent("a").status == "error"
    assert [a.agent_id for a in state.list_agents()] == ["a", "b"]
    assert [a.agent_id for a in state.list_agents("sync")] == ["b"]
    state.unregister_agent("a")
    with pytest.raises(NotFound):
        state.get_agent("a")
    for call in (
        lambda: state.heartbeat("a"),
        lambda: state.set_status("a", "idle"),
        lambda: state.update_state("a", {}, 0),
        lambda: state.unregister_agent("a"),
    ):
        with pytest.raises(NotFound):
            call()


@pytest.mark.parametrize("kind", ["", "Upper", "has space", "x" * 33, None])
def test_bad_kind_or_status(state, kind):
    with pytest.raises(ValidationError):
        state.register_agent("a", kind)
    state.register_agent("a", "ok")
    with pytest.raises(ValidationError):
        state.set_status("a", kind)


def test_meta_must_be_an_object(state):
    with pytest.raises(ValidationError):
        state.register_agent("a", "w", ["not", "object"])


def test_audit_trail_has_versions_not_documents(state):
    state.register_agent("a", "w")
    state.heartbeat("a")
    state.set_status("a", "running")
    state.update_state("a", {"secret-ish": "payload"}, 0)
    state.unregister_agent("a")
    events = [(action, target, detail) for _, action, target, detail in state.audit_events]
    assert events == [
        ("agent-register", "a", {"kind": "w"}),
        ("agent-status", "a", {"status": "running"}),
        ("agent-state", "a", {"version": 1}),
        ("agent-unregister", "a", {}),
    ]
    assert "payload" not in repr(state.audit_events)
