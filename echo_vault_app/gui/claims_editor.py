"""Custom JWT claims, edited as a key/value table or as a JSON object, with validation.

In the table a value is read as JSON when it parses (``42``, ``true``, ``["a"]``) and as a
string otherwise, so ``org_id = 123`` gives a number and ``team = core`` a string. Switching
between the two views carries the claims across; reserved claims are refused in both.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.gui.icons import icon

RESERVED = frozenset({"sub", "iat", "nbf", "exp", "jti", "iss", "aud", "permissions"})


class ClaimsError(ValueError):
    """The claims as typed cannot be used; the message is for people."""


def parse_value(text: str) -> Any:
    """JSON when it parses, else the text itself.

    >>> parse_value("123"), parse_value("core"), parse_value('["a"]')
    (123, 'core', ['a'])
    """
    try:
        return json.loads(text)
    except ValueError:
        return text


class ClaimsEditor(QWidget):
    """:meth:`claims` returns the dict or raises :class:`ClaimsError` saying what is wrong."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels([self.tr("Claim"), self.tr("Value")])
        self.table.setAccessibleName(self.tr("Custom claims"))
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)
        self.json_edit = QPlainTextEdit(self)
        self.json_edit.setAccessibleName(self.tr("Custom claims as JSON"))
        self.json_edit.setPlaceholderText('{"org_id": "123"}')
        self.json_edit.setTabChangesFocus(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.json_edit)
        self.add_button = QPushButton(icon("add"), self.tr("Add claim"), self)
        self.add_button.clicked.connect(lambda: self.add_row())
        self.remove_button = QPushButton(icon("trash"), self.tr("Remove"), self)
        self.remove_button.setAccessibleName(self.tr("Remove selected claim"))
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.as_json = QCheckBox(self.tr("Edit as JSON"), self)
        self.as_json.toggled.connect(self._on_as_json_toggled)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setAccessibleName(self.tr("Claims error"))
        font = self.error.font()
        font.setBold(True)
        self.error.setFont(font)
        self.error.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        row.addWidget(self.as_json)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack, 1)
        layout.addLayout(row)
        layout.addWidget(self.error)

    def add_row(self, key: str = "", value: str = "") -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(key))
        self.table.setItem(row, 1, QTableWidgetItem(value))
        if not key:
            self.table.setCurrentCell(row, 0)
            self.table.editItem(self.table.item(row, 0))

    def _on_remove_clicked(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)

    def set_claims(self, claims: dict[str, Any]) -> None:
        self.table.setRowCount(0)
        for key, value in claims.items():
            self.add_row(key, value if isinstance(value, str) else json.dumps(value))
        self.json_edit.setPlainText(json.dumps(claims, indent=2) if claims else "")

    def claims(self) -> dict[str, Any]:
        """The claims typed so far; shows and raises the first problem found."""
        try:
            result = self._from_json() if self.as_json.isChecked() else self._from_table()
            clash = sorted(RESERVED.intersection(result))
            if clash:
                raise ClaimsError(
                    self.tr("Reserved claims are set by Echo Vault: %1").replace(
                        "%1", ", ".join(clash)
                    )
                )
        except ClaimsError as exc:
            self.error.setText(str(exc))
            self.error.show()
            raise
        self.error.hide()
        return result

    def _from_table(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for row in range(self.table.rowCount()):
            key_item, value_item = self.table.item(row, 0), self.table.item(row, 1)
            key = key_item.text().strip() if key_item else ""
            value = value_item.text() if value_item else ""
            if not key and not value.strip():
                continue
            if not key:
                raise ClaimsError(self.tr("Row %1 has a value but no claim name.").replace(
                    "%1", str(row + 1)))  # fmt: skip
            if key in result:
                raise ClaimsError(self.tr("The claim %1 appears twice.").replace("%1", key))
            result[key] = parse_value(value)
        return result

    def _from_json(self) -> dict[str, Any]:
        text = self.json_edit.toPlainText().strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ClaimsError(
                self.tr("Not valid JSON (line %1, column %2): %3")
                .replace("%1", str(exc.lineno))
                .replace("%2", str(exc.colno))
                .replace("%3", exc.msg)
            ) from None
        if not isinstance(value, dict):
            raise ClaimsError(self.tr('Custom claims must be a JSON object: {"name": value}.'))
        return value

    def _on_as_json_toggled(self, as_json: bool) -> None:
        # Carry the claims across; if the current view does not parse, stay in it.
        self.as_json.blockSignals(True)
        self.as_json.setChecked(not as_json)
        try:
            current = self.claims()
        except ClaimsError:
            self.as_json.blockSignals(False)
            return
        self.as_json.setChecked(as_json)
        self.as_json.blockSignals(False)
        self.set_claims(current)
        self.stack.setCurrentWidget(self.json_edit if as_json else self.table)
        self.add_button.setEnabled(not as_json)
        self.remove_button.setEnabled(not as_json)
