"""Session state in memory: JSON round trips, limits, deletion, and audit without values."""

from __future__ import annotations

import pytest

from echo_vault_app.errors import NotFound, ValidationError
from echo_vault_app.state import StateManager
from echo_vault_app.state.session_state import MAX_KEYS_PER_SESSION, MAX_VALUE_BYTES


@pytest.fixture
def state() -> StateManager:
    return StateManager()


@pytest.mark.parametrize(
    "value",
    [0, -1.5, "text", "ünïcode ✓", None, True, [], {}, {"a": [1, {"b": None}]}, [1, "2", 3.0]],
)
def test_json_values_round_trip(state, value):
    state.sessions.set("s1", "k", value)
    assert state.sessions.get("s1", "k") == value


def test_sessions_are_separate_and_items_lists_one(state):
    state.sessions.set("s1", "a", 1)
    state.sessions.set("s1", "b", 2)
    state.sessions.set("s2", "a", "other")
    assert state.sessions.items("s1") == {"a": 1, "b": 2}
    assert state.sessions.items("s2") == {"a": "other"}
    assert state.sessions.sessions() == {"s1": 2, "s2": 1}


def test_overwrite_delete_and_clear(state):
    state.sessions.set("s", "k", 1)
    state.sessions.set("s", "k", 2)
    assert state.sessions.get("s", "k") == 2
    assert state.sessions.delete("s", "k") is True
    assert state.sessions.delete("s", "k") is False
    with pytest.raises(NotFound):
        state.sessions.get("s", "k")
    assert state.sessions.get("s", "k", "fallback") == "fallback"
    state.sessions.set("s", "x", 1)
    state.sessions.set("s", "y", 1)
    assert state.sessions.clear("s") == 2
    assert state.sessions.items("s") == {}


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), {1, 2}, b"bytes", object(), {"k": float("-inf")}]
)
def test_non_json_values_are_refused_and_nothing_is_written(state, value):
    with pytest.raises(ValidationError) as info:
        state.sessions.set("s", "k", value)
    assert "\n" not in str(info.value)
    assert state.sessions.items("s") == {}


@pytest.mark.parametrize("session_id", ["", "   ", "a" * 201, "bad\nid", 7, None])
def test_bad_session_ids_are_refused(state, session_id):
    with pytest.raises(ValidationError):
        state.sessions.set(session_id, "k", 1)


@pytest.mark.parametrize("key", ["", "k" * 257, "tab\tkey", 3])
def test_bad_keys_are_refused(state, key):
    with pytest.raises(ValidationError):
        state.sessions.set("s", key, 1)


def test_value_size_limit(state):
    state.sessions.set("s", "ok", "x" * (MAX_VALUE_BYTES - 2))
    with pytest.raises(ValidationError, match="larger than"):
        state.sessions.set("s", "big", "x" * (MAX_VALUE_BYTES - 1))
    assert "big" not in state.sessions.items("s")


def test_key_count_limit_allows_overwrites_but_not_new_keys(state):
    for i in range(MAX_KEYS_PER_SESSION):
        state.sessions.set("s", f"k{i}", i)
    with pytest.raises(ValidationError, match="at most"):
        state.sessions.set("s", "one-more", 1)
    state.sessions.set("s", "k0", "replaced")
    assert state.sessions.get("s", "k0") == "replaced"
    state.sessions.set("other", "k", 1)


def test_audit_names_the_key_never_the_value(state):
    state.sessions.set("s", "api-token", "value-that-must-not-leak")
    state.sessions.delete("s", "api-token")
    state.sessions.set("s", "a", 1)
    state.sessions.clear("s")
    events = [(action, target, detail) for _, action, target, detail in state.audit_events]
    assert events == [
        ("state-set", "s", {"key": "api-token"}),
        ("state-delete", "s", {"key": "api-token"}),
        ("state-set", "s", {"key": "a"}),
        ("state-clear", "s", {"keys": 1}),
    ]
    assert "value-that-must-not-leak" not in repr(state.audit_events)


def test_refused_write_is_not_audited(state):
    with pytest.raises(ValidationError):
        state.sessions.set("s", "k", float("nan"))
    assert state.audit_events == []
    assert state.persistent is False
