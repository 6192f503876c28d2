"""Import from another tool (.env, KeePassXC XML/CSV, Bitwarden JSON, 1Password 1PUX).

Reading the file shows the parser's report before anything is written: every entry with its
field count, and under it whatever could not be mapped and why; beside it what the import
would add or change. After the import the same report stays, with the vault's result.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.gui import worker
from echo_vault_app.gui.backup_import_dialog import HELP_ROLE, mode_choices
from echo_vault_app.gui.backup_service import BackupService, foreign_formats, guess_format
from echo_vault_app.gui.dialog_parts import FileChooser
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.import_summary import ImportSummaryTree
from echo_vault_app.gui.message_bar import MessageBar
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.signals import emit

log = logging.getLogger(__name__)


class ReportTree(QTreeWidget):
    """Entries of a parsed file; unmapped items beneath the entry they came from."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels([self.tr("Entry"), self.tr("Fields / reason")])
        self.setAccessibleName(self.tr("What the file holds"))
        self.setUniformRowHeights(True)

    def show_report(self, report) -> None:
        self.clear()
        unmapped: dict[str, list] = {}
        for item in report.unmapped:
            unmapped.setdefault(item.entry, []).append(item)
        for entry in report.entries[:2000]:
            fields = self.tr("%n field(s)", "", len(entry.fields))
            row = QTreeWidgetItem(self, [entry.name, f"{entry.template} · {fields}"])
            for item in unmapped.pop(entry.name, []):
                child = QTreeWidgetItem(row, [self.tr("not imported: %1").replace("%1", item.field),
                                              item.reason])  # fmt: skip
                child.setIcon(0, icon("warning"))
                row.setExpanded(True)
        for entry_name, items in unmapped.items():  # items of entries that were not imported
            row = QTreeWidgetItem(self, [entry_name, self.tr("not imported")])
            row.setIcon(0, icon("warning"))
            for item in items:
                QTreeWidgetItem(row, [item.field, item.reason])
            row.setExpanded(True)
        if report.warnings:
            top = QTreeWidgetItem(self, [self.tr("Warnings"), str(len(report.warnings))])
            top.setIcon(0, icon("info"))
            for text in report.warnings[:500]:
                QTreeWidgetItem(top, ["", text])
        self.resizeColumnToContents(0)


class ForeignImportDialog(QDialog):
    """``imported(foreign_import)`` fires after the entries were written."""

    imported = Signal(object)

    def __init__(self, backups: BackupService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backups = backups
        self.report = None
        self.preview = None
        self.outcome = None
        self.task: worker.Task | None = None
        self.setWindowTitle(self.tr("Import from another app"))
        self.resize(760, 600)
        self.message = MessageBar(self)
        self.file = FileChooser(
            self.tr("File to import"),
            self.tr("Exports (*.env *.xml *.csv *.json *.1pux);;All files (*)"),
            save=False,
            start=str(Path.home()),
            parent=self,
        )
        self.format_box = QComboBox(self)
        self.format_box.setAccessibleName(self.tr("File format"))
        for key, label in foreign_formats().items():
            self.format_box.addItem(label, key)
        self.per_key = QCheckBox(self.tr("One secret per variable"), self)
        self.per_key.setToolTip(self.tr("For .env files: a secret per KEY instead of one."))
        self.mode_box = QComboBox(self)
        self.mode_box.setAccessibleName(self.tr("When a secret exists in both"))
        for mode, label, help_text in mode_choices(self):
            self.mode_box.addItem(label, mode)
            self.mode_box.setItemData(self.mode_box.count() - 1, help_text, HELP_ROLE)
            self.mode_box.setItemData(
                self.mode_box.count() - 1, help_text, Qt.ItemDataRole.ToolTipRole
            )
        self.read_button = QPushButton(icon("search"), self.tr("Read file"), self)
        self.read_button.clicked.connect(self.read_file)
        self.report_tree = ReportTree(self)
        self.plan_tree = ImportSummaryTree(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(self.tr("Import progress"))
        self.progress.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.import_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.import_button.setText(self.tr("Import"))
        self.import_button.setEnabled(False)
        self.buttons.accepted.connect(self.run_import)
        self.buttons.rejected.connect(self.reject)
        self.file.changed.connect(self._on_file_changed)
        self.format_box.currentIndexChanged.connect(self._on_options_changed)
        self.per_key.toggled.connect(self._on_options_changed)
        self.mode_box.currentIndexChanged.connect(self._on_options_changed)

        form = QFormLayout()
        form.addRow(self.tr("File"), self.file)
        format_row = QHBoxLayout()
        format_row.addWidget(self.format_box, 1)
        format_row.addWidget(self.per_key)
        form.addRow(self.tr("Format"), format_row)
        form.addRow(self.tr("Conflicts"), self.mode_box)
        report_box = QGroupBox(self.tr("In the file"), self)
        QVBoxLayout(report_box).addWidget(self.report_tree)
        plan_box = QGroupBox(self.tr("In the vault"), self)
        QVBoxLayout(plan_box).addWidget(self.plan_tree)
        trees = QHBoxLayout()
        trees.addWidget(report_box, 3)
        trees.addWidget(plan_box, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(form)
        layout.addWidget(self.read_button)
        layout.addLayout(trees, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._on_options_changed()

    def fmt(self) -> str:
        return self.format_box.currentData()

    def _on_file_changed(self) -> None:
        path = self.file.path()
        guessed = guess_format(path) if path else None
        if guessed is not None:
            self.format_box.setCurrentIndex(self.format_box.findData(guessed))
        self._on_options_changed()

    def _on_options_changed(self) -> None:
        self.per_key.setEnabled(self.fmt() == "dotenv")
        self.report = self.preview = None
        self.import_button.setEnabled(False)

    def _busy(self, text: str) -> None:
        self.message.hide()
        self.status.setText(text)
        self.progress.show()
        self.read_button.setEnabled(False)
        self.import_button.setEnabled(False)

    def _idle(self) -> None:
        self.task = None
        self.progress.hide()
        self.read_button.setEnabled(True)

    def read_file(self) -> worker.Task | None:
        path = self.file.path()
        if path is None:
            self.message.show_message(self.tr("Choose the file to import."))
            return None
        fmt, mode = self.fmt(), self.mode_box.currentData()
        per_key = self.per_key.isChecked() and fmt == "dotenv"

        def work():
            report = self.backups.parse_foreign(fmt, path, per_key=per_key)
            return report, self.backups.preview_foreign(report, mode)

        self._busy(self.tr("Reading the file…"))
        self.task = worker.run_in_background(
            work, on_result=self._on_read, on_error=self._on_failed, name="foreign-read"
        )
        return self.task

    def _on_read(self, result) -> None:
        self._idle()
        self.report, self.preview = result
        self.report_tree.show_report(self.report)
        self.plan_tree.show_preview(self.preview)
        text = self.tr("%1 entries read, %2 items not importable. Nothing is written until you"
                       " press Import.")  # fmt: skip
        self.status.setText(
            text.replace("%1", str(len(self.report.entries))).replace(
                "%2", str(len(self.report.unmapped))
            )
        )
        self.import_button.setEnabled(bool(self.report.entries))

    def run_import(self) -> worker.Task | None:
        path = self.file.path()
        if self.report is None or path is None:
            return None
        report, mode, source = self.report, self.mode_box.currentData(), f"{self.fmt()}:{path.name}"
        self._busy(self.tr("Importing…"))
        self.task = worker.run_in_background(
            self.backups.import_foreign,
            report,
            mode,
            source,
            on_result=self._on_imported,
            on_error=self._on_failed,
            name="foreign-import",
        )
        return self.task

    def _on_imported(self, outcome) -> None:
        self._idle()
        self.outcome = outcome
        self.plan_tree.show_preview(outcome.result, done=True)
        unmapped = len(outcome.report.unmapped)
        self.status.setText(
            self.tr("Imported: %1. %2 items from the file were not importable (listed left).")
            .replace("%1", self.plan_tree.summary_line())
            .replace("%2", str(unmapped))
        )
        self.import_button.hide()
        self.read_button.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Close"))
        self.backups.announce_change()
        emit(self.imported, outcome)

    def _on_failed(self, exc: BaseException) -> None:
        self._idle()
        self.status.setText("")
        log.info("foreign import step refused: %s", type(exc).__name__)
        self.message.show_message(describe(exc), kind="error")
