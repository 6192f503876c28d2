"""Storage, key hierarchy, crypto helpers and the audit trail. No Qt here."""

from echo_vault_app import log as _log  # noqa: F401 (keeps the library silent by default)
