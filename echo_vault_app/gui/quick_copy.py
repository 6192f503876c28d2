"""The quick-copy palette: type a few letters, Enter copies the secret, Ctrl+B the user name.

It is the tray's "Quick copy…" popup and, where the desktop has no tray, the small window
``echo-vault --quick`` opens (bind that command to a desktop shortcut).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from echo_vault_app.errors import UsageError
from echo_vault_app.gui.browser_types import Filter
from echo_vault_app.gui.copier import Copier
from echo_vault_app.gui.icons import app_icon, icon
from echo_vault_app.gui.service import VaultService

MAX_RESULTS = 50
NAME_ROLE = Qt.ItemDataRole.UserRole + 1


class QuickCopyWindow(QWidget):
    """A small always-on-top window; it hides itself after a successful copy."""

    def __init__(self, service: VaultService, copier: Copier, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint)
        self.service = service
        self.copier = copier
        self.setWindowTitle(self.tr("Echo Vault quick copy"))
        self.setWindowIcon(app_icon())
        self.resize(460, 320)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(self.tr("Type to find a secret; Enter copies it"))
        self.search.setAccessibleName(self.tr("Quick copy search"))
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.textChanged.connect(self.refresh)
        self.search.installEventFilter(self)
        self.results = QListWidget(self)
        self.results.setAccessibleName(self.tr("Matching secrets"))
        self.results.setIconSize(QSize(16, 16))
        self.results.setSpacing(1)
        self.results.itemActivated.connect(lambda _item: self.copy_selected())
        self.hint = QLabel(self.tr("Enter: copy secret · Ctrl+B: copy user · Esc: close"), self)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.hide)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.hint)
        service.vault_locked.connect(self._on_service_vault_locked)

    def open_palette(self) -> None:
        self.search.clear()
        self.refresh()
        self.show()
        self.raise_()
        self.activateWindow()
        self.search.setFocus()

    def refresh(self) -> None:
        self.results.clear()
        if not self.service.is_unlocked:
            return
        try:
            rows = self.service.search(Filter(query=self.search.text()))[:MAX_RESULTS]
        except UsageError:
            return
        for summary in rows:
            item = QListWidgetItem(icon("key"), summary.name, self.results)
            item.setData(NAME_ROLE, summary.name)
        if self.results.count():
            self.results.setCurrentRow(0)

    def selected_name(self) -> str | None:
        item = self.results.currentItem()
        return item.data(NAME_ROLE) if item is not None else None

    def copy_selected(self) -> bool:
        name = self.selected_name()
        if name and self.copier.copy_secret(name):
            self.hide()
            return True
        return False

    def copy_selected_user(self) -> bool:
        name = self.selected_name()
        if name and self.copier.copy_username(name):
            self.hide()
            return True
        return False

    def _on_service_vault_locked(self) -> None:
        self.results.clear()
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        ctrl_b = event.type() in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and (
            event.key() == Qt.Key.Key_B and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        )
        if watched is self.search and ctrl_b and event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # Ctrl+B here copies the user name; no window shortcut takes it
            return True
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.copy_selected()
                return True
            if ctrl_b:
                self.copy_selected_user()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
                self.results.setCurrentRow(row)
                return True
        return False
