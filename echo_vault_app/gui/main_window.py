"""The main window: a shell of panes that plug in, plus the create and unlock pages.

Panes are registered with :meth:`MainWindow.add_pane` (title, icon, widget or a function that
builds it); each appears as a checkable toolbar button and a ``Ctrl+<n>`` shortcut. A pane given
as a function is built the first time it is needed, after unlock, so start-up pays only for the
unlock page. While the vault is locked only the create or unlock page is shown and the toolbar
is hidden. The "Vault" toolbar menu holds backup, import and rotation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6 import QtCore
from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMenu,
    QSizePolicy,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.gui.copier import Copier
from echo_vault_app.gui.first_paint import set_enum_props
from echo_vault_app.gui.icons import app_icon, icon
from echo_vault_app.gui.message_bar import MessageBar
from echo_vault_app.gui.service import VaultService
from echo_vault_app.gui.settings import GuiSettings
from echo_vault_app.gui.signals import emit
from echo_vault_app.gui.unlock_pane import UnlockPane

if TYPE_CHECKING:
    from echo_vault_app.gui.create_pane import CreateVaultPane
    from echo_vault_app.gui.recovery_dialog import RecoveryKeyDialog

log = logging.getLogger(__name__)

DEFAULT_SIZE = QSize(1100, 700)


class MainWindow(QMainWindow):
    """Owns the page stack and the pane toolbar; all vault work goes through ``service``."""

    settings_requested = Signal()
    quit_requested = Signal()
    backup_export_requested = Signal()
    backup_import_requested = Signal()
    foreign_import_requested = Signal()
    rotation_requested = Signal()

    def __init__(
        self, service: VaultService, settings: GuiSettings, copier: Copier, parent=None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.settings = settings
        self.copier = copier
        self.recovery_dialog: RecoveryKeyDialog | None = None
        self.hide_on_close = False
        """Set by the app when the user keeps it in the tray and the desktop has one."""
        self._panes: dict[str, tuple[QWidget, QAction]] = {}
        self._factories: dict[str, Callable[[], QWidget]] = {}
        self.setWindowTitle(self.tr("Echo Vault"))
        self.setWindowIcon(app_icon())
        self.resize(DEFAULT_SIZE)

        self._create_pane: CreateVaultPane | None = None
        self.unlock_pane = UnlockPane(service, self)
        self.workspace = QWidget(self)
        self.message_bar = MessageBar(self.workspace)
        self.panes = QStackedWidget(self.workspace)
        work_layout = QVBoxLayout(self.workspace)
        work_layout.setContentsMargins(0, 0, 0, 0)
        work_layout.setSpacing(0)
        work_layout.addWidget(self.message_bar)
        work_layout.addWidget(self.panes, 1)
        self.pages = QStackedWidget(self)
        for page in (self.unlock_pane, self.workspace):
            self.pages.addWidget(page)
        self.setCentralWidget(self.pages)

        self._build_toolbar()
        self.status_label = QLabel(self)
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().setSizeGripEnabled(False)

        service.vault_unlocked.connect(self._on_service_vault_unlocked)
        service.vault_locked.connect(self._on_service_vault_locked)
        service.vault_created.connect(self._on_service_vault_created)
        copier.copied.connect(self._on_copier_copied)
        copier.copy_failed.connect(self._on_copier_copy_failed)
        copier.clipboard.cleared.connect(self._on_clipboard_cleared)

    # -- toolbar and panes ----------------------------------------------------------------

    def _build_toolbar(self) -> None:
        self.toolbar = QToolBar(self.tr("Main"), self)
        self.toolbar.setObjectName("main-toolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setIconSize(QSize(20, 20))
        set_enum_props(self.toolbar, toolButtonStyle="ToolButtonTextBesideIcon")
        self.addToolBar(self.toolbar)
        self.pane_group = QActionGroup(self)
        self.pane_group.setExclusive(True)
        self._spacer = QWidget(self)
        self._spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._spacer_action = self.toolbar.addWidget(self._spacer)

        self.settings_action = QAction(icon("settings"), self.tr("Settings"), self)
        self.settings_action.setShortcuts(QKeySequence.StandardKey.Preferences)
        self.settings_action.triggered.connect(self.settings_requested)
        self.lock_action = QAction(icon("lock"), self.tr("Lock"), self)
        self.lock_action.setShortcuts([QKeySequence("Ctrl+L")])
        self.lock_action.setToolTip(self.tr("Lock the vault (Ctrl+L)"))
        self.lock_action.triggered.connect(self.service.lock)
        self.quit_action = QAction(icon("quit"), self.tr("Quit"), self)
        self.quit_action.setShortcuts(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.quit_requested)
        self._build_vault_menu()
        self.toolbar.addAction(self.settings_action)
        self.toolbar.addAction(self.lock_action)
        self.addAction(self.quit_action)
        self.toolbar.setVisible(False)

    def _build_vault_menu(self) -> None:
        """Backup, import and rotation: a toolbar menu (Alt+V) whose entries have shortcuts."""
        self.vault_menu = QMenu(self.tr("&Vault"), self)
        self.vault_menu.setAccessibleName(self.tr("Vault menu"))
        entries = (
            ("export", self.tr("&Export backup…"), "Ctrl+Shift+E", self.backup_export_requested),
            ("import", self.tr("&Import backup…"), "Ctrl+Shift+I", self.backup_import_requested),
            ("import", self.tr("Import from &another app…"), "Ctrl+Shift+O",
             self.foreign_import_requested),
            ("refresh", self.tr("&Rotate keys…"), "Ctrl+Shift+R", self.rotation_requested),
        )  # fmt: skip
        self.vault_actions: list[QAction] = []
        for number, (glyph, text, keys, signal) in enumerate(entries):
            if number == 3:
                self.vault_menu.addSeparator()
            action = QAction(icon(glyph), text, self)
            action.setShortcuts([QKeySequence(keys)])
            action.triggered.connect(signal)
            self.vault_menu.addAction(action)
            self.addAction(action)  # the shortcut works wherever focus is
            self.vault_actions.append(action)
        self.vault_button = QToolButton(self)
        self.vault_button.setIcon(icon("vault"))
        self.vault_button.setText(self.tr("Vault"))
        self.vault_button.setToolTip(self.tr("Backup, import and key rotation (Alt+V)"))
        self.vault_button.setAccessibleName(self.tr("Vault menu"))
        set_enum_props(self.vault_button, toolButtonStyle="ToolButtonTextBesideIcon")
        self.vault_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.vault_button.setMenu(self.vault_menu)
        self.toolbar.addWidget(self.vault_button)
        open_menu = QAction(self)
        open_menu.setShortcuts([QKeySequence("Alt+V")])
        open_menu.triggered.connect(self.vault_button.showMenu)
        self.addAction(open_menu)

    def add_pane(
        self,
        key: str,
        title: str,
        icon_name: str,
        widget: QWidget | Callable[[], QWidget],
        *,
        tooltip: str = "",
    ) -> QAction:
        """Register a pane; it gets a toolbar button and the next ``Ctrl+<n>`` shortcut.

        ``widget`` may be a function that builds the pane; it is then called the first time
        the pane is shown or asked for through :meth:`pane`.
        """
        if not isinstance(widget, QWidget):
            self._factories[key] = widget
            widget = QWidget(self)
        action = QAction(icon(icon_name), title, self)
        action.setCheckable(True)
        number = len(self._panes) + 1
        if number <= 9:
            action.setShortcuts([QKeySequence(f"Ctrl+{number}")])
        action.setToolTip(tooltip or title)
        action.triggered.connect(lambda _checked=False, k=key: self.show_pane(k))
        self.pane_group.addAction(action)
        self.toolbar.insertAction(self._spacer_action, action)
        widget.setAccessibleName(title)
        self.panes.addWidget(widget)
        self._panes[key] = (widget, action)
        if len(self._panes) == 1:
            action.setChecked(True)
        return action

    def pane(self, key: str) -> QWidget:
        """The pane's widget, built now if it was registered as a function."""
        factory = self._factories.pop(key, None)
        if factory is not None:
            placeholder, action = self._panes[key]
            widget = factory()
            widget.setAccessibleName(action.text())
            was_current = self.panes.currentWidget() is placeholder
            self.panes.insertWidget(self.panes.indexOf(placeholder), widget)
            self.panes.removeWidget(placeholder)
            placeholder.deleteLater()
            self._panes[key] = (widget, action)
            if was_current:
                self.panes.setCurrentWidget(widget)
            log.debug("built pane %s", key)
        return self._panes[key][0]

    def is_built(self, key: str) -> bool:
        return key not in self._factories

    def pane_keys(self) -> list[str]:
        return list(self._panes)

    def show_pane(self, key: str) -> QWidget:
        widget = self.pane(key)
        action = self._panes[key][1]
        action.setChecked(True)
        self.panes.setCurrentWidget(widget)
        widget.setFocus()
        return widget

    def current_pane(self) -> QWidget:
        current = self.panes.currentWidget()
        key = next((k for k, (w, _a) in self._panes.items() if w is current), None)
        return self.pane(key) if key is not None else current

    # -- pages ----------------------------------------------------------------------------

    @property
    def create_pane(self) -> CreateVaultPane:
        """The first-run page, built when first shown: most starts open an existing vault."""
        if self._create_pane is None:
            from echo_vault_app.gui.create_pane import CreateVaultPane

            self._create_pane = CreateVaultPane(self.service, self)
            self.pages.insertWidget(0, self._create_pane)
        return self._create_pane

    def start(self, *, try_keyring: bool = True) -> None:
        """Show the page the vault's state calls for."""
        if self.service.is_unlocked:
            self._show_workspace()
            return
        self.toolbar.setVisible(False)
        if self.service.status().exists:
            self.pages.setCurrentWidget(self.unlock_pane)
            self.unlock_pane.start(try_keyring=try_keyring)
        else:
            self.pages.setCurrentWidget(self.create_pane)
            self.create_pane.start()

    def raise_window(self) -> None:
        self.show()
        if self.isMinimized():
            self.setWindowState(self.windowState() & ~QtCore.Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()

    def _show_workspace(self) -> None:
        current = self.current_pane()  # builds the pane on first unlock
        self.pages.setCurrentWidget(self.workspace)
        self.toolbar.setVisible(True)
        if current is not None:
            current.setFocus()

    def _on_service_vault_unlocked(self) -> None:
        self._show_workspace()
        self._announce_after_unlock()

    def _announce_after_unlock(self) -> None:
        lines = list(self.service.notices)
        expiring = self.service.expiring()
        if expiring:
            names = ", ".join(s.name for s in expiring[:3])
            more = len(expiring) - 3
            text = self.tr("%n secret(s) expired or expire within 3 days: ", "", len(expiring))
            text += names + (self.tr(" and %1 more").replace("%1", str(more)) if more > 0 else "")
            lines.append(text)
        if lines:
            self.message_bar.show_message("\n".join(lines), kind="warning")
        else:
            self.message_bar.hide()

    def _on_service_vault_locked(self) -> None:
        self.copier.clipboard.clear_now()
        self.message_bar.hide()
        self.status_label.setText(self.tr("Locked."))
        self.start(try_keyring=False)

    def _on_service_vault_created(self, recovery_key: str) -> None:
        from echo_vault_app.gui.recovery_dialog import RecoveryKeyDialog

        self.recovery_dialog = RecoveryKeyDialog(recovery_key, self.copier.clipboard, self)
        self.recovery_dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self.recovery_dialog.finished.connect(self._on_recovery_dialog_finished)
        self.recovery_dialog.open()

    def _on_recovery_dialog_finished(self) -> None:
        self.recovery_dialog = None

    # -- feedback -------------------------------------------------------------------------

    def _on_copier_copied(self, name: str, what: str, clear_ms: int) -> None:
        if clear_ms:
            text = self.tr("Copied %1 of %2. Clipboard clears in %3 s.")
            text = text.replace("%3", str(round(clear_ms / 1000)))
        else:
            text = self.tr("Copied %1 of %2.")
        what_text = self.tr("user name") if what == "username" else what
        self.status_label.setText(text.replace("%1", what_text).replace("%2", name))

    def _on_copier_copy_failed(self, message: str) -> None:
        self.message_bar.show_message(message, kind="error", timeout_ms=8000)

    def _on_clipboard_cleared(self) -> None:
        if self.status_label.text().startswith(self.tr("Copied")):
            self.status_label.setText(self.tr("Clipboard cleared."))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        if self.hide_on_close:
            # The tray icon brings the window back; the vault keeps its state and its idle lock.
            event.ignore()
            self.hide()
            return
        emit(self.quit_requested)
        event.accept()
