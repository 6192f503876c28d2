"""Copying secrets to the clipboard the careful way.

Every copy is tagged so clipboard managers and OS histories skip it (KDE's password-manager
hint, the macOS concealed type, the Windows history and cloud exclusion formats), and is
cleared after a timeout, on lock and on quit, but only while the clipboard still holds the
value we put there: something the user copied since is never wiped.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QMimeData, QObject, QTimer, Signal
from PySide6.QtGui import QClipboard, QGuiApplication

from echo_vault_app.gui.signals import emit

log = logging.getLogger(__name__)

KDE_HINT = "x-kde-passwordManagerHint"
MAC_CONCEALED = "application/x-nspasteboard-concealed-type"
_WIN = 'application/x-qt-windows-mime;value="%s"'
WIN_EXCLUDE = _WIN % "ExcludeClipboardContentFromMonitorProcessing"
WIN_HISTORY = _WIN % "CanIncludeInClipboardHistory"
WIN_CLOUD = _WIN % "CanUploadToCloudClipboard"
DWORD_ZERO = b"\x00\x00\x00\x00"
DWORD_ONE = b"\x01\x00\x00\x00"
DEFAULT_CLEAR_SECONDS = 10


def secret_mime(text: str) -> QMimeData:
    """Mime data carrying ``text`` and every "do not keep this" marker we know."""
    data = QMimeData()
    data.setText(text)
    data.setData(KDE_HINT, b"secret")
    data.setData(MAC_CONCEALED, b"secret")
    data.setData(WIN_EXCLUDE, DWORD_ONE)
    data.setData(WIN_HISTORY, DWORD_ZERO)
    data.setData(WIN_CLOUD, DWORD_ZERO)
    return data


class ClipboardGuard(QObject):
    """Owns the value we copied and the timer that clears it.

    Args:
        clear_ms: milliseconds until a copied value is cleared (0 keeps it; tests use small
            values).
    """

    copied = Signal(int)  # milliseconds until it is cleared, 0 when it will not be
    cleared = Signal()

    def __init__(self, clear_ms: int = DEFAULT_CLEAR_SECONDS * 1000, parent: QObject | None = None):
        super().__init__(parent)
        self.clear_ms = clear_ms
        self._value: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def clipboard(self) -> QClipboard:
        return QGuiApplication.clipboard()

    def copy_secret(self, text: str) -> None:
        """Put ``text`` on the clipboard, marked as secret, and start the clear timer."""
        self._value = text
        self.clipboard.setMimeData(secret_mime(text), QClipboard.Mode.Clipboard)
        if self.clear_ms > 0:
            self._timer.start(self.clear_ms)
        else:
            self._timer.stop()
        emit(self.copied, self.clear_ms)

    def holds_our_value(self) -> bool:
        if self._value is None:
            return False
        data = self.clipboard.mimeData(QClipboard.Mode.Clipboard)
        return data is not None and data.hasText() and data.text() == self._value

    def remaining_ms(self) -> int:
        return self._timer.remainingTime() if self._timer.isActive() else 0

    def clear_now(self) -> bool:
        """Clear the clipboard if it still holds our value; True when it did."""
        self._timer.stop()
        ours = self.holds_our_value()
        if ours:
            self.clipboard.clear(QClipboard.Mode.Clipboard)
            log.info("cleared copied secret from the clipboard")
        self._value = None
        emit(self.cleared)
        return ours

    def _on_timer_timeout(self) -> None:
        self.clear_now()
