"""Environment variables and default locations.

Read once per call rather than at import time, so tests and long-running processes see the
environment as it is when a vault is opened.
"""

from __future__ import annotations

import os
import sys
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
    xdg = _xdg_data_home()
    if xdg is not None:
        return xdg / APP_NAME / "vault"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "vault"


def _xdg_data_home() -> Path | None:
    """The XDG data folder on Linux and the BSDs, as platformdirs finds it, without its import.

    Importing platformdirs (and the tempfile, shutil and random modules it pulls in) costs
    every CLI call about 6 ms; the XDG rule it applies here is two lines. Other platforms, and
    a home folder that is not an absolute path, are left to platformdirs.
    """
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    configured = os.environ.get("XDG_DATA_HOME", "")
    if os.path.isabs(configured):
        return Path(configured)
    home = os.path.expanduser("~")
    return Path(home, ".local", "share") if os.path.isabs(home) else None


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
