"""Import an encrypted backup: file, password, conflict mode, a preview, then the import.

The preview reads and checks the whole backup (Argon2 on the password, then the payload) and
says what would be added, changed or left; nothing is written until the user presses Import,
and a changed mode asks for a fresh preview. Both steps run off the GUI thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.errors import BackupWrongPassword
from echo_vault_app.gui import worker
from echo_vault_app.gui.backup_service import BackupService
from echo_vault_app.gui.dialog_parts import FileChooser, ProgressRelay
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.import_summary import ImportSummaryTree
from echo_vault_app.gui.message_bar import MessageBar
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.secret_inputs import SecretLineEdit
from echo_vault_app.gui.signals import emit

log = logging.getLogger(__name__)

HELP_ROLE = int(Qt.ItemDataRole.UserRole) + 1


def mode_choices(widget: QWidget) -> list[tuple[str, str, str]]:
    """(mode, label, explanation) for the conflict-mode box; shared with the foreign import."""
    return [
        ("merge", widget.tr("Merge"), widget.tr(
            "For a name on both sides the newer version becomes current; every other version"
            " is kept in history.")),
        ("skip", widget.tr("Keep the vault's"), widget.tr(
            "Secrets already in the vault are left as they are; only new names are added.")),
        ("replace-all", widget.tr("Replace"), widget.tr(
            "The imported secret replaces the vault's; the vault's goes to the trash.")),
    ]  # fmt: skip


class BackupImportDialog(QDialog):
    """``imported(result)`` fires after a successful import (an ImportResult)."""

    imported = Signal(object)

    def __init__(self, backups: BackupService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backups = backups
        self.preview = None
        self.result = None
        self.task: worker.Task | None = None
        self.setWindowTitle(self.tr("Import backup"))
        self.resize(600, 560)
        self.message = MessageBar(self)
        self.file = FileChooser(
            self.tr("Backup file"),
            self.tr("Echo Vault backups (*.evbackup);;All files (*)"),
            save=False,
            start=str(Path.home()),
            parent=self,
        )
        self.password = SecretLineEdit(self, placeholder=self.tr("The backup's password"))
        self.password.setAccessibleName(self.tr("Backup password"))
        self.password.return_pressed.connect(self.run_preview)
        self.mode_box = QComboBox(self)
        self.mode_box.setAccessibleName(self.tr("When a secret exists in both"))
        self.mode_help = QLabel(self)
        self.mode_help.setWordWrap(True)
        for mode, label, help_text in mode_choices(self):
            self.mode_box.addItem(label, mode)
            self.mode_box.setItemData(self.mode_box.count() - 1, help_text, HELP_ROLE)
        self.mode_box.currentIndexChanged.connect(self._on_mode_box_changed)
        self.preview_button = QPushButton(icon("search"), self.tr("Preview"), self)
        self.preview_button.setAccessibleName(self.tr("Preview the import"))
        self.preview_button.clicked.connect(self.run_preview)
        self.tree = ImportSummaryTree(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(self.tr("Import progress"))
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.relay = ProgressRelay(self)
        self.relay.drive(self.progress)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.import_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.import_button.setText(self.tr("Import"))
        self.import_button.setEnabled(False)
        self.buttons.accepted.connect(self.run_import)
        self.buttons.rejected.connect(self.reject)
        self.file.changed.connect(self._forget_preview)
        self.password.text_changed.connect(lambda _t: self._forget_preview())

        form = QFormLayout()
        form.addRow(self.tr("File"), self.file)
        form.addRow(self.tr("Password"), self.password)
        form.addRow(self.tr("Conflicts"), self.mode_box)
        form.addRow("", self.mode_help)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(form)
        layout.addWidget(self.preview_button)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._on_mode_box_changed()

    def mode(self) -> str:
        return self.mode_box.currentData()

    def _on_mode_box_changed(self) -> None:
        self.mode_help.setText(self.mode_box.currentData(HELP_ROLE) or "")
        if self.preview is not None:
            self.run_preview()

    def _forget_preview(self) -> None:
        self.preview = None
        self.import_button.setEnabled(False)

    def _start(self, text: str) -> None:
        self.message.hide()
        self.status.setText(text)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.preview_button.setEnabled(False)
        self.import_button.setEnabled(False)

    def _stop(self) -> None:
        self.task = None
        self.progress.hide()
        self.preview_button.setEnabled(True)

    def run_preview(self) -> worker.Task | None:
        path = self.file.path()
        if path is None or not self.password.text():
            self.message.show_message(self.tr("Choose the file and enter its password."))
            return None
        self._start(self.tr("Reading the backup…"))
        self.task = worker.run_in_background(
            self.backups.preview,
            path,
            self.password.text(),
            self.mode(),
            on_result=self._on_preview_ready,
            on_error=self._on_task_failed,
            name="backup-preview",
        )
        return self.task

    def _on_preview_ready(self, preview) -> None:
        self._stop()
        self.preview = preview
        self.tree.show_preview(preview)
        self.status.setText(self.tr("Nothing is written until you press Import."))
        self.import_button.setEnabled(True)
        self.import_button.setFocus()

    def run_import(self) -> worker.Task | None:
        path = self.file.path()
        if self.preview is None or path is None:
            return None
        self._start(self.tr("Importing…"))
        self.task = worker.run_in_background(
            self.backups.import_backup,
            path,
            self.password.text(),
            self.mode(),
            progress=self.relay.report,
            on_result=self._on_import_done,
            on_error=self._on_task_failed,
            name="backup-import",
        )
        return self.task

    def _on_import_done(self, result) -> None:
        self._stop()
        self.result = result
        self.password.clear()
        self.preview = None
        self.tree.show_preview(result, done=True)
        self.status.setText(self.tr("Imported: %1.").replace("%1", self.tree.summary_line()))
        self.import_button.hide()
        self.preview_button.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Close"))
        self.backups.announce_change()
        emit(self.imported, result)

    def _on_task_failed(self, exc: BaseException) -> None:
        self._stop()
        self.status.setText("")
        log.info("backup import step refused: %s", type(exc).__name__)
        if isinstance(exc, BackupWrongPassword):
            self.password.set_error(describe(exc))
            self.password.setFocus()
            return
        self.message.show_message(describe(exc), kind="error")
