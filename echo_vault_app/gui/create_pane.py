"""First run: choose a passphrase (with a strength meter) and whether to use the keyring.

Creation runs off the GUI thread; the service then announces the recovery key, which the main
window shows once in :class:`~.recovery_dialog.RecoveryKeyDialog`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.gui.icons import app_icon
from echo_vault_app.gui.secret_inputs import PassphraseConfirmWidget
from echo_vault_app.gui.service import VaultService
from echo_vault_app.gui.service_types import UnlockFailure


class CreateVaultPane(QWidget):
    """Shown when the vault folder has no vault yet."""

    def __init__(self, service: VaultService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self._waiting = False

        logo = QLabel(self)
        logo.setPixmap(app_icon().pixmap(72, 72))
        logo.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        title = QLabel(self.tr("Create your vault"), self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        intro = QLabel(
            self.tr(
                "Your secrets are encrypted on this computer. Choose a passphrase you can"
                " remember; you will also get a recovery key to keep somewhere safe."
            ),
            self,
        )
        intro.setWordWrap(True)
        where = QLabel(str(service.folder), self)
        where.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        where.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.passphrase = PassphraseConfirmWidget(self)
        self.passphrase.changed.connect(self._on_passphrase_changed)
        self.passphrase.second.return_pressed.connect(self._on_create_clicked)
        self.keyring = QCheckBox(
            self.tr("Keep the vault key in the system keyring (unlock without typing)"), self
        )
        self.keyring.setAccessibleName(self.tr("Use the system keyring"))
        self.create_button = QPushButton(self.tr("Create vault"), self)
        self.create_button.setDefault(True)
        self.create_button.setAccessibleName(self.tr("Create vault"))
        self.create_button.clicked.connect(self._on_create_clicked)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName(self.tr("Create status"))

        column = QWidget(self)
        column.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum)
        column.setFixedWidth(460)
        inner = QVBoxLayout(column)
        inner.setSpacing(10)
        for widget in (logo, title, intro, where):
            inner.addWidget(widget)
        inner.addSpacing(8)
        inner.addWidget(self.passphrase)
        inner.addWidget(self.keyring)
        inner.addWidget(self.create_button)
        inner.addWidget(self.status)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addWidget(column)
        centred.addStretch(1)
        outer.addLayout(centred)
        outer.addStretch(2)
        self.setFocusProxy(self.passphrase.first)

        service.unlock_failed.connect(self._on_service_unlock_failed)
        service.vault_unlocked.connect(self._on_service_vault_unlocked)

    def start(self) -> None:
        """Refresh the keyring choice (the keyring may have appeared since)."""
        available, reason = self.service.keyring_available()
        self.keyring.setEnabled(available)
        self.keyring.setChecked(available)
        self.keyring.setToolTip("" if available else reason)
        self.passphrase.clear()
        self._on_passphrase_changed()
        self.passphrase.first.setFocus()

    def _on_passphrase_changed(self) -> None:
        problem = self.passphrase.problem()
        self.create_button.setEnabled(not problem and not self._waiting)
        typed_both = bool(self.passphrase.second.text())
        self.status.setText(problem if typed_both else "")

    def _on_create_clicked(self) -> None:
        problem = self.passphrase.problem()
        if problem or self._waiting:
            self.status.setText(problem)
            return
        self._waiting = True
        self.create_button.setEnabled(False)
        self.status.setText(self.tr("Creating the vault…"))
        self.service.create(self.passphrase.passphrase(), use_keyring=self.keyring.isChecked())

    def _on_service_unlock_failed(self, failure: UnlockFailure) -> None:
        if not self._waiting:
            return
        self._waiting = False
        self.status.setText(failure.message)
        self._on_passphrase_changed()

    def _on_service_vault_unlocked(self) -> None:
        if self._waiting:
            self._waiting = False
            self.passphrase.clear()
            self.status.clear()
