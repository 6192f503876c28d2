"""Copy a secret's value or user name: the one path the window, the tray and the palette share.

The service fetches the value (audited by the library as a copy) and the clipboard guard marks
and clears it. Failures come back as one-line messages, never as exceptions.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui.clipboard import ClipboardGuard
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.service import VaultService
from echo_vault_app.gui.signals import emit

log = logging.getLogger(__name__)


class Copier(QObject):
    """``copied(name, what, clear_ms)`` on success, ``copy_failed(message)`` otherwise."""

    copied = Signal(str, str, int)
    copy_failed = Signal(str)
    unlock_needed = Signal()

    def __init__(self, service: VaultService, clipboard: ClipboardGuard) -> None:
        super().__init__()
        self.service = service
        self.clipboard = clipboard

    def copy_secret(self, name: str, field: str | None = None) -> bool:
        """Copy the primary field (or ``field``) of ``name``."""
        if not self.service.is_unlocked:
            emit(self.unlock_needed)
            return False
        try:
            value = self.service.copy_value(name, field)
        except EchoVaultError as exc:
            emit(self.copy_failed, describe(exc))
            return False
        self.clipboard.copy_secret(value)
        emit(self.copied, name, field or "secret", self.clipboard.clear_ms)
        return True

    def copy_username(self, name: str) -> bool:
        if not self.service.is_unlocked:
            emit(self.unlock_needed)
            return False
        try:
            value = self.service.copy_username(name)
        except EchoVaultError as exc:
            emit(self.copy_failed, describe(exc))
            return False
        if value is None:
            emit(self.copy_failed, self.tr("%1 has no user name.").replace("%1", name))
            return False
        self.clipboard.copy_secret(value)
        emit(self.copied, name, "username", self.clipboard.clear_ms)
        return True
