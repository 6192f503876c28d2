"""API keys: create (shown once, copy marked secret), list, revoke, rotate with a grace period."""

from __future__ import annotations

import re
import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui import prompts
from echo_vault_app.gui.clipboard import ClipboardGuard
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.issuer_service import IssuerService
from echo_vault_app.gui.message_bar import MessageBar
from echo_vault_app.gui.messages import describe

_Index = QModelIndex | QPersistentModelIndex
DAY = 86400.0


def split_list(text: str) -> list[str]:
    """Comma- or space-separated words.

    >>> split_list("secrets:read, secrets:write  audit:read")
    ['secrets:read', 'secrets:write', 'audit:read']
    """
    return [part for part in re.split(r"[,\s]+", text) if part]


def _when(seconds: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds)) if seconds else "—"


class ApiKeysModel(QAbstractTableModel):
    """Key records (never a key): prefix, owner, name, grants, dates and state."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list = []
        self._headers = (
            self.tr("Key"),
            self.tr("User"),
            self.tr("Name"),
            self.tr("Permissions"),
            self.tr("Created"),
            self.tr("Expires"),
            self.tr("State"),
        )

    def set_records(self, records: list) -> None:
        self.beginResetModel()
        self._rows = list(records)
        self.endResetModel()

    def record_at(self, row: int):
        return self._rows[row]

    def row_of(self, key_id: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.key_id == key_id), -1)

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

    def state(self, record) -> str:
        now = time.time()
        if record.revoked_at is not None:
            return self.tr("revoked")
        if record.expires_at is not None and record.expires_at <= now:
            return self.tr("expired")
        if record.rotated_to:
            return self.tr("rotated, valid until %1").replace("%1", _when(record.expires_at))
        return self.tr("active")

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        record = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                record.prefix,
                record.user_id,
                record.name,
                ", ".join(record.permissions),
                _when(record.created_at),
                _when(record.expires_at) if record.expires_at else self.tr("never"),
                self.state(record),
            )[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and self.state(record) != self.tr("active"):
            return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        return None


class ApiKeysTab(QWidget):
    """Create, list, revoke and rotate API keys; a new key is shown until the user hides it."""

    def __init__(
        self, issuer: IssuerService, clipboard: ClipboardGuard, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.issuer = issuer
        self.clipboard = clipboard
        self.message = MessageBar(self)

        self.user_edit = QLineEdit(self)
        self.user_edit.setAccessibleName(self.tr("User"))
        self.user_edit.setPlaceholderText(self.tr("deploy-bot@example.com"))
        self.name_edit = QLineEdit(self)
        self.name_edit.setAccessibleName(self.tr("Key name"))
        self.name_edit.setPlaceholderText(self.tr("CI deploys"))
        self.permissions_edit = QLineEdit(self)
        self.permissions_edit.setAccessibleName(self.tr("Permissions"))
        self.permissions_edit.setPlaceholderText(self.tr("secrets:read, secrets:write:stripe/*"))
        self.expires_check = QCheckBox(self.tr("Expires after"), self)
        self.expires_days = QSpinBox(self)
        self.expires_days.setRange(1, 3650)
        self.expires_days.setValue(90)
        self.expires_days.setSuffix(self.tr(" days"))
        self.expires_days.setAccessibleName(self.tr("Days until the key expires"))
        self.expires_days.setEnabled(False)
        self.expires_check.toggled.connect(self.expires_days.setEnabled)
        self.create_button = QPushButton(icon("add"), self.tr("Create key"), self)
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.create_key)
        self.user_edit.returnPressed.connect(self.create_key)

        self.new_key_frame = QFrame(self)
        self.new_key_frame.setFrameShape(QFrame.Shape.StyledPanel)
        self.new_key_frame.setAutoFillBackground(True)
        self.new_key_frame.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.new_key_label = QLabel(self.new_key_frame)
        self.new_key_label.setWordWrap(True)
        self.new_key_edit = QLineEdit(self.new_key_frame)
        self.new_key_edit.setReadOnly(True)
        self.new_key_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.new_key_edit.setAccessibleName(self.tr("New API key"))
        self.copy_button = QPushButton(icon("copy"), self.tr("Copy"), self.new_key_frame)
        self.copy_button.setAccessibleName(self.tr("Copy the new API key"))
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.hide_button = QPushButton(icon("close"), self.tr("Done"), self.new_key_frame)
        self.hide_button.setAccessibleName(self.tr("Forget the new API key"))
        self.hide_button.clicked.connect(self.forget_new_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.new_key_edit, 1)
        key_row.addWidget(self.copy_button)
        key_row.addWidget(self.hide_button)
        frame_layout = QVBoxLayout(self.new_key_frame)
        frame_layout.addWidget(self.new_key_label)
        frame_layout.addLayout(key_row)
        self.new_key_frame.hide()

        self.model = ApiKeysModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName(self.tr("API keys"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setHighlightSections(False)
        self.revoke_button = QPushButton(icon("trash"), self.tr("Revoke"), self)
        self.revoke_button.setAccessibleName(self.tr("Revoke the selected key"))
        self.revoke_button.clicked.connect(self.revoke_selected)
        self.rotate_button = QPushButton(icon("refresh"), self.tr("Rotate"), self)
        self.rotate_button.setAccessibleName(self.tr("Rotate the selected key"))
        self.rotate_button.clicked.connect(self.rotate_selected)
        self.grace_hours = QSpinBox(self)
        self.grace_hours.setRange(0, 24 * 90)
        self.grace_hours.setValue(24)
        self.grace_hours.setSuffix(self.tr(" h"))
        self.grace_hours.setPrefix(self.tr("old key valid for "))
        self.grace_hours.setAccessibleName(self.tr("Grace period in hours"))

        create_box = QGroupBox(self.tr("New API key"), self)
        form = QFormLayout(create_box)
        form.addRow(self.tr("User"), self.user_edit)
        form.addRow(self.tr("Name"), self.name_edit)
        form.addRow(self.tr("Permissions"), self.permissions_edit)
        expiry = QHBoxLayout()
        expiry.addWidget(self.expires_check)
        expiry.addWidget(self.expires_days)
        expiry.addStretch(1)
        expiry.addWidget(self.create_button)
        form.addRow(self.tr("Expiry"), expiry)
        actions = QHBoxLayout()
        actions.addWidget(self.revoke_button)
        actions.addWidget(self.rotate_button)
        actions.addWidget(self.grace_hours)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(create_box)
        layout.addWidget(self.new_key_frame)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)

    def reload(self) -> None:
        try:
            self.model.set_records(self.issuer.api_keys())
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")
            return
        for column in (0, 1, 2, 4, 5, 6):
            self.table.resizeColumnToContents(column)

    def create_key(self) -> None:
        self.message.hide()
        user = self.user_edit.text().strip()
        if not user:
            self.message.show_message(self.tr("Enter the user the key is for."), kind="error")
            self.user_edit.setFocus()
            return
        expires_in = self.expires_days.value() * DAY if self.expires_check.isChecked() else None
        try:
            key = self.issuer.create_api_key(
                user,
                split_list(self.permissions_edit.text()),
                name=self.name_edit.text().strip(),
                expires_in=expires_in,
            )
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")
            return
        self.show_new_key(key, self.tr("New key for %1.").replace("%1", user))
        self.reload()

    def show_new_key(self, key: str, intro: str) -> None:
        self.new_key_label.setText(
            intro + " " + self.tr("Copy it now: only its hash is kept, it is not shown again.")
        )
        self.new_key_edit.setText(key)
        self.new_key_frame.show()
        self.copy_button.setFocus()

    def forget_new_key(self) -> None:
        self.new_key_edit.clear()
        self.new_key_frame.hide()

    def _on_copy_clicked(self) -> None:
        self.clipboard.copy_secret(self.new_key_edit.text())
        self.message.show_message(self.tr("Copied. The clipboard is cleared shortly."), kind="ok")

    def selected_key_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.record_at(rows[0].row()).key_id if rows else None

    def select(self, key_id: str) -> None:
        row = self.model.row_of(key_id)
        if row >= 0:
            self.table.selectRow(row)

    def revoke_selected(self) -> None:
        key_id = self.selected_key_id()
        if key_id is None:
            self.message.show_message(self.tr("Select a key first."), kind="info")
            return
        if not prompts.confirm(
            self,
            self.tr("Revoke API key"),
            self.tr("Revoke key %1? Clients using it are refused at once.").replace("%1", key_id),
        ):
            return
        try:
            self.issuer.revoke_api_key(key_id)
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")
            return
        self.message.show_message(self.tr("Key %1 revoked.").replace("%1", key_id), kind="ok")
        self.reload()

    def rotate_selected(self) -> None:
        key_id = self.selected_key_id()
        if key_id is None:
            self.message.show_message(self.tr("Select a key first."), kind="info")
            return
        try:
            key = self.issuer.rotate_api_key(key_id, self.grace_hours.value() * 3600.0)
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")
            return
        intro = self.tr("Successor of %1; the old key keeps working for %2 h.")
        intro = intro.replace("%1", key_id).replace("%2", str(self.grace_hours.value()))
        self.show_new_key(key, intro)
        self.reload()
