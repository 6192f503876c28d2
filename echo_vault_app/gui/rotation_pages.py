"""The rotation wizard's pages, one class each: choose, back up, passphrase, auth keys, confirm.

The run and summary pages live in :mod:`.rotation_run_pages`. Pages read the wizard's other
pages only through the wizard's accessors, never by index.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.issuer_service import ALGORITHMS
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.secret_inputs import PassphraseConfirmWidget

(PAGE_CHOOSE, PAGE_BACKUP, PAGE_PASSPHRASE, PAGE_AUTH, PAGE_CONFIRM, PAGE_RUN,
 PAGE_SUMMARY) = range(7)  # fmt: skip


def _wrapped(text: str, parent) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    return label


class ChoosePage(QWizardPage):
    """What will rotate; each choice says what it changes for the user."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("What should be rotated?"))
        self.setSubTitle(self.tr("Pick everything that may have been exposed."))
        self.boxes: dict[str, QCheckBox] = {}
        layout = QVBoxLayout(self)
        for key, label, help_text in (
            ("data-key", self.tr("Data key"), self.tr(
                "Re-encrypts the database and every stored value under a new key. Nothing"
                " changes in how you unlock.")),
            ("passphrase", self.tr("Passphrase"), self.tr(
                "Sets a new passphrase; the recovery key and keyring keep working.")),
            ("recovery-key", self.tr("Recovery key"), self.tr(
                "Issues a new recovery key, shown once; the old one stops working.")),
            ("reseal", self.tr("Re-seal everything"), self.tr(
                "A new vault key and recovery key with every unlock slot rewritten: the old"
                " recovery key and keyring entries stop working. Choose the data key too, so"
                " that old copies of vault.keys no longer open the database either.")),
            ("signing-keys", self.tr("JWT signing keys"), self.tr(
                "New signing keys; the old ones still verify during an overlap, then retire.")),
            ("api-keys", self.tr("API keys"), self.tr(
                "Successors for chosen keys; the old keys keep working for a grace period.")),
        ):  # fmt: skip
            box = QCheckBox(label, self)
            box.setAccessibleDescription(help_text)
            box.toggled.connect(lambda _on: self.completeChanged.emit())
            self.boxes[key] = box
            layout.addWidget(box)
            hint = _wrapped(help_text, self)
            hint.setContentsMargins(24, 0, 0, 6)
            layout.addWidget(hint)
        layout.addStretch(1)

    def chosen(self, key: str) -> bool:
        return self.boxes[key].isChecked()

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return any(box.isChecked() for box in self.boxes.values())

    def nextId(self) -> int:  # noqa: N802 (Qt naming)
        return PAGE_BACKUP


class BackupPage(QWizardPage):
    """Offers a backup export before anything changes; skipping it is allowed."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Back up first?"))
        self.setSubTitle(
            self.tr("Rotation is crash-safe, but a fresh backup is the surest way back.")
        )
        self.export_button = QPushButton(icon("save"), self.tr("Export a backup…"), self)
        self.export_button.setAccessibleName(self.tr("Export a backup before rotating"))
        self.status = _wrapped(self.tr("No backup made in this wizard yet."), self)
        row = QHBoxLayout()
        row.addWidget(self.export_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def note_exported(self, count: int) -> None:
        self.status.setText(self.tr("Backup written with %n secret(s).", "", count))

    def nextId(self) -> int:  # noqa: N802 (Qt naming)
        wizard = self.wizard()
        if wizard.chosen("passphrase") or wizard.chosen("reseal"):
            return PAGE_PASSPHRASE
        if wizard.chosen("signing-keys") or wizard.chosen("api-keys"):
            return PAGE_AUTH
        return PAGE_CONFIRM


class PassphrasePage(QWizardPage):
    """The new passphrase (or, for re-sealing alone, the one to keep), typed twice."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Passphrase"))
        self.passphrase = PassphraseConfirmWidget(self)
        self.passphrase.changed.connect(self.completeChanged)
        self.explain = _wrapped("", self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explain)
        layout.addWidget(self.passphrase)
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        if self.wizard().chosen("passphrase"):
            self.setSubTitle(self.tr("Choose the new passphrase."))
            self.explain.setText(self.tr("The old passphrase stops working when the run ends."))
        else:
            self.setSubTitle(self.tr("Re-sealing rewrites the passphrase slot."))
            self.explain.setText(
                self.tr(
                    "Type the passphrase the re-sealed vault should open with: the same one"
                    " as now, or a new one."
                )  # fmt: skip
            )

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return not self.passphrase.problem()

    def nextId(self) -> int:  # noqa: N802 (Qt naming)
        wizard = self.wizard()
        if wizard.chosen("signing-keys") or wizard.chosen("api-keys"):
            return PAGE_AUTH
        return PAGE_CONFIRM


class AuthKeysPage(QWizardPage):
    """Which signing algorithms and which API keys, with their overlap and grace periods."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Signing keys and API keys"))
        self.setSubTitle(self.tr("Old keys keep verifying for the period you choose."))
        self.signing_box = QGroupBox(self.tr("JWT signing keys"), self)
        self.algorithms: dict[str, QCheckBox] = {}
        signing_layout = QVBoxLayout(self.signing_box)
        for alg in ALGORITHMS:
            box = QCheckBox(alg, self.signing_box)
            box.toggled.connect(lambda _on: self.completeChanged.emit())
            self.algorithms[alg] = box
            signing_layout.addWidget(box)
        self.overlap = QSpinBox(self.signing_box)
        self.overlap.setRange(0, 24 * 30)
        self.overlap.setValue(24)
        self.overlap.setSuffix(self.tr(" h"))
        self.overlap.setAccessibleName(self.tr("Overlap in hours"))
        overlap_form = QFormLayout()
        overlap_form.addRow(self.tr("Old keys verify for"), self.overlap)
        signing_layout.addLayout(overlap_form)
        self.api_box = QGroupBox(self.tr("API keys"), self)
        self.api_list = QListWidget(self.api_box)
        self.api_list.setAccessibleName(self.tr("API keys to rotate"))
        self.api_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.api_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.api_list.itemChanged.connect(lambda _item: self.completeChanged.emit())
        self.grace = QSpinBox(self.api_box)
        self.grace.setRange(0, 24 * 90)
        self.grace.setValue(24)
        self.grace.setSuffix(self.tr(" h"))
        self.grace.setAccessibleName(self.tr("Grace period in hours"))
        self.error = _wrapped("", self)
        api_layout = QVBoxLayout(self.api_box)
        api_layout.addWidget(self.api_list, 1)
        grace_form = QFormLayout()
        grace_form.addRow(self.tr("Old keys work for"), self.grace)
        api_layout.addLayout(grace_form)
        layout = QHBoxLayout(self)
        layout.addWidget(self.signing_box)
        layout.addWidget(self.api_box, 1)
        layout.addWidget(self.error)

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        wizard = self.wizard()
        self.signing_box.setVisible(wizard.chosen("signing-keys"))
        self.api_box.setVisible(wizard.chosen("api-keys"))
        self.api_list.clear()
        self.error.hide()
        try:
            current = {k["alg"] for k in wizard.issuer.signing_keys() if k["source"] == "vault"}
            records = wizard.issuer.api_keys() if wizard.chosen("api-keys") else []
        except EchoVaultError as exc:
            self.error.setText(describe(exc))
            self.error.show()
            return
        for alg, box in self.algorithms.items():
            box.setText(alg if alg in current else self.tr("%1 (no key yet: creates one)")
                        .replace("%1", alg))  # fmt: skip
            box.setChecked(alg in current)
        now = time.time()
        for record in records:
            if record.revoked_at is not None or record.rotated_to:
                continue
            if record.expires_at is not None and record.expires_at <= now:
                continue
            label = f"{record.prefix}  ·  {record.user_id}" + (
                f"  ·  {record.name}" if record.name else ""
            )
            item = QListWidgetItem(label, self.api_list)
            item.setData(Qt.ItemDataRole.UserRole, record.key_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)

    def chosen_algorithms(self) -> tuple[str, ...]:
        if not self.wizard().chosen("signing-keys"):
            return ()
        return tuple(alg for alg, box in self.algorithms.items() if box.isChecked())

    def chosen_key_ids(self) -> tuple[str, ...]:
        if not self.wizard().chosen("api-keys"):
            return ()
        items = (self.api_list.item(i) for i in range(self.api_list.count()))
        return tuple(
            item.data(Qt.ItemDataRole.UserRole)
            for item in items
            if item.checkState() == Qt.CheckState.Checked
        )

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        wizard = self.wizard()
        if wizard is None:
            return False
        if wizard.chosen("signing-keys") and not self.chosen_algorithms():
            return False
        return not (wizard.chosen("api-keys") and not self.chosen_key_ids())

    def nextId(self) -> int:  # noqa: N802 (Qt naming)
        return PAGE_CONFIRM


class ConfirmPage(QWizardPage):
    """The last look before anything changes; its button starts the run."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Ready to rotate"))
        self.setSubTitle(self.tr("These steps run in this order. The app stays usable meanwhile."))
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("Rotate now"))
        self.steps = QListWidget(self)
        self.steps.setAccessibleName(self.tr("Steps to run"))
        self.steps.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.addWidget(self.steps)

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        wizard = self.wizard()
        self.steps.clear()
        for step in wizard.plan().steps():
            QListWidgetItem(icon("refresh"), wizard.describe_step(step), self.steps)

    def nextId(self) -> int:  # noqa: N802 (Qt naming)
        return PAGE_RUN
