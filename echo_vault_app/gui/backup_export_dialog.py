"""Export an encrypted backup: file, password typed twice with its strength, and scope.

The library's own password rule (12 characters, not a common shape) is checked as the user
types and its reason shown inline; a password the library accepts but the strength meter calls
weaker than "strong" needs an explicit yes. Writing runs off the GUI thread with a progress bar.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.gui import prompts, worker
from echo_vault_app.gui.apikeys_tab import split_list
from echo_vault_app.gui.backup_service import BackupService, ExportScope, password_problem
from echo_vault_app.gui.dialog_parts import FileChooser, ProgressRelay
from echo_vault_app.gui.message_bar import MessageBar
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.secret_inputs import MIN_PASSPHRASE_SCORE, PassphraseConfirmWidget
from echo_vault_app.gui.signals import emit

log = logging.getLogger(__name__)


class BackupExportDialog(QDialog):
    """``exported(count)`` fires after a successful export; the dialog then offers Close."""

    exported = Signal(int)

    def __init__(self, backups: BackupService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backups = backups
        self.exported_count: int | None = None
        self.task: worker.Task | None = None
        self.setWindowTitle(self.tr("Export backup"))
        self.resize(560, 0)
        self.message = MessageBar(self)
        intro = QLabel(
            self.tr(
                "A backup holds the chosen secrets with their history, encrypted with a"
                " password of its own. Keep the password apart from the file."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.file = FileChooser(
            self.tr("Backup file"),
            self.tr("Echo Vault backups (*.evbackup);;All files (*)"),
            save=True,
            start=str(Path.home() / "echo-vault.evbackup"),
            parent=self,
        )
        self.password = PassphraseConfirmWidget(self)
        self.password.first.setAccessibleName(self.tr("Backup password"))
        self.password.first.edit.setPlaceholderText(self.tr("Backup password"))
        self.password.second.setAccessibleName(self.tr("Repeat backup password"))
        self.password.second.edit.setPlaceholderText(self.tr("Repeat the password"))

        self.scope_all = QRadioButton(self.tr("All secrets"), self)
        self.scope_names = QRadioButton(self.tr("These names"), self)
        self.scope_tags = QRadioButton(self.tr("With tags"), self)
        self.scope_query = QRadioButton(self.tr("Matching a search"), self)
        self.scope_all.setChecked(True)
        self.names_edit = QLineEdit(self)
        self.names_edit.setAccessibleName(self.tr("Secret names to export"))
        self.names_edit.setPlaceholderText(self.tr("stripe/production, aws/ci-deploy"))
        self.tags_edit = QLineEdit(self)
        self.tags_edit.setAccessibleName(self.tr("Tags to export"))
        self.tags_edit.setPlaceholderText(", ".join(backups.tags()[:3]) or self.tr("prod"))
        self.query_edit = QLineEdit(self)
        self.query_edit.setAccessibleName(self.tr("Search to export"))
        self.query_edit.setPlaceholderText(self.tr("tag:prod -is:expired"))
        self.scope_group = QButtonGroup(self)
        scope_box = QGroupBox(self.tr("What to export"), self)
        grid = QGridLayout(scope_box)
        for row, (button, edit) in enumerate(
            (
                (self.scope_all, None),
                (self.scope_names, self.names_edit),
                (self.scope_tags, self.tags_edit),
                (self.scope_query, self.query_edit),
            )
        ):
            self.scope_group.addButton(button, row)
            grid.addWidget(button, row, 0)
            if edit is not None:
                grid.addWidget(edit, row, 1)
                edit.setEnabled(False)
                button.toggled.connect(edit.setEnabled)
                edit.textChanged.connect(lambda _t, b=button: b.setChecked(True))
        grid.setColumnStretch(1, 1)

        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(self.tr("Export progress"))
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.relay = ProgressRelay(self)
        self.relay.drive(self.progress)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.export_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.export_button.setText(self.tr("Export"))
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow(self.tr("File"), self.file)
        form.addRow(self.tr("Password"), self.password)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(scope_box)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.password.changed.connect(self._update)
        self.file.changed.connect(self._update)
        self._update()

    def _update(self) -> None:
        """Say what still blocks the export, inline, and enable Export only when nothing does."""
        text = self.password.passphrase()
        library = password_problem(text) if text else ""
        self.password.first.set_error(library)
        mismatch = bool(text) and not library and text != self.password.second.text()
        hint = (
            self.tr("The two passwords differ.") if mismatch and self.password.second.text() else ""
        )
        self.password.second.set_error(hint)
        ready = bool(text) and not library and not mismatch and self.file.path() is not None
        self.export_button.setEnabled(ready and self.task is None)

    def scope(self) -> ExportScope:
        if self.scope_names.isChecked():
            return ExportScope(names=tuple(n.strip() for n in self.names_edit.text().split(",")
                                           if n.strip()))  # fmt: skip
        if self.scope_tags.isChecked():
            return ExportScope(tags=tuple(split_list(self.tags_edit.text())))
        if self.scope_query.isChecked():
            return ExportScope(query=self.query_edit.text().strip())
        return ExportScope()

    def export(self) -> worker.Task | None:
        """Start the export (after the weak-password and overwrite questions)."""
        self._update()
        path = self.file.path()
        if not self.export_button.isEnabled() or path is None:
            return None
        if self.password.score < MIN_PASSPHRASE_SCORE and not prompts.confirm(
            self,
            self.tr("Weak backup password"),
            self.tr("The strength meter rates this password below strong. Use it anyway?"),
        ):
            return None
        force = False
        if path.exists():
            if not prompts.confirm(
                self,
                self.tr("Replace file"),
                self.tr("%1 exists. Replace it?").replace("%1", str(path)),
            ):
                return None
            force = True
        password, scope = self.password.passphrase(), self.scope()
        self.message.hide()
        self.status.setText(self.tr("Exporting…"))
        self.progress.setRange(0, 0)
        self.progress.show()
        self.export_button.setEnabled(False)
        self.task = worker.run_in_background(
            self.backups.export,
            path,
            password,
            scope,
            force=force,
            progress=self.relay.report,
            on_result=self._on_task_succeeded,
            on_error=self._on_task_failed,
            name="backup-export",
        )
        return self.task

    def _on_task_succeeded(self, count: int) -> None:
        self.task = None
        self.exported_count = count
        self.password.clear()
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        text = self.tr("Exported %n secret(s) to %1.", "", count).replace(
            "%1", str(self.file.path())
        )
        self.status.setText(text)
        self.export_button.hide()
        close = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        close.setText(self.tr("Close"))
        close.setFocus()
        emit(self.exported, count)

    def _on_task_failed(self, exc: BaseException) -> None:
        self.task = None
        self.progress.hide()
        self.status.setText("")
        log.info("backup export refused: %s", type(exc).__name__)
        self.message.show_message(describe(exc), kind="error")
        self._update()
