"""A secret's earlier versions, newest first, with restore.

Versions are listed by number, date, type and field names; values stay sealed here. Restoring
makes the chosen version current again and files the current one in history.
"""

from __future__ import annotations

import time

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui import prompts
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.service import VaultService
from echo_vault_app.secrets.model import HistoryEntry


class HistoryDialog(QDialog):
    """Lists versions of ``name``; ``restored`` holds the version restored, if any."""

    def __init__(self, service: VaultService, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.name = name
        self.restored: int | None = None
        self.setWindowTitle(self.tr("History of %1").replace("%1", name))
        self.resize(560, 360)
        self.entries: list[HistoryEntry] = service.history(name)
        intro = QLabel(
            self.tr("%n earlier version(s). Restoring keeps the current one in history.", "",
                    len(self.entries)),
            self,
        )  # fmt: skip
        self.table = QTableWidget(len(self.entries), 4, self)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Version"), self.tr("Saved"), self.tr("Type"), self.tr("Fields")]
        )
        self.table.setAccessibleName(self.tr("Versions"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        for row, entry in enumerate(self.entries):
            saved = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.saved))
            cells = [str(entry.version), saved, entry.template]
            cells.append(", ".join(f.name for f in entry.fields))
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        if self.entries:
            self.table.selectRow(0)
        self.restore_button = QPushButton(icon("undo"), self.tr("Restore this version"), self)
        self.restore_button.setEnabled(bool(self.entries))
        self.restore_button.clicked.connect(self._on_restore_clicked)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.table.setFocus()

    def selected_version(self) -> int | None:
        row = self.table.currentRow()
        return self.entries[row].version if 0 <= row < len(self.entries) else None

    def _on_restore_clicked(self) -> None:
        version = self.selected_version()
        if version is None:
            return
        question = self.tr("Make version %1 of %2 current again?")
        question = question.replace("%1", str(version)).replace("%2", self.name)
        if not prompts.confirm(self, self.tr("Restore version"), question, default=True):
            return
        try:
            self.service.restore_version(self.name, version)
        except EchoVaultError as exc:
            prompts.error(self, self.tr("Not restored"), describe(exc))
            return
        self.restored = version
        self.accept()
