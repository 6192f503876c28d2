"""The rotation wizard's last two pages: the run with its progress, and the summary.

The run goes through :mod:`.worker`; the library's progress callback fires on the worker
thread and reaches the progress bar through a :class:`ProgressRelay` signal. New keys from the
run are shown once on the summary page (copy marked secret, or saved to a 0600 file) and
forgotten when the wizard closes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWizardPage,
)

from echo_vault_app.gui import worker
from echo_vault_app.gui.dialog_parts import ProgressRelay
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.rotation_pages import PAGE_SUMMARY
from echo_vault_app.gui.rotation_service import RotationReport, run_rotation


class RunPage(QWizardPage):
    """Starts the run when shown; complete when the run has ended, however it ended."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Rotating"))
        self.setSubTitle(self.tr("You can keep using Echo Vault while this runs."))
        self.report: RotationReport | None = None
        self.task: worker.Task | None = None
        self.current = QLabel(self)
        self.current.setAccessibleName(self.tr("Current step"))
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(self.tr("Rotation progress"))
        self.progress.setTextVisible(False)
        self.steps = QListWidget(self)
        self.steps.setAccessibleName(self.tr("Steps"))
        self.steps.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.relay = ProgressRelay(self)
        self.relay.drive(self.progress)
        self.relay.progressed.connect(self._on_relay_progressed)
        self._items: dict[str, QListWidgetItem] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self.current)
        layout.addWidget(self.progress)
        layout.addWidget(self.steps, 1)

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        wizard = self.wizard()
        plan = wizard.plan()
        self.steps.clear()
        self._items = {}
        for step in plan.steps():
            item = QListWidgetItem(icon("clock"), wizard.describe_step(step), self.steps)
            self._items[step] = item
        wizard.forget_secrets_typed()
        wizard.service.set_busy(True)
        self.task = worker.run_in_background(
            run_rotation,
            wizard.service,
            wizard.issuer,
            plan,
            self.relay.report,
            kdf_seconds=wizard.service.kdf_seconds,
            on_result=self._on_run_finished,
            on_error=self._on_run_crashed,
            name="rotation",
        )

    def _on_relay_progressed(self, step: str, done: int, total: int) -> None:
        item = self._items.get(step)
        if item is None:
            return
        if total and done >= total and step != "data-key":
            item.setIcon(icon("check"))
        elif total == 0:
            self.current.setText(item.text())
            item.setIcon(icon("refresh"))

    def _on_run_finished(self, report: RotationReport) -> None:
        self.wizard().service.set_busy(False)
        self.task = None
        self.report = report
        for step, item in self._items.items():
            if step in report.done:
                item.setIcon(icon("check"))
            elif step == report.failed_step:
                item.setIcon(icon("warning"))
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.current.setText(
            self.tr("Done.") if report.failed_step is None else self.tr("Stopped.")
        )
        self.completeChanged.emit()
        QTimer.singleShot(0, self.wizard().next)

    def _on_run_crashed(self, exc: BaseException) -> None:
        report = RotationReport(failed_step="?", error=describe(exc))
        self._on_run_finished(report)

    def running(self) -> bool:
        return self.task is not None and not self.task.done

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return self.report is not None

    def nextId(self) -> int:  # noqa: N802 (Qt naming)
        return PAGE_SUMMARY


class SummaryPage(QWizardPage):
    """What changed, what did not, and the new keys to copy now."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Summary"))
        self.setFinalPage(True)
        self.lines = QListWidget(self)
        self.lines.setAccessibleName(self.tr("What was rotated"))
        self.lines.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.recovery_button = QPushButton(icon("key"), self.tr("Show the new recovery key…"), self)
        self.recovery_button.hide()
        self.keys = QTableWidget(0, 2, self)
        self.keys.setHorizontalHeaderLabels([self.tr("Old key id"), self.tr("New API key")])
        self.keys.horizontalHeader().setStretchLastSection(True)
        self.keys.verticalHeader().hide()
        self.keys.setAccessibleName(self.tr("New API keys"))
        self.keys.hide()
        self.copy_key_button = QPushButton(icon("copy"), self.tr("Copy selected key"), self)
        self.copy_key_button.hide()
        self.copy_key_button.clicked.connect(self._on_copy_key_clicked)
        row = QHBoxLayout()
        row.addWidget(self.recovery_button)
        row.addWidget(self.copy_key_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.keys, 1)
        layout.addLayout(row)

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        wizard = self.wizard()
        report = wizard.run_page.report
        self.lines.clear()
        if report.failed_step is None:
            self.setSubTitle(self.tr("Everything you chose was rotated."))
        else:
            self.setSubTitle(self.tr("The run stopped; the steps before it are complete."))
        for step in wizard.plan().steps():
            if step in report.done:
                glyph, text = "check", wizard.describe_done(step, report)
            elif step == report.failed_step:
                glyph = "warning"
                text = self.tr("%1 failed: %2").replace("%1", wizard.describe_step(step))
                text = text.replace("%2", report.error)
            else:
                glyph = "close"
                text = self.tr("%1 was not started.").replace("%1", wizard.describe_step(step))
            QListWidgetItem(icon(glyph), text, self.lines)
        if report.failed_step == "?":
            QListWidgetItem(icon("warning"), report.error, self.lines)
        for notice in report.notices:
            QListWidgetItem(icon("info"), notice, self.lines)
        if report.recovery_key:
            self.recovery_button.show()
            self.recovery_button.clicked.connect(wizard.show_recovery_key)
            wizard.show_recovery_key()
        self.keys.setRowCount(0)
        for old, new in report.new_api_keys.items():
            row = self.keys.rowCount()
            self.keys.insertRow(row)
            self.keys.setItem(row, 0, QTableWidgetItem(old))
            self.keys.setItem(row, 1, QTableWidgetItem(new))
        self.keys.setVisible(bool(report.new_api_keys))
        self.copy_key_button.setVisible(bool(report.new_api_keys))
        if report.new_api_keys:
            self.keys.resizeColumnToContents(0)
            self.keys.selectRow(0)

    def _on_copy_key_clicked(self) -> None:
        row = self.keys.currentRow()
        if row >= 0:
            self.wizard().clipboard.copy_secret(self.keys.item(row, 1).text())

    def cleanupPage(self) -> None:  # noqa: N802 (Qt naming)
        self.keys.setRowCount(0)
