"""The audit log viewer: a filterable table of events and a "Verify chain" action.

The newest events are loaded (up to ``LOAD_LIMIT``) and filtered in memory by action, target
and free text. Verification walks the whole chain in the library and, when it breaks, selects
and names the first bad row.
"""

from __future__ import annotations

import json
import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.core.audit import AuditEvent
from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.message_bar import MessageBar
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.service import VaultService

LOAD_LIMIT = 20_000
_Index = QModelIndex | QPersistentModelIndex


class AuditTableModel(QAbstractTableModel):
    """Audit events, newest first; never holds a value (the trail has none)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[AuditEvent] = []
        self._headers = (
            self.tr("#"),
            self.tr("Time"),
            self.tr("Actor"),
            self.tr("Action"),
            self.tr("Target"),
            self.tr("Outcome"),
            self.tr("Detail"),
        )

    def set_events(self, events: list[AuditEvent]) -> None:
        self.beginResetModel()
        self._rows = events
        self.endResetModel()

    def event_at(self, row: int) -> AuditEvent:
        return self._rows[row]

    def row_of_seq(self, seq: int) -> int:
        return next((i for i, e in enumerate(self._rows) if e.seq == seq), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt API)
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:  # noqa: N802
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self._headers)
        ):
            return self._headers[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        if not 0 <= index.row() < len(self._rows):
            return None
        event = self._rows[index.row()]
        return event_cells(event)[index.column()]


def event_cells(event: AuditEvent) -> tuple[str, ...]:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.ts))
    detail = json.dumps(event.detail, sort_keys=True) if event.detail else ""
    return (
        str(event.seq),
        when,
        event.actor,
        event.action,
        event.target or "",
        event.outcome,
        detail,
    )


class AuditPane(QWidget):
    """Filter fields above the table; Verify chain at the top right."""

    def __init__(self, service: VaultService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self._events: list[AuditEvent] = []
        self.action_box = QComboBox(self)
        self.action_box.setAccessibleName(self.tr("Action filter"))
        self.action_box.currentIndexChanged.connect(self.apply_filter)
        self.target_edit = QLineEdit(self)
        self.target_edit.setPlaceholderText(self.tr("Target"))
        self.target_edit.setAccessibleName(self.tr("Target filter"))
        self.target_edit.textChanged.connect(self.apply_filter)
        self.text_edit = QLineEdit(self)
        self.text_edit.setPlaceholderText(self.tr("Any text"))
        self.text_edit.setAccessibleName(self.tr("Text filter"))
        self.text_edit.setClearButtonEnabled(True)
        self.text_edit.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.text_edit.textChanged.connect(self.apply_filter)
        self.refresh_button = QPushButton(icon("refresh"), self.tr("Refresh"), self)
        self.refresh_button.clicked.connect(self.reload)
        self.verify_button = QPushButton(icon("audit"), self.tr("Verify chain"), self)
        self.verify_button.setAccessibleName(self.tr("Verify audit chain"))
        self.verify_button.clicked.connect(self.verify)
        self.message = MessageBar(self)
        self.model = AuditTableModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName(self.tr("Audit events"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate((50, 150, 110, 110, 220, 70)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(column, width)
        self.count_label = QLabel(self)

        filters = QHBoxLayout()
        filters.addWidget(self.action_box)
        filters.addWidget(self.target_edit)
        filters.addWidget(self.text_edit, 1)
        filters.addWidget(self.refresh_button)
        filters.addWidget(self.verify_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(filters)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)
        self.setFocusProxy(self.text_edit)

        service.vault_unlocked.connect(self.reload)
        service.secrets_changed.connect(self._on_service_secrets_changed)
        service.vault_locked.connect(self._on_service_vault_locked)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        self.reload()
        super().showEvent(event)

    def reload(self) -> None:
        if not self.service.is_unlocked or not self.isVisible():
            return
        try:
            self._events = self.service.audit_events(limit=LOAD_LIMIT)
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")
            return
        chosen = self.action_box.currentData()
        self.action_box.blockSignals(True)
        self.action_box.clear()
        self.action_box.addItem(self.tr("All actions"), None)
        for action in sorted({e.action for e in self._events}):
            self.action_box.addItem(action, action)
        self.action_box.setCurrentIndex(max(0, self.action_box.findData(chosen)))
        self.action_box.blockSignals(False)
        self.apply_filter()

    def apply_filter(self) -> None:
        action = self.action_box.currentData()
        target = self.target_edit.text().strip().casefold()
        text = self.text_edit.text().strip().casefold()
        rows = [
            e
            for e in self._events
            if (action is None or e.action == action)
            and (not target or target in (e.target or "").casefold())
            and (not text or text in " ".join(event_cells(e)).casefold())
        ]
        self.model.set_events(rows)
        shown = self.tr("%1 of %2 loaded events").replace("%1", f"{len(rows):,}")
        self.count_label.setText(shown.replace("%2", f"{len(self._events):,}"))

    def verify(self) -> bool:
        """Check the whole chain; on a break, select the first bad row and say which."""
        try:
            result = self.service.audit_verify()
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")
            return False
        if result.ok:
            text = self.tr("Audit trail intact: %1 events verified.")
            self.message.show_message(text.replace("%1", f"{result.checked:,}"), kind="ok")
            return True
        text = self.tr("Audit trail broken at event %1: %2.")
        text = text.replace("%1", str(result.first_bad_seq)).replace("%2", result.reason)
        self.message.show_message(text, kind="error")
        self.action_box.setCurrentIndex(0)
        self.target_edit.clear()
        self.text_edit.clear()
        row = self.model.row_of_seq(result.first_bad_seq or -1)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))
        return False

    def _on_service_secrets_changed(self) -> None:
        if self.isVisible():
            self.reload()

    def _on_service_vault_locked(self) -> None:
        self._events = []
        self.model.set_events([])
        self.message.hide()
