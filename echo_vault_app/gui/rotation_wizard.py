"""The rotation wizard: what to rotate, a backup first, the details, the run, the summary.

The wizard is not modal: the rest of the app stays usable while the run goes on off the GUI
thread (the service is marked busy, so idle locking and locking by hand wait for the run).
Pages are in :mod:`.rotation_pages` and :mod:`.rotation_run_pages`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget, QWizard

from echo_vault_app.gui.backup_service import BackupService
from echo_vault_app.gui.clipboard import ClipboardGuard
from echo_vault_app.gui.issuer_service import IssuerService
from echo_vault_app.gui.recovery_dialog import RecoveryKeyDialog
from echo_vault_app.gui.rotation_pages import (
    PAGE_AUTH,
    PAGE_BACKUP,
    PAGE_CHOOSE,
    PAGE_CONFIRM,
    PAGE_PASSPHRASE,
    PAGE_RUN,
    PAGE_SUMMARY,
    AuthKeysPage,
    BackupPage,
    ChoosePage,
    ConfirmPage,
    PassphrasePage,
)
from echo_vault_app.gui.rotation_run_pages import RunPage, SummaryPage
from echo_vault_app.gui.rotation_service import RotationPlan, RotationReport
from echo_vault_app.gui.service import VaultService


class RotationWizard(QWizard):
    """Collects a :class:`RotationPlan` and runs it; see the module docstring."""

    def __init__(
        self,
        service: VaultService,
        issuer: IssuerService,
        backups: BackupService,
        clipboard: ClipboardGuard,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.issuer = issuer
        self.backups = backups
        self.clipboard = clipboard
        self.recovery_dialog: RecoveryKeyDialog | None = None
        self.export_dialog = None
        self._passphrase: str | None = None
        self.setWindowTitle(self.tr("Rotate keys"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.resize(760, 540)

        self.choose_page = ChoosePage(self)
        self.backup_page = BackupPage(self)
        self.passphrase_page = PassphrasePage(self)
        self.auth_page = AuthKeysPage(self)
        self.confirm_page = ConfirmPage(self)
        self.run_page = RunPage(self)
        self.summary_page = SummaryPage(self)
        for page_id, page in (
            (PAGE_CHOOSE, self.choose_page),
            (PAGE_BACKUP, self.backup_page),
            (PAGE_PASSPHRASE, self.passphrase_page),
            (PAGE_AUTH, self.auth_page),
            (PAGE_CONFIRM, self.confirm_page),
            (PAGE_RUN, self.run_page),
            (PAGE_SUMMARY, self.summary_page),
        ):
            self.setPage(page_id, page)
        self.setStartId(PAGE_CHOOSE)
        self.backup_page.export_button.clicked.connect(self.open_export)

    # -- what the pages ask each other ------------------------------------------------------

    def chosen(self, key: str) -> bool:
        return self.choose_page.chosen(key)

    def plan(self) -> RotationPlan:
        wants_passphrase = self.chosen("passphrase") or self.chosen("reseal")
        passphrase = self._passphrase
        if passphrase is None and wants_passphrase:
            passphrase = self.passphrase_page.passphrase.passphrase() or None
        return RotationPlan(
            data_key=self.chosen("data-key"),
            passphrase=passphrase if wants_passphrase else None,
            recovery_key=self.chosen("recovery-key"),
            reseal=self.chosen("reseal"),
            signing_algorithms=self.auth_page.chosen_algorithms(),
            overlap_seconds=self.auth_page.overlap.value() * 3600.0,
            api_key_ids=self.auth_page.chosen_key_ids(),
            grace_seconds=self.auth_page.grace.value() * 3600.0,
        )

    def forget_secrets_typed(self) -> None:
        """Keep the passphrase for the run only; the input fields are cleared now."""
        self._passphrase = self.plan().passphrase
        self.passphrase_page.passphrase.clear()

    def describe_step(self, step: str) -> str:
        return {
            "api-keys": self.tr("Rotate the chosen API keys"),
            "signing-keys": self.tr("Rotate JWT signing keys"),
            "data-key": self.tr("Re-encrypt everything under a new data key"),
            "passphrase": self.tr("Set the new passphrase"),
            "recovery-key": self.tr("Issue a new recovery key"),
            "reseal": self.tr("Re-seal the vault key and every unlock slot"),
        }[step]

    def describe_done(self, step: str, report: RotationReport) -> str:
        if step == "api-keys":
            return self.tr("%n API key(s) rotated; copy the new keys below.", "",
                           len(report.new_api_keys))  # fmt: skip
        if step == "signing-keys":
            kids = ", ".join(f"{alg} → {kid}" for alg, kid in report.new_kids.items())
            return self.tr("New signing keys: %1").replace("%1", kids)
        if step == "data-key":
            return self.tr("Data key rotated; %n value(s) re-sealed.", "", report.resealed_values)
        if step == "passphrase":
            return self.tr("Passphrase changed.")
        if step == "recovery-key":
            return self.tr("New recovery key issued; the old one no longer works.")
        return self.tr("Vault re-sealed: old key files and the old recovery key no longer open it.")

    # -- dialogs ----------------------------------------------------------------------------

    def open_export(self) -> None:
        from echo_vault_app.gui.backup_export_dialog import BackupExportDialog

        self.export_dialog = BackupExportDialog(self.backups, self)
        self.export_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.export_dialog.exported.connect(self.backup_page.note_exported)
        self.export_dialog.finished.connect(self._on_export_dialog_finished)
        self.export_dialog.open()

    def _on_export_dialog_finished(self) -> None:
        self.export_dialog = None

    def show_recovery_key(self) -> None:
        report = self.run_page.report
        if report is None or not report.recovery_key or self.recovery_dialog is not None:
            return
        self.recovery_dialog = RecoveryKeyDialog(report.recovery_key, self.clipboard, self)
        self.recovery_dialog.setWindowTitle(self.tr("Your new recovery key"))
        self.recovery_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.recovery_dialog.finished.connect(self._on_recovery_dialog_finished)
        self.recovery_dialog.open()

    def _on_recovery_dialog_finished(self) -> None:
        self.recovery_dialog = None

    def done(self, result: int) -> None:
        """Forget every key this wizard held (the run's report included)."""
        if self.run_page.running():
            return  # the run cannot be cancelled half-way; the wizard closes when it ends
        self._passphrase = None
        if self.run_page.report is not None:
            self.run_page.report.recovery_key = None
            self.run_page.report.new_api_keys.clear()
        self.summary_page.keys.setRowCount(0)
        self.passphrase_page.passphrase.clear()
        super().done(result)
