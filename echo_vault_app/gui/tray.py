"""The tray icon and its menu: favourites, recent items, quick copy, lock, show, quit.

:func:`build_tray_menu` fills a QMenu from the service's state and is called each time the menu
opens (tests call it directly). Where the desktop has no tray (GNOME on Wayland, bare X11), no
icon is created and the window says once that ``echo-vault --quick`` gives the same palette.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui.copier import Copier
from echo_vault_app.gui.icons import app_icon, icon
from echo_vault_app.gui.service import VaultService

if TYPE_CHECKING:
    from echo_vault_app.gui.app import EchoVaultApp

NO_TRAY_NOTICE = "no-tray"
MAX_FAVOURITES = 10


def _tr(text: str) -> str:
    return QCoreApplication.translate("Tray", text)


@dataclass
class TrayCallbacks:
    """What the menu's fixed entries do."""

    quick: Callable[[], None]
    show: Callable[[], None]
    lock: Callable[[], None]
    quit: Callable[[], None]


def build_tray_menu(
    menu: QMenu, service: VaultService, copier: Copier, callbacks: TrayCallbacks
) -> QMenu:
    """(Re)fill ``menu``: choosing a favourite or recent item copies its secret."""
    menu.clear()
    if service.is_unlocked:
        try:
            favourites = [s.name for s in service.favourites()][:MAX_FAVOURITES]
        except EchoVaultError:
            favourites = []
        recent = [name for name in service.recent() if name not in favourites]
        for title, names in ((_tr("Favourites"), favourites), (_tr("Recent"), recent)):
            if not names:
                continue
            menu.addSection(title)
            for name in names:
                action = menu.addAction(icon("key"), name)
                action.setObjectName(f"copy:{name}")
                action.triggered.connect(lambda _c=False, n=name: copier.copy_secret(n))
        menu.addSeparator()
    quick = menu.addAction(icon("search"), _tr("Quick copy…"))
    quick.triggered.connect(callbacks.quick)
    show = menu.addAction(icon("window"), _tr("Show Echo Vault"))
    show.triggered.connect(callbacks.show)
    if service.is_unlocked:
        lock = menu.addAction(icon("lock"), _tr("Lock"))
        lock.triggered.connect(callbacks.lock)
    else:
        unlock = menu.addAction(icon("unlock"), _tr("Unlock…"))
        unlock.triggered.connect(callbacks.show)
    menu.addSeparator()
    quit_action = menu.addAction(icon("quit"), _tr("Quit"))
    quit_action.triggered.connect(callbacks.quit)
    return menu


class TrayController(QObject):
    """Creates the tray icon when a tray exists; otherwise tells the user once."""

    def __init__(self, app: EchoVaultApp) -> None:
        super().__init__(app)
        self.app = app
        self.icon: QSystemTrayIcon | None = None
        self.menu = QMenu()
        self.callbacks = TrayCallbacks(
            quick=app.open_quick, show=app.window.raise_window, lock=app.service.lock, quit=app.quit
        )
        self.menu.aboutToShow.connect(self.rebuild)
        self.rebuild()
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon = QSystemTrayIcon(app_icon(), self)
            self.icon.setToolTip(self.tr("Echo Vault"))
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._on_icon_activated)
            self.icon.show()
        else:
            app.service.vault_unlocked.connect(self._announce_missing_tray)

    def rebuild(self) -> QMenu:
        return build_tray_menu(self.menu, self.app.service, self.app.copier, self.callbacks)

    def hide(self) -> None:
        if self.icon is not None:
            self.icon.hide()

    def _on_icon_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.app.window.raise_window()

    def _announce_missing_tray(self) -> None:
        settings = self.app.settings
        if settings.notice_shown(NO_TRAY_NOTICE):
            return
        settings.mark_notice_shown(NO_TRAY_NOTICE)
        self.app.window.message_bar.show_message(
            self.tr(
                "This desktop has no system tray. For quick copy, bind the command"
                " `echo-vault --quick` to a keyboard shortcut in your desktop settings."
            ),
            kind="info",
        )
