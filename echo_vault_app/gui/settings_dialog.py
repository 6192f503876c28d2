"""Settings: locking, clipboard, keyring, history depth, theme and the local REST API switch.

UI preferences go to QSettings through :class:`GuiSettings`; the history depth and the keyring
slot belong to the vault and are changed through the service (the library audits both). The
REST API switch acts at once (it is not part of OK/Cancel) and only ever binds 127.0.0.1.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui.api_switch import DEFAULT_PORT, ApiSwitch
from echo_vault_app.gui.message_bar import MessageBar
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.service import VaultService
from echo_vault_app.gui.settings import GuiSettings


class SettingsDialog(QDialog):
    """Edits take effect on OK; vault settings are written only when they changed."""

    def __init__(
        self,
        service: VaultService,
        settings: GuiSettings,
        session_signals: bool,
        parent: QWidget | None = None,
        *,
        api_switch: ApiSwitch | None = None,
        has_tray: bool = False,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.settings = settings
        self.api_switch = api_switch
        self.setWindowTitle(self.tr("Settings"))
        self.message = MessageBar(self)

        self.auto_lock = QCheckBox(self.tr("Lock after a period without input"), self)
        self.auto_lock.setChecked(settings.auto_lock_enabled)
        self.minutes = QSpinBox(self)
        self.minutes.setRange(1, 24 * 60)
        self.minutes.setSuffix(self.tr(" min"))
        self.minutes.setValue(settings.auto_lock_minutes)
        self.minutes.setAccessibleName(self.tr("Idle minutes before locking"))
        self.auto_lock.toggled.connect(self.minutes.setEnabled)
        self.minutes.setEnabled(settings.auto_lock_enabled)
        self.close_to_tray = QCheckBox(
            self.tr("Keep running in the system tray when the window is closed"), self
        )
        self.close_to_tray.setChecked(settings.close_to_tray)
        self.close_to_tray.setEnabled(has_tray)
        if not has_tray:
            self.close_to_tray.setToolTip(self.tr("This desktop has no system tray."))
        self.screen_lock = QCheckBox(self.tr("Lock when the screen locks or the computer sleeps"))
        self.screen_lock.setChecked(settings.lock_on_screen_lock)
        if not session_signals:
            self.screen_lock.setToolTip(
                self.tr("This desktop session does not report screen locking to Echo Vault.")
            )
        self.clipboard = QSpinBox(self)
        self.clipboard.setRange(0, 3600)
        self.clipboard.setSuffix(self.tr(" s"))
        self.clipboard.setSpecialValueText(self.tr("Never"))
        self.clipboard.setValue(settings.clipboard_seconds)
        self.clipboard.setAccessibleName(self.tr("Clipboard clear seconds"))

        self.keyring = QCheckBox(self.tr("Unlock with the system keyring"), self)
        available, reason = service.keyring_available()
        self._keyring_was = service.keyring_sealed()
        self.keyring.setChecked(self._keyring_was)
        self.keyring.setEnabled(available or self._keyring_was)
        if not available:
            self.keyring.setToolTip(reason)
        self.history = QSpinBox(self)
        self.history.setRange(0, 1000)
        self.history.setAccessibleName(self.tr("Versions kept per secret"))
        self._history_was = service.history_depth()
        self.history.setValue(self._history_was)

        self.theme = QComboBox(self)
        self.theme.setAccessibleName(self.tr("Theme"))
        for key, label in (
            ("system", self.tr("Follow the system")),
            ("light", self.tr("Light")),
            ("dark", self.tr("Dark")),
        ):
            self.theme.addItem(label, key)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))

        security = QGroupBox(self.tr("Locking and clipboard"), self)
        form = QFormLayout(security)
        form.addRow(self.auto_lock)
        form.addRow(self.tr("Idle time"), self.minutes)
        form.addRow(self.screen_lock)
        form.addRow(self.tr("Clear clipboard after"), self.clipboard)
        vault = QGroupBox(self.tr("This vault"), self)
        vault_form = QFormLayout(vault)
        vault_form.addRow(self.keyring)
        vault_form.addRow(self.tr("Versions kept per secret"), self.history)
        where = QLabel(str(service.folder), self)
        where.setWordWrap(True)
        vault_form.addRow(self.tr("Folder"), where)
        look = QGroupBox(self.tr("Window"), self)
        look_form = QFormLayout(look)
        look_form.addRow(self.tr("Theme"), self.theme)
        look_form.addRow(self.close_to_tray)
        api = self._build_api_box() if api_switch is not None else None
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        for box in (security, vault, look, api):
            if box is not None:
                layout.addWidget(box)
        layout.addWidget(buttons)

    def _build_api_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Local REST API"), self)
        self.api_check = QCheckBox(self.tr("Serve the REST API on this computer (127.0.0.1)"), box)
        self.api_check.setAccessibleName(self.tr("Serve the local REST API"))
        self.api_port = QSpinBox(box)
        self.api_port.setRange(0, 65535)
        self.api_port.setValue(DEFAULT_PORT)
        self.api_port.setSpecialValueText(self.tr("any free port"))
        self.api_port.setAccessibleName(self.tr("REST API port"))
        self.api_status = QLabel(box)
        self.api_status.setAccessibleName(self.tr("REST API status"))
        self.api_status.setWordWrap(True)
        self.api_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout(box)
        form.addRow(self.api_check)
        form.addRow(self.tr("Port"), self.api_port)
        form.addRow(self.tr("Status"), self.api_status)
        self.api_check.toggled.connect(self._on_api_check_toggled)
        self.api_switch.state_changed.connect(self._show_api_state)
        self._show_api_state()
        return box

    def _on_api_check_toggled(self, on: bool) -> None:
        if on and not self.api_switch.running:
            self.api_switch.start(self.api_port.value())
        elif not on and self.api_switch.running:
            self.api_switch.stop()
        self._show_api_state()

    def _show_api_state(self) -> None:
        switch = self.api_switch
        self.api_check.blockSignals(True)
        self.api_check.setChecked(switch.running or switch.busy and not switch.error)
        self.api_check.blockSignals(False)
        self.api_check.setEnabled(not switch.busy)
        self.api_port.setEnabled(not switch.running and not switch.busy)
        self.api_status.setText(switch.status_text())

    def _on_buttons_accepted(self) -> None:
        try:
            if self.service.is_unlocked and self.history.value() != self._history_was:
                self.service.set_history_depth(self.history.value())
            if self.service.is_unlocked and self.keyring.isChecked() != self._keyring_was:
                self.service.set_keyring_sealed(self.keyring.isChecked())
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")
            return
        self.settings.auto_lock_enabled = self.auto_lock.isChecked()
        self.settings.auto_lock_minutes = self.minutes.value()
        self.settings.lock_on_screen_lock = self.screen_lock.isChecked()
        self.settings.clipboard_seconds = self.clipboard.value()
        self.settings.close_to_tray = self.close_to_tray.isChecked()
        self.settings.theme = self.theme.currentData()
        self.accept()
