"""Secrets, credential templates and backups. No Qt here.

``SecretsManager`` and ``CredentialsStore`` are the calls of the original specification; the
rest of the package is what they are built from.
"""

from echo_vault_app.secrets.credentials import CredentialsStore
from echo_vault_app.secrets.manager import SecretsManager
from echo_vault_app.secrets.model import FieldValue, HistoryEntry, Secret, SecretSummary

__all__ = [
    "CredentialsStore",
    "FieldValue",
    "HistoryEntry",
    "Secret",
    "SecretSummary",
    "SecretsManager",
]
