"""The details panel: one secret's metadata and fields, secret fields masked.

Non-secret fields (user names, URLs) are shown as stored. Secret fields show dots until their
eye button is pressed, which asks the service for that one value (audited as a reveal); every
revealed value is masked again when the selection changes or the vault locks.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui.browser_types import FieldView, SecretDetails
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.service import VaultService
from echo_vault_app.gui.signals import emit

MASK = "\u2022" * 10


class FieldRow(QWidget):
    """Value, reveal toggle (secret fields only) and copy button for one field."""

    copy_requested = Signal(str)

    def __init__(self, panel: DetailsPanel, view: FieldView) -> None:
        super().__init__(panel)
        self.panel = panel
        self.view = view
        self.value = QLineEdit(self)
        self.value.setReadOnly(True)
        self.value.setAccessibleName(view.label)
        if view.secret or view.kind in ("password", "multiline"):
            self.value.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.reveal = QToolButton(self)
        self.reveal.setCheckable(True)
        self.reveal.setIcon(icon("eye"))
        self.reveal.setAccessibleName(self.tr("Reveal %1").replace("%1", view.label))
        self.reveal.setToolTip(self.tr("Show or hide"))
        self.reveal.setVisible(view.secret)
        self.reveal.toggled.connect(self._on_reveal_toggled)
        self.copy = QToolButton(self)
        self.copy.setIcon(icon("copy"))
        self.copy.setAccessibleName(self.tr("Copy %1").replace("%1", view.label))
        self.copy.setToolTip(self.tr("Copy"))
        self.copy.clicked.connect(lambda: emit(self.copy_requested, view.name))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.value, 1)
        layout.addWidget(self.reveal)
        layout.addWidget(self.copy)
        self.mask()

    def mask(self) -> None:
        self.reveal.blockSignals(True)
        self.reveal.setChecked(False)
        self.reveal.blockSignals(False)
        self.reveal.setIcon(icon("eye"))
        self.value.setText(MASK if self.view.secret else (self.view.value or ""))
        self.value.setCursorPosition(0)

    def _on_reveal_toggled(self, shown: bool) -> None:
        if not shown:
            self.mask()
            return
        value = self.panel.reveal_value(self.view.name)
        if value is None:
            self.mask()
            return
        self.value.setText(value)
        self.value.setCursorPosition(0)
        self.reveal.setIcon(icon("eye-off"))


class DetailsPanel(QStackedWidget):
    """Empty state or the selected secret; emits intents, the browser pane acts on them."""

    copy_field_requested = Signal(str, str)  # name, field
    copy_username_requested = Signal(str)
    edit_requested = Signal(str)
    history_requested = Signal(str)
    delete_requested = Signal(str)
    favourite_toggled = Signal(str, bool)
    error_raised = Signal(str)

    def __init__(self, service: VaultService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.details: SecretDetails | None = None
        self.rows: list[FieldRow] = []
        self.setMinimumWidth(320)
        self.setAccessibleName(self.tr("Secret details"))

        self.empty = QLabel(self.tr("Select a secret to see its fields."), self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.empty.setWordWrap(True)
        self.addWidget(self.empty)

        self.page = QWidget(self)
        self.title = QLabel(self.page)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meta = QLabel(self.page)
        self.meta.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.meta.setWordWrap(True)
        self.copy_button = self._button("copy", self.tr("Copy secret"), self._on_copy_clicked)
        self.user_button = self._button("user", self.tr("User"), self._on_user_clicked)
        self.user_button.setToolTip(self.tr("Copy user name (Ctrl+B)"))
        self.copy_button.setText(self.tr("Copy"))
        self.copy_button.setToolTip(self.tr("Copy secret (Ctrl+C)"))
        self.edit_button = self._button("edit", self.tr("Edit"), self._on_edit_clicked)
        self.history_button = self._button("history", self.tr("History"), self._on_history_clicked)
        self.favourite_button = self._button("star", self.tr("Favourite"), None)
        self.favourite_button.setCheckable(True)
        self.favourite_button.toggled.connect(self._on_favourite_toggled)
        self.delete_button = self._button("trash", self.tr("Delete"), self._on_delete_clicked)
        self.form_host = QWidget(self.page)
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.notes = QPlainTextEdit(self.page)
        self.notes.setReadOnly(True)
        self.notes.setAccessibleName(self.tr("Notes"))
        self.notes.setMaximumHeight(120)
        self.notes_label = QLabel(self.tr("Notes"), self.page)

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for button in (self.copy_button, self.user_button, self.edit_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.history_button, self.favourite_button, self.delete_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self.page)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addWidget(self.title)
        layout.addWidget(self.meta)
        layout.addLayout(buttons)
        layout.addSpacing(4)
        layout.addWidget(self.form_host)
        layout.addSpacing(4)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.notes)
        layout.addStretch(1)
        self.addWidget(self.page)

    def _button(self, icon_name: str, text: str, slot) -> QToolButton:
        button = QToolButton(self.page)
        button.setIcon(icon(icon_name))
        button.setToolTip(text)
        button.setAccessibleName(text)
        button.setAutoRaise(True)
        if slot is not None:
            button.clicked.connect(slot)
        return button

    # -- content --------------------------------------------------------------------------

    def show_secret(self, name: str | None) -> None:
        """Show ``name``'s metadata and fields, or the empty state for None."""
        self.clear_rows()
        self.details = None
        if name is None:
            self.setCurrentWidget(self.empty)
            return
        try:
            details = self.service.details(name)
        except EchoVaultError as exc:
            emit(self.error_raised, describe(exc))
            self.setCurrentWidget(self.empty)
            return
        self.details = details
        summary = details.summary
        self.title.setText(summary.name)
        meta = [details.template_name, self.tr("version %1").replace("%1", str(summary.version))]
        meta.append(self.tr("updated %1").replace("%1", _when(summary.updated)))
        if summary.expires:
            meta.append(self.tr("expires %1").replace("%1", _when(summary.expires)))
        if summary.tags:
            meta.append("#" + " #".join(summary.tags))
        self.meta.setText(" · ".join(meta))
        for view in details.fields:
            row = FieldRow(self, view)
            row.copy_requested.connect(
                lambda field, n=summary.name: emit(self.copy_field_requested, n, field)
            )
            self.form.addRow(view.label, row)
            self.rows.append(row)
        self.user_button.setEnabled(details.username_field is not None)
        self.favourite_button.blockSignals(True)
        self.favourite_button.setChecked(summary.favourite)
        self.favourite_button.blockSignals(False)
        self.notes.setPlainText(details.notes)
        self.notes.setVisible(bool(details.notes))
        self.notes_label.setVisible(bool(details.notes))
        self.setCurrentWidget(self.page)

    def clear_rows(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.rows = []
        self.notes.clear()

    def mask_all(self) -> None:
        for row in self.rows:
            row.mask()

    def row_for(self, field: str) -> FieldRow:
        return next(row for row in self.rows if row.view.name == field)

    def reveal_value(self, field: str) -> str | None:
        if self.details is None:
            return None
        try:
            return self.service.reveal(self.details.summary.name, field)
        except EchoVaultError as exc:
            emit(self.error_raised, describe(exc))
            return None

    # -- intents --------------------------------------------------------------------------

    def _name(self) -> str | None:
        return self.details.summary.name if self.details else None

    def _on_copy_clicked(self) -> None:
        if self.details:
            emit(self.copy_field_requested, self.details.summary.name, "")

    def _on_user_clicked(self) -> None:
        if self.details:
            emit(self.copy_username_requested, self.details.summary.name)

    def _on_edit_clicked(self) -> None:
        if self.details:
            emit(self.edit_requested, self.details.summary.name)

    def _on_history_clicked(self) -> None:
        if self.details:
            emit(self.history_requested, self.details.summary.name)

    def _on_delete_clicked(self) -> None:
        if self.details:
            emit(self.delete_requested, self.details.summary.name)

    def _on_favourite_toggled(self, checked: bool) -> None:
        if self.details:
            emit(self.favourite_toggled, self.details.summary.name, checked)


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))
