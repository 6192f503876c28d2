"""Environment variables and default locations.

Read once per call rather than at import time, so tests and long-running processes see the
environment as it is when a vault is opened.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "echo-vault"

ENV_MASTER_KEY = "ECHO_VAULT_MASTER_KEY"
ENV_SECRET_KEY = "ECHO_VAULT_SECRET_KEY"
ENV_TOKEN_EXPIRY_HOURS = "ECHO_VAULT_TOKEN_EXPIRY_HOURS"
ENV_ENABLE_AUDIT = "ECHO_VAULT_ENABLE_AUDIT"
ENV_LOG_LEVEL = "ECHO_VAULT_LOG_LEVEL"
ENV_PATH = "ECHO_VAULT_PATH"
ENV_REQUIRE_REAL_KEYRING = "ECHO_VAULT_REQUIRE_REAL_KEYRING"
ENV_NO_KEYRING = "ECHO_VAULT_NO_KEYRING"


def default_vault_path() -> Path:
    """The vault folder: ``ECHO_VAULT_PATH`` or the platform's user data folder."""
    configured = os.environ.get(ENV_PATH)
    if configured:
        return Path(configured).expanduser()
    import platformdirs  # only when ECHO_VAULT_PATH is unset: it costs a CLI call ~10 ms

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "vault"


def env_flag(name: str, default: bool) -> bool:
    """Parse a boolean environment variable the way shell users write them."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() not in {"0", "false", "no", "off"}


def audit_enabled() -> bool:
    return env_flag(ENV_ENABLE_AUDIT, True)


def token_expiry_hours() -> float:
    raw = os.environ.get(ENV_TOKEN_EXPIRY_HOURS, "24")
    try:
        hours = float(raw)
    except ValueError:
        return 24.0
    return hours if hours > 0 else 24.0
