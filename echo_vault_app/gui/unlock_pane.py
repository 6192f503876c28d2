"""The unlock pane: keyring first without typing, then passphrase or recovery key.

Unlocking runs off the GUI thread through the service. Each failure gets its own sentence
next to the field; the growing delay after wrong attempts is shown as a live countdown, and
the button stays disabled until it ends.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCommandLinkButton,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.gui.first_paint import set_enum_props
from echo_vault_app.gui.icons import app_icon
from echo_vault_app.gui.secret_inputs import SecretLineEdit
from echo_vault_app.gui.service import VaultService
from echo_vault_app.gui.service_types import UnlockFailure
from echo_vault_app.gui.signals import emit


class UnlockPane(QWidget):
    """Shown while the vault exists but is locked."""

    unlock_started = Signal()

    def __init__(self, service: VaultService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self._deadline = 0.0
        self._waiting = False
        self._countdown = QTimer(self)
        self._countdown.setInterval(250)
        self._countdown.timeout.connect(self._on_countdown_timeout)

        logo = QLabel(self)
        logo.setPixmap(app_icon().pixmap(72, 72))
        set_enum_props(logo, alignment="AlignHCenter")
        title = QLabel(self.tr("Unlock Echo Vault"), self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        set_enum_props(title, alignment="AlignHCenter")
        self.where = QLabel(str(service.folder), self)
        self.where.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        set_enum_props(
            self.where, alignment="AlignHCenter", textInteractionFlags="TextSelectableByMouse"
        )

        self.passphrase = SecretLineEdit(self, placeholder=self.tr("Passphrase"))
        self.passphrase.setAccessibleName(self.tr("Passphrase"))
        self.recovery = SecretLineEdit(self, placeholder=self.tr("Recovery key (EVRK-…)"))
        self.recovery.setAccessibleName(self.tr("Recovery key"))
        self.fields = QStackedWidget(self)
        self.fields.addWidget(self.passphrase)
        self.fields.addWidget(self.recovery)
        self.fields.setSizePolicy(self.passphrase.sizePolicy())
        self.passphrase.return_pressed.connect(self._on_unlock_clicked)
        self.recovery.return_pressed.connect(self._on_unlock_clicked)

        self.unlock_button = QPushButton(self.tr("Unlock"), self)
        self.unlock_button.setDefault(True)
        self.unlock_button.setAccessibleName(self.tr("Unlock"))
        self.unlock_button.clicked.connect(self._on_unlock_clicked)
        self.switch = QCommandLinkButton(self.tr("Use the recovery key instead"), self)
        self.switch.setAccessibleName(self.tr("Switch unlock method"))
        self.switch.clicked.connect(self._on_switch_clicked)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        set_enum_props(self.status, alignment="AlignHCenter")
        self.status.setAccessibleName(self.tr("Unlock status"))

        column = QWidget(self)
        column.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum)
        column.setFixedWidth(420)
        inner = QVBoxLayout(column)
        inner.setSpacing(10)
        inner.addWidget(logo)
        inner.addWidget(title)
        inner.addWidget(self.where)
        inner.addSpacing(12)
        inner.addWidget(self.fields)
        inner.addWidget(self.unlock_button)
        inner.addWidget(self.status)
        inner.addWidget(self.switch)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addWidget(column)
        centred.addStretch(1)
        outer.addLayout(centred)
        outer.addStretch(2)
        self.setFocusProxy(self.passphrase)

        service.unlock_failed.connect(self._on_service_unlock_failed)
        service.vault_unlocked.connect(self._on_service_vault_unlocked)

    # -- public -------------------------------------------------------------------------

    def start(self, *, try_keyring: bool = True) -> None:
        """Prepare for a fresh unlock: clear fields, resume a countdown, try the keyring.

        After the user locked on purpose the keyring is not tried, or locking would undo itself.
        """
        self.passphrase.clear()
        self.recovery.clear()
        self.status.clear()
        status = self.service.status()
        if status.retry_after > 0:
            self._start_countdown(status.retry_after)
        keyring = status.has_keyring_slot and self.service.use_keyring
        if try_keyring and (keyring or status.can_unlock_headless):
            self.status.setText(
                self.tr("Opening with the system keyring…")
                if keyring
                else self.tr("Opening with ECHO_VAULT_MASTER_KEY…")
            )
            self._begin()
            self.service.unlock()
        self.passphrase.setFocus()

    def using_recovery_key(self) -> bool:
        return self.fields.currentWidget() is self.recovery

    def active_field(self) -> SecretLineEdit:
        return self.recovery if self.using_recovery_key() else self.passphrase

    # -- slots --------------------------------------------------------------------------

    def _on_switch_clicked(self) -> None:
        to_recovery = not self.using_recovery_key()
        self.fields.setCurrentWidget(self.recovery if to_recovery else self.passphrase)
        self.switch.setText(
            self.tr("Use the passphrase instead")
            if to_recovery
            else self.tr("Use the recovery key instead")
        )
        self.active_field().setFocus()

    def _on_unlock_clicked(self) -> None:
        if self._waiting or self._countdown.isActive():
            return
        field = self.active_field()
        if not field.text():
            field.set_error(self.tr("Type something first."))
            return
        self.status.setText(self.tr("Unlocking…"))
        self._begin()
        if self.using_recovery_key():
            self.service.unlock(recovery_key=field.text())
        else:
            self.service.unlock(passphrase=field.text())

    def _begin(self) -> None:
        self._waiting = True
        self.unlock_button.setEnabled(False)
        emit(self.unlock_started)

    def _on_service_unlock_failed(self, failure: UnlockFailure) -> None:
        if not self._waiting:
            return
        self._waiting = False
        self.unlock_button.setEnabled(True)
        self.status.clear()
        if failure.kind == "throttled":
            self._start_countdown(failure.retry_after)
            return
        field = self.active_field()
        field.set_error(failure.message)
        field.edit.selectAll()
        field.setFocus()

    def _on_service_vault_unlocked(self) -> None:
        self._waiting = False
        self.unlock_button.setEnabled(True)
        self.passphrase.clear()
        self.recovery.clear()
        self.status.clear()

    def _start_countdown(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds
        self.unlock_button.setEnabled(False)
        self._on_countdown_timeout()
        self._countdown.start()

    def countdown_text(self) -> str:
        return self.status.text() if self._countdown.isActive() else ""

    def _on_countdown_timeout(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            self._countdown.stop()
            self.status.clear()
            self.unlock_button.setEnabled(not self._waiting)
            return
        self.status.setText(
            self.tr("Too many wrong attempts. Try again in %1 s.").replace(
                "%1", str(math.ceil(left))
            )
        )
