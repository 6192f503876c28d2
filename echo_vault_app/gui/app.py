"""Start the desktop app: ``echo-vault [--vault PATH] [--quick]``.

:class:`EchoVaultApp` wires the service, clipboard, idle lock, window, panes and tray
together; tests and the screenshot script build it the same way :func:`main` does.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6 import QtCore
from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QApplication, QWidget

from echo_vault_app import __version__, config
from echo_vault_app import log as logsetup
from echo_vault_app.gui.clipboard import ClipboardGuard
from echo_vault_app.gui.copier import Copier
from echo_vault_app.gui.first_paint import after_first_paint
from echo_vault_app.gui.icons import app_icon
from echo_vault_app.gui.idle import IdleWatcher
from echo_vault_app.gui.main_window import MainWindow
from echo_vault_app.gui.service import VaultService
from echo_vault_app.gui.settings import GuiSettings

if TYPE_CHECKING:
    from echo_vault_app.gui.api_switch import ApiSwitch
    from echo_vault_app.gui.backup_service import BackupService
    from echo_vault_app.gui.issuer_service import IssuerService

log = logging.getLogger(__name__)

APP_ID = "io.echovault.EchoVault"


class EchoVaultApp(QObject):
    """Everything one running app owns, for one vault folder.

    Args:
        folder: vault folder (default from ``ECHO_VAULT_PATH`` or the user data folder).
        settings: GUI preferences; tests pass one backed by a temporary file.
        use_keyring: offer and try the OS keyring.
        kdf_seconds: Argon2 tuning for a vault created here (tests use 0).
        idle_ms: idle-lock timeout override in milliseconds (tests use a short one).
        with_tray: create the tray icon when the desktop has a tray.
    """

    def __init__(
        self,
        folder: Path | None = None,
        *,
        settings: GuiSettings | None = None,
        use_keyring: bool = True,
        kdf_seconds: float = 0.5,
        idle_ms: int | None = None,
        with_tray: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings or GuiSettings()
        self.service = VaultService(folder, use_keyring=use_keyring, kdf_seconds=kdf_seconds)
        self.clipboard = ClipboardGuard(self.settings.clipboard_seconds * 1000, self)
        self.copier = Copier(self.service, self.clipboard)
        self.window = MainWindow(self.service, self.settings, self.copier)
        self.idle = IdleWatcher(0, self)
        self._idle_override = idle_ms
        self.quick_window = None
        self.tray = None
        self._install_panes()
        self._apply_settings()

        self.idle.idle_timed_out.connect(self._on_idle_idle_timed_out)
        self.idle.session_locked.connect(self._on_idle_session_locked)
        self.service.vault_unlocked.connect(self._on_service_vault_unlocked)
        self.service.vault_locked.connect(self.idle.stop)
        self.window.quit_requested.connect(self.quit)
        self.window.settings_requested.connect(self.open_settings)
        self.copier.unlock_needed.connect(self._on_copier_unlock_needed)
        if with_tray:
            self._install_tray()
        self._apply_close_behaviour()

    def _install_panes(self) -> None:
        """Register every pane as a function: each is built when first needed, after unlock."""
        self.dialog: QWidget | None = None
        add = self.window.add_pane
        add("secrets", self.tr("Secrets"), "key", self._build_browser)
        add("templates", self.tr("Templates"), "template", self._build_templates)
        add("issuer", self.tr("Issuer"), "badge", self._build_issuer,
            tooltip=self.tr("API keys and tokens"))  # fmt: skip
        add("audit", self.tr("Audit log"), "audit", self._build_audit)
        self.window.backup_export_requested.connect(self.open_backup_export)
        self.window.backup_import_requested.connect(self.open_backup_import)
        self.window.foreign_import_requested.connect(self.open_foreign_import)
        self.window.rotation_requested.connect(self.open_rotation)

    # The services behind panes and dialogs are made on first use, like the panes: none of
    # them is needed to paint the unlock window.

    @functools.cached_property
    def issuer_service(self) -> IssuerService:
        from echo_vault_app.gui.issuer_service import IssuerService

        return IssuerService(self.service)

    @functools.cached_property
    def backups(self) -> BackupService:
        from echo_vault_app.gui.backup_service import BackupService

        return BackupService(self.service)

    @functools.cached_property
    def api_switch(self) -> ApiSwitch:
        from echo_vault_app.gui.api_switch import ApiSwitch

        return ApiSwitch(self.service, self)

    def _stop_api_server(self) -> None:
        switch = self.__dict__.get("api_switch")
        if switch is not None:
            switch.stop_now()

    # A pane built while the vault is already unlocked missed the vault_unlocked signal, so
    # each builder runs the pane's own unlock handling once.

    def _build_browser(self) -> QWidget:
        from echo_vault_app.gui.browser_pane import BrowserPane

        pane = BrowserPane(self.service, self.copier)
        if self.service.is_unlocked:
            pane._on_service_vault_unlocked()
        return pane

    def _build_templates(self) -> QWidget:
        from echo_vault_app.gui.templates_pane import TemplatesPane

        pane = TemplatesPane(self.service)
        pane.create_requested.connect(self._on_templates_create_requested)
        if self.service.is_unlocked:
            pane._on_service_vault_unlocked()
        return pane

    def _build_issuer(self) -> QWidget:
        from echo_vault_app.gui.issuer_pane import IssuerPane

        return IssuerPane(self.issuer_service, self.clipboard)

    def _build_audit(self) -> QWidget:
        from echo_vault_app.gui.audit_pane import AuditPane

        pane = AuditPane(self.service)
        if self.service.is_unlocked:
            pane.reload()
        return pane

    @property
    def browser(self):
        return self.window.pane("secrets")

    @property
    def templates(self):
        return self.window.pane("templates")

    @property
    def issuer(self):
        return self.window.pane("issuer")

    @property
    def audit(self):
        return self.window.pane("audit")

    # -- vault menu dialogs ---------------------------------------------------------------

    def _open_dialog(self, dialog: QWidget) -> QWidget:
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(self._on_dialog_destroyed)
        self.dialog = dialog
        dialog.show()
        dialog.raise_()
        return dialog

    def _on_dialog_destroyed(self) -> None:
        self.dialog = None

    def _needs_unlock(self) -> bool:
        if self.service.is_unlocked:
            return False
        self.window.raise_window()
        return True

    def open_backup_export(self):
        if self._needs_unlock():
            return None
        from echo_vault_app.gui.backup_export_dialog import BackupExportDialog

        return self._open_dialog(BackupExportDialog(self.backups, self.window))

    def open_backup_import(self):
        if self._needs_unlock():
            return None
        from echo_vault_app.gui.backup_import_dialog import BackupImportDialog

        return self._open_dialog(BackupImportDialog(self.backups, self.window))

    def open_foreign_import(self):
        if self._needs_unlock():
            return None
        from echo_vault_app.gui.foreign_import_dialog import ForeignImportDialog

        return self._open_dialog(ForeignImportDialog(self.backups, self.window))

    def open_rotation(self):
        """The rotation wizard, not modal: the rest of the app stays usable while it runs."""
        if self._needs_unlock():
            return None
        from echo_vault_app.gui.rotation_wizard import RotationWizard

        wizard = RotationWizard(
            self.service, self.issuer_service, self.backups, self.clipboard, self.window
        )
        wizard.setWindowModality(QtCore.Qt.WindowModality.NonModal)
        return self._open_dialog(wizard)

    def _install_tray(self) -> None:
        from echo_vault_app.gui.tray import TrayController

        self.tray = TrayController(self)
        if self.has_tray:
            # A tray app lives on with no window open: closing a dialog while the main window
            # sits in the tray must not end it. Quit stays explicit (menu, tray, Ctrl+Q).
            QApplication.setQuitOnLastWindowClosed(False)

    @property
    def has_tray(self) -> bool:
        """Whether a tray icon is showing (the desktop has a system tray)."""
        return self.tray is not None and self.tray.icon is not None

    def _apply_close_behaviour(self) -> None:
        self.window.hide_on_close = self.settings.close_to_tray and self.has_tray

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, *, quick: bool = False, in_tray: bool = False) -> None:
        """Show the window, the quick-copy palette, or (``in_tray``) only the tray icon.

        ``in_tray`` is for starting at login: the window waits behind the tray icon. Where
        the desktop has no tray, the window is shown anyway, since nothing else could open it.
        """
        after_first_paint(self.window, self._after_first_paint)
        self.window.start()
        if quick:
            self.open_quick()
        elif in_tray and self.has_tray:
            log.info("started in the system tray; the window opens from the tray icon")
        else:
            if in_tray:
                log.info("no system tray on this desktop: showing the window")
            self.window.raise_window()

    def _after_first_paint(self) -> None:
        from echo_vault_app.gui.theme import watch_scheme_changes

        watch_scheme_changes()
        self.idle.watch_application_state()

    def open_quick(self) -> None:
        """The quick-copy palette; while locked, the unlock window comes first."""
        from echo_vault_app.gui.quick_copy import QuickCopyWindow

        if self.quick_window is None:
            self.quick_window = QuickCopyWindow(self.service, self.copier)
        if not self.service.is_unlocked:
            self.window.raise_window()
            self.service.vault_unlocked.connect(self._show_quick_after_unlock)
            return
        self.quick_window.open_palette()

    def _show_quick_after_unlock(self) -> None:
        self.service.vault_unlocked.disconnect(self._show_quick_after_unlock)
        if self.quick_window is not None:
            self.quick_window.open_palette()

    def quit(self) -> None:
        """Clear the clipboard if it holds our value, lock, and leave the event loop."""
        self._stop_api_server()
        self.clipboard.clear_now()
        self.service.lock()
        if self.tray is not None:
            self.tray.hide()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def close(self) -> None:
        """Tear down without quitting the Qt application (tests build many apps); idempotent."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        self._stop_api_server()
        self.clipboard.clear_now()
        self.service.lock()
        self.idle.stop()
        if self.tray is not None:
            self.tray.hide()
        if self.quick_window is not None:
            self.quick_window.close()
        self.window.quit_requested.disconnect(self.quit)
        self.window.close()

    # -- settings and locking -------------------------------------------------------------

    def _apply_settings(self) -> None:
        self.clipboard.clear_ms = self.settings.clipboard_seconds * 1000
        from echo_vault_app.gui.theme import apply_theme

        apply_theme(self.settings.theme)
        if self.service.is_unlocked:
            self.idle.set_timeout_ms(self.idle_timeout_ms())

    def idle_timeout_ms(self) -> int:
        if self._idle_override is not None:
            return self._idle_override
        if not self.settings.auto_lock_enabled:
            return 0
        return self.settings.auto_lock_minutes * 60 * 1000

    def open_settings(self) -> None:
        from echo_vault_app.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(
            self.service,
            self.settings,
            self.idle.watches_session,
            self.window,
            api_switch=self.api_switch,
            has_tray=self.has_tray,
        )
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._apply_settings)
        dialog.accepted.connect(self._apply_close_behaviour)
        self.settings_dialog = dialog
        dialog.open()

    def _on_service_vault_unlocked(self) -> None:
        self.idle.set_timeout_ms(self.idle_timeout_ms())

    def _on_idle_idle_timed_out(self) -> None:
        if self.service.is_unlocked and not self.service.is_busy:
            log.info("locking vault after idle timeout")
            self.service.lock()

    def _on_idle_session_locked(self) -> None:
        if self.settings.lock_on_screen_lock and self.service.is_unlocked:
            log.info("locking vault because the session locked or suspended")
            self.service.lock()

    def _on_copier_unlock_needed(self) -> None:
        self.window.raise_window()
        self.window.message_bar.show_message(self.tr("Unlock the vault to copy."), kind="info")

    def _on_templates_create_requested(self, template_id: str) -> None:
        self.window.show_pane("secrets")
        self.browser.add_secret(template_id)


# -- process entry ------------------------------------------------------------------------


def disable_core_dumps() -> None:
    """A core dump would hold decrypted secrets and keys: switch them off for this process."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):  # not on Windows; nothing to switch off there
        log.debug("core dump limit not changed on this platform")


def install_excepthook() -> None:
    """Log unexpected errors and show one line; no traceback reaches the user."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected %s:\n%s", kind.__name__, "".join(traceback.format_tb(tb)).rstrip())
        from echo_vault_app.gui import prompts
        from echo_vault_app.gui.messages import describe

        try:
            prompts.error(None, "Echo Vault", describe(exc))
        except Exception:  # the hook must never raise
            log.error("could not show the error message")

    sys.excepthook = hook


def warn_about_known_bad_qt() -> None:
    """PySide6 6.12.0 drops references to None and True on every void call and every emit.

    On Python 3.11 those objects are not immortal, so a long session ends in an interpreter
    abort ("deallocating None"). :mod:`.signals` repairs the emit half; the void-call half
    cannot be repaired from Python, so the dependency pin must avoid 6.12.0.
    """
    import PySide6

    if PySide6.__version__ == "6.12.0" and sys.version_info < (3, 12):
        log.warning("PySide6 6.12.0 on Python 3.11 has a reference-count bug; use 6.11.x")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="echo-vault", description="Echo Vault desktop app")
    parser.add_argument("--vault", type=Path, help="vault folder (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="open the quick-copy palette")
    parser.add_argument(
        "--tray",
        action="store_true",
        help="start with only the tray icon (as at login); the window opens from it",
    )
    parser.add_argument("--version", action="version", version=f"echo-vault {__version__}")
    args, _qt_args = parser.parse_known_args(argv)
    return args


def configure_process() -> None:
    """What the app sets for its whole process before Qt starts: no core dumps, and logging."""
    disable_core_dumps()
    logsetup.configure()


def main(argv: list[str] | None = None) -> int:
    """Run the app; returns the process exit status."""
    configure_process()
    warn_about_known_bad_qt()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    folder = (args.vault or config.default_vault_path()).expanduser()

    QApplication.setApplicationName("Echo Vault")
    QApplication.setOrganizationName("Echo Vault")
    QApplication.setDesktopFileName(APP_ID)
    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    qt_app.setWindowIcon(app_icon())
    install_excepthook()

    from echo_vault_app.gui.single_instance import InstanceServer, ask_running_instance

    # A second start at login (--tray) finds the app running and leaves it as it is.
    message = b"quick" if args.quick else b"tray" if args.tray else b"show"
    if ask_running_instance(folder, message):
        log.info("handed the request to the running instance for %s", folder)
        return 0
    server = InstanceServer(folder)
    server.listen()

    app = EchoVaultApp(folder, settings=GuiSettings(QSettings()))
    server.show_requested.connect(app.window.raise_window)
    server.quick_requested.connect(app.open_quick)
    from echo_vault_app.gui.termination import TerminationWatcher

    watcher = TerminationWatcher(app.quit)
    app.start(quick=args.quick, in_tray=args.tray)
    status = qt_app.exec()
    watcher.close()
    server.close()
    return status
