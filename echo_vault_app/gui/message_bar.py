"""An inline message strip with an optional action button (for "Undo", "Unlock"...).

Used instead of modal boxes for anything that does not need an answer: notices after unlock,
expiring secrets, "moved to trash" with undo, errors of a form.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from echo_vault_app.gui.first_paint import set_enum_props
from echo_vault_app.gui.icons import icon


class MessageBar(QFrame):
    """Shows one message at a time; hidden until :meth:`show_message`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.setAccessibleName(self.tr("Message"))
        self.glyph = QLabel(self)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        set_enum_props(self.text, textInteractionFlags="TextSelectableByMouse")
        self.action = QPushButton(self)
        self.action.setVisible(False)
        self.dismiss = QToolButton(self)
        self.dismiss.setIcon(icon("close"))
        self.dismiss.setAutoRaise(True)
        self.dismiss.setAccessibleName(self.tr("Dismiss message"))
        self.dismiss.clicked.connect(self.hide)
        self._callback: Callable[[], None] | None = None
        self.action.clicked.connect(self._on_action_clicked)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.setSpacing(8)
        layout.addWidget(self.glyph)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.action)
        layout.addWidget(self.dismiss)
        self.hide()

    def show_message(
        self,
        text: str,
        *,
        kind: str = "info",
        action: str | None = None,
        callback: Callable[[], None] | None = None,
        timeout_ms: int = 0,
    ) -> None:
        """Show ``text``; ``kind`` is info, warning or error; ``action`` labels a button."""
        glyph = {"info": "info", "warning": "warning", "error": "warning", "ok": "check"}[kind]
        self.glyph.setPixmap(icon(glyph).pixmap(QSize(18, 18)))
        self.text.setText(text)
        self.setAccessibleDescription(text)
        self._callback = callback
        self.action.setText(action or "")
        self.action.setVisible(bool(action))
        self.show()
        if timeout_ms:
            self._timer.start(timeout_ms)
        else:
            self._timer.stop()

    def message(self) -> str:
        return self.text.text() if not self.isHidden() else ""

    def _on_action_clicked(self) -> None:
        callback, self._callback = self._callback, None
        self.hide()
        if callback is not None:
            callback()
