"""Secrets, credential templates and backups. No Qt here.

``SecretsManager`` and ``CredentialsStore`` are the calls of the original specification; the
rest of the package is what they are built from. The names below are imported on first use, so
a command that needs only the data model (the CLI's output, say) does not pay for the manager,
templates, rotation and backup modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from echo_vault_app import log as _log  # noqa: F401 (keeps the library silent by default)

if TYPE_CHECKING:
    from echo_vault_app.secrets.credentials import CredentialsStore
    from echo_vault_app.secrets.manager import SecretsManager
    from echo_vault_app.secrets.model import FieldValue, HistoryEntry, Secret, SecretSummary

_HOMES = {
    "CredentialsStore": "echo_vault_app.secrets.credentials",
    "SecretsManager": "echo_vault_app.secrets.manager",
    "FieldValue": "echo_vault_app.secrets.model",
    "HistoryEntry": "echo_vault_app.secrets.model",
    "Secret": "echo_vault_app.secrets.model",
    "SecretSummary": "echo_vault_app.secrets.model",
}

__all__ = [
    "CredentialsStore",
    "FieldValue",
    "HistoryEntry",
    "Secret",
    "SecretSummary",
    "SecretsManager",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
