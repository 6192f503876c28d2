"""Lock the vault after a period without user input, and when the session says so.

Idle means no key, mouse, wheel or touch event reached the application. The timeout is in
milliseconds so tests can use a short one. Screen-lock and suspend signals come from Qt's
application state (``ApplicationSuspended``, reported on macOS and mobile platforms) and, on
Linux, from the freedesktop ScreenSaver and logind D-Bus signals when QtDBus and a session bus
are there; where neither exists (a bare X11 or Wayland session without a bus) only the idle
timer locks.
"""

from __future__ import annotations

import logging

from PySide6 import QtCore
from PySide6.QtCore import SLOT, QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication

from echo_vault_app.gui.signals import emit

log = logging.getLogger(__name__)

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.ShortcutOverride,
    }
)


class IdleWatcher(QObject):
    """Emits ``idle_timed_out`` after ``timeout_ms`` without input (0 switches it off)."""

    idle_timed_out = Signal()
    session_locked = Signal()

    def __init__(self, timeout_ms: int = 0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle_timed_out)
        self._filtering = False
        self._watching_state = False
        # The session buses are joined when a timeout is first set (at unlock): a locked
        # vault has nothing to lock, and joining them costs start-up time before the unlock
        # window is painted.
        self._bus_connected: bool | None = None
        self._timeout_ms = max(0, int(timeout_ms))
        self.restart()

    def watch_application_state(self) -> None:
        """Lock when the platform suspends the app; connected once the window has painted,
        since the signal carries a ``Qt`` enum (see :mod:`echo_vault_app.gui.first_paint`)."""
        if not self._watching_state:
            app = QApplication.instance()
            app.applicationStateChanged.connect(self._on_app_application_state_changed)
            self._watching_state = True

    @property
    def watches_application_state(self) -> bool:
        return self._watching_state

    @property
    def watches_session(self) -> bool:
        """Whether screen-lock or suspend signals from the desktop session are connected."""
        return self._join_session_buses()

    def _join_session_buses(self) -> bool:
        if self._bus_connected is None:
            self._bus_connected = _connect_session_signals(self)
        return self._bus_connected

    def set_timeout_ms(self, timeout_ms: int) -> None:
        self._join_session_buses()
        self._timeout_ms = max(0, int(timeout_ms))
        self.restart()

    def timeout_ms(self) -> int:
        return self._timeout_ms

    def restart(self) -> None:
        if self._timeout_ms:
            self._timer.start(self._timeout_ms)
            self._filter_input(True)
        else:
            self.stop()

    def stop(self) -> None:
        self._timer.stop()
        self._filter_input(False)

    def _filter_input(self, on: bool) -> None:
        """Watch the application's events only while the timer runs.

        An application-wide filter sees every event of every object, and PySide6 builds the
        Python type (with all its enums) of each one it hands over: filtering from the start
        costs about 30 ms before the unlock window is painted, for a timer that is not running.
        """
        if on == self._filtering:
            return
        app = QApplication.instance()
        if app is None:
            return
        if on:
            app.installEventFilter(self)
        else:
            app.removeEventFilter(self)
        self._filtering = on

    def is_running(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if event.type() in _INPUT_EVENTS and self._timer.isActive():
            self._timer.start(self._timeout_ms)
        return False

    def _on_app_application_state_changed(self, state: QtCore.Qt.ApplicationState) -> None:
        if state == QtCore.Qt.ApplicationState.ApplicationSuspended:
            emit(self.session_locked)

    @Slot(bool)
    def _on_bus_active_changed(self, active: bool) -> None:
        if active:
            emit(self.session_locked)

    @Slot(bool)
    def _on_bus_prepare_for_sleep(self, sleeping: bool) -> None:
        if sleeping:
            emit(self.session_locked)


def _connect_session_signals(watcher: IdleWatcher) -> bool:
    try:
        from PySide6.QtDBus import QDBusConnection
    except ImportError:
        return False
    connected = False
    session = QDBusConnection.sessionBus()
    if session.isConnected():
        connected |= session.connect(
            "",
            "/org/freedesktop/ScreenSaver",
            "org.freedesktop.ScreenSaver",
            "ActiveChanged",
            watcher,
            SLOT("_on_bus_active_changed(bool)"),
        )
    system = QDBusConnection.systemBus()
    if system.isConnected():
        connected |= system.connect(
            "org.freedesktop.login1",
            "/org/freedesktop/login1",
            "org.freedesktop.login1.Manager",
            "PrepareForSleep",
            watcher,
            SLOT("_on_bus_prepare_for_sleep(bool)"),
        )
    log.info("session lock signals connected: %s", connected)
    return connected
