"""Settings in memory: defaults, parsing, bounds, reset, describe, and the env default."""

from __future__ import annotations

import pytest

from echo_vault_app.errors import ValidationError
from echo_vault_app.state import SETTINGS, StateManager


@pytest.fixture
def config():
    return StateManager().config


def test_defaults(config, monkeypatch):
    monkeypatch.delenv("ECHO_VAULT_TOKEN_EXPIRY_HOURS", raising=False)
    assert config.all() == {
        "auto_lock_minutes": 5,
        "clipboard_clear_seconds": 10,
        "token_expiry_hours": 24.0,
        "history_depth": 10,
        "keyring_enabled": True,
        "theme": "system",
    }


@pytest.mark.parametrize(
    ("env", "expected"), [("12", 12.0), ("0.5", 0.5), ("0", 24.0), ("abc", 24.0), ("9000", 24.0)]
)
def test_token_expiry_default_follows_the_environment(config, monkeypatch, env, expected):
    monkeypatch.setenv("ECHO_VAULT_TOKEN_EXPIRY_HOURS", env)
    assert config.get("token_expiry_hours") == expected


@pytest.mark.parametrize(
    ("name", "given", "stored"),
    [
        ("auto_lock_minutes", 0, 0),
        ("auto_lock_minutes", "1440", 1440),
        ("auto_lock_minutes", 15.0, 15),
        ("clipboard_clear_seconds", " 600 ", 600),
        ("token_expiry_hours", "0.25", 0.25),
        ("token_expiry_hours", 8760, 8760.0),
        ("history_depth", "0", 0),
        ("history_depth", 1000, 1000),
        ("keyring_enabled", "off", False),
        ("keyring_enabled", "YES", True),
        ("keyring_enabled", False, False),
        ("theme", "Dark", "dark"),
    ],
)
def test_set_parses_and_stores(config, name, given, stored):
    assert config.set(name, given) == stored
    assert config.get(name) == stored
    assert type(config.get(name)) is type(stored)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("auto_lock_minutes", -1),
        ("auto_lock_minutes", 1441),
        ("auto_lock_minutes", 2.5),
        ("auto_lock_minutes", True),
        ("auto_lock_minutes", "five"),
        ("clipboard_clear_seconds", 601),
        ("token_expiry_hours", 0),
        ("token_expiry_hours", 8760.5),
        ("token_expiry_hours", "nan"),
        ("token_expiry_hours", float("inf")),
        ("history_depth", 1001),
        ("keyring_enabled", "maybe"),
        ("keyring_enabled", 1),
        ("theme", "blue"),
        ("theme", None),
        ("no_such_setting", 1),
    ],
)
def test_bad_values_are_refused_with_one_line_and_nothing_changes(config, name, value):
    before = config.all()
    with pytest.raises(ValidationError) as info:
        config.set(name, value)
    message = str(info.value)
    assert "\n" not in message and name in message
    assert config.all() == before


def test_reset_goes_back_to_default(config):
    config.set("clipboard_clear_seconds", 30)
    assert config.reset("clipboard_clear_seconds") == 10
    assert config.get("clipboard_clear_seconds") == 10


def test_describe_covers_every_setting(config):
    config.set("theme", "light")
    described = {d["name"]: d for d in config.describe()}
    assert set(described) == set(SETTINGS)
    lock = described["auto_lock_minutes"]
    assert (lock["type"], lock["default"], lock["minimum"], lock["maximum"]) == ("int", 5, 0, 1440)
    assert "0 turns auto-lock off" in lock["help"]
    assert described["theme"]["choices"] == ["system", "light", "dark"]
    assert described["theme"]["value"] == "light"


def test_changes_are_audited_with_name_and_value():
    state = StateManager()
    state.config.set("auto_lock_minutes", "7")
    state.config.reset("auto_lock_minutes")
    state.config.reset("auto_lock_minutes")
    events = [(action, target, detail) for _, action, target, detail in state.audit_events]
    assert events == [
        ("config-set", "auto_lock_minutes", {"value": 7}),
        ("config-reset", "auto_lock_minutes", {"value": 5}),
    ]


def test_unusable_stored_value_reads_as_default(config):
    with config._backend.transaction() as tx:
        tx.execute(
            "INSERT INTO state_settings (name, value, updated)"
            " VALUES ('auto_lock_minutes', '99999', 0)"
        )
    assert config.get("auto_lock_minutes") == 5
    assert config.all()["auto_lock_minutes"] == 5
