"""Add or edit a secret through its template: the form is built from the template's data.

Each field gets the editor its kind calls for (masked line for secret fields, multi-line text,
plain line) with the template's example as placeholder and its help as tooltip. Validation is
the library's; its one-line error names the field, which gets the message inline.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QDate, QDateTime, QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.errors import EchoVaultError, InvalidName, ValidationError, VersionConflict
from echo_vault_app.gui.message_bar import MessageBar
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.secret_inputs import SecretLineEdit
from echo_vault_app.gui.service import VaultService
from echo_vault_app.secrets.model import SecretSummary
from echo_vault_app.secrets.templates import Template, TemplateField

_FIELD_IN_ERROR = re.compile(r"field '([^']+)' (.*)$")


class FieldEditor(QWidget):
    """One field's editor and its inline error line."""

    def __init__(self, spec: TemplateField | None, name: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.name = name
        self.spec = spec
        label = spec.label if spec else name
        secret = spec.secret if spec else True
        multiline = spec is not None and spec.kind == "multiline"
        self.secret_edit: SecretLineEdit | None = None
        self.text_edit: QPlainTextEdit | None = None
        self.line_edit: QLineEdit | None = None
        if multiline:
            self.text_edit = QPlainTextEdit(self)
            self.text_edit.setTabChangesFocus(True)
            self.text_edit.setMaximumHeight(110)
            self.text_edit.setAccessibleName(label)
            self.text_edit.setPlaceholderText(spec.example if spec else "")
            editor: QWidget = self.text_edit
        elif secret:
            self.secret_edit = SecretLineEdit(self, placeholder=spec.example if spec else "")
            self.secret_edit.setAccessibleName(label)
            editor = self.secret_edit
        else:
            self.line_edit = QLineEdit(self)
            self.line_edit.setAccessibleName(label)
            self.line_edit.setPlaceholderText(spec.example if spec else "")
            editor = self.line_edit
        if spec and spec.help:
            editor.setToolTip(spec.help)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        font = self.error.font()
        font.setBold(True)
        self.error.setFont(font)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(editor)
        layout.addWidget(self.error)
        self.setFocusProxy(editor)

    def value(self) -> str:
        if self.text_edit is not None:
            return self.text_edit.toPlainText()
        if self.secret_edit is not None:
            return self.secret_edit.text()
        return self.line_edit.text() if self.line_edit else ""

    def set_value(self, value: str) -> None:
        if self.text_edit is not None:
            self.text_edit.setPlainText(value)
        elif self.secret_edit is not None:
            self.secret_edit.setText(value)
        elif self.line_edit is not None:
            self.line_edit.setText(value)

    def set_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def error_text(self) -> str:
        return "" if self.error.isHidden() else self.error.text()


class SecretFormDialog(QDialog):
    """Create (``name`` None) or edit a secret; ``saved`` is set after a successful save."""

    def __init__(
        self,
        service: VaultService,
        *,
        name: str | None = None,
        template_id: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.saved: SecretSummary | None = None
        self.editors: dict[str, FieldEditor] = {}
        self._original: SecretSummary | None = None
        values: dict[str, str] = {}
        notes = ""
        if name is not None:
            self._original, notes, values = service.values_for_edit(name)
            template_id = self._original.template
        self.setWindowTitle(self.tr("Edit secret") if name else self.tr("New secret"))
        self.resize(560, 560)

        self.message = MessageBar(self)
        self.name_edit = QLineEdit(self)
        self.name_edit.setAccessibleName(self.tr("Name"))
        self.name_edit.setPlaceholderText(self.tr("e.g. stripe/production"))
        self.name_error = QLabel(self)
        self.name_error.hide()
        self.template_box = QComboBox(self)
        self.template_box.setAccessibleName(self.tr("Template"))
        for template in service.templates().all():
            self.template_box.addItem(template.name, template.id)
        self.template_box.setEnabled(name is None)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.tags_edit = QLineEdit(self)
        self.tags_edit.setAccessibleName(self.tr("Tags"))
        self.tags_edit.setPlaceholderText(self.tr("prod, payments"))
        self.expires_check = QCheckBox(self.tr("Expires on"), self)
        self.expires_date = QDateEdit(self)
        self.expires_date.setCalendarPopup(True)
        self.expires_date.setDate(QDate.currentDate().addMonths(3))
        self.expires_date.setAccessibleName(self.tr("Expiry date"))
        self.expires_date.setEnabled(False)
        self.expires_check.toggled.connect(self.expires_date.setEnabled)
        self.notes_edit = QPlainTextEdit(self)
        self.notes_edit.setAccessibleName(self.tr("Notes"))
        self.notes_edit.setTabChangesFocus(True)
        self.notes_edit.setMaximumHeight(90)

        self.fields_host = QWidget(self)
        self.fields_form = QFormLayout(self.fields_host)
        self.fields_form.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.fields_host)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

        top = QFormLayout()
        top.addRow(self.tr("Template"), self.template_box)
        top.addRow("", self.description)
        name_box = QVBoxLayout()
        name_box.setSpacing(2)
        name_box.addWidget(self.name_edit)
        name_box.addWidget(self.name_error)
        top.addRow(self.tr("Name"), name_box)
        bottom = QFormLayout()
        bottom.addRow(self.tr("Tags"), self.tags_edit)
        expiry = QHBoxLayout()
        expiry.addWidget(self.expires_check)
        expiry.addWidget(self.expires_date, 1)
        bottom.addRow(self.tr("Expiry"), expiry)
        bottom.addRow(self.tr("Notes"), self.notes_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.buttons)

        index = max(0, self.template_box.findData(template_id or "generic"))
        self.template_box.setCurrentIndex(index)
        self.template_box.currentIndexChanged.connect(self._on_template_box_changed)
        self._build_fields(values)
        if self._original is not None:
            self.name_edit.setText(self._original.name)
            self.tags_edit.setText(", ".join(self._original.tags))
            self.notes_edit.setPlainText(notes)
            if self._original.expires:
                self.expires_check.setChecked(True)
                moment = QDateTime.fromSecsSinceEpoch(int(self._original.expires))
                self.expires_date.setDate(moment.date())
        self.name_edit.setFocus()

    def template(self) -> Template:
        return self.service.templates().get(self.template_box.currentData())

    def _on_template_box_changed(self) -> None:
        kept = {name: editor.value() for name, editor in self.editors.items() if editor.value()}
        self._build_fields(kept)

    def _build_fields(self, values: dict[str, str]) -> None:
        while self.fields_form.rowCount():
            self.fields_form.removeRow(0)
        self.editors = {}
        template = self.template()
        self.description.setText(template.description)
        for spec in template.fields:
            self._add_editor(spec, spec.name, spec.label + (" *" if spec.required else ""))
        # Fields the secret has but the template does not declare are kept, never dropped.
        for name in values:
            if name not in self.editors:
                self._add_editor(None, name, name)
        for name, value in values.items():
            self.editors[name].set_value(value)

    def _add_editor(self, spec: TemplateField | None, name: str, label: str) -> None:
        editor = FieldEditor(spec, name, self.fields_host)
        self.editors[name] = editor
        self.fields_form.addRow(label, editor)

    def field_values(self) -> dict[str, str]:
        return {name: editor.value() for name, editor in self.editors.items() if editor.value()}

    def _clear_errors(self) -> None:
        for editor in self.editors.values():
            editor.set_error("")
        self.name_error.hide()
        self.message.hide()

    def _on_buttons_accepted(self) -> None:
        self._clear_errors()
        tags = [t for t in re.split(r"[,\s]+", self.tags_edit.text()) if t]
        expires = None
        if self.expires_check.isChecked():
            moment = QDateTime(self.expires_date.date(), QTime(23, 59))
            expires = float(moment.toSecsSinceEpoch())
        # A missing expiry means "unchanged" to the library; unticking the box on a secret that
        # has one must say "remove it" explicitly.
        clear_expiry = (
            not self.expires_check.isChecked()
            and self._original is not None
            and self._original.expires is not None
        )
        try:
            self.saved = self.service.save(
                self.name_edit.text().strip(),
                template=self.template().id,
                fields=self.field_values(),
                tags=tags,
                notes=self.notes_edit.toPlainText(),
                expires=expires,
                expected_version=self._original.version if self._original else 0,
                original_name=self._original.name if self._original else None,
                clear_expiry=clear_expiry,
            )
        except ValidationError as exc:
            self._show_validation(str(exc))
            return
        except VersionConflict as exc:
            if self._original is None:
                self.name_error.setText(self.tr("A secret with this name already exists."))
                self.name_error.show()
                self.name_edit.setFocus()
            else:
                self.message.show_message(describe(exc), kind="error")
            return
        except InvalidName as exc:
            self.name_error.setText(describe(exc))
            self.name_error.show()
            self.name_edit.setFocus()
            return
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")
            return
        self.accept()

    def _show_validation(self, text: str) -> None:
        match = _FIELD_IN_ERROR.search(text)
        editor = self.editors.get(match.group(1)) if match else None
        if editor is None:
            self.message.show_message(text, kind="error")
            return
        reason = match.group(2)
        editor.set_error(reason[:1].upper() + reason[1:])
        editor.setFocus()
