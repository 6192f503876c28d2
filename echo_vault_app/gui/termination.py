"""Leaving cleanly on SIGTERM, SIGINT and SIGHUP (logout, shutdown, Ctrl+C in a terminal).

Python runs signal handlers only when the interpreter gets control, and inside Qt's event loop
it may not for a long time. The C-level handler therefore writes the signal number to a socket
(``signal.set_wakeup_fd``); a ``QSocketNotifier`` on the other end wakes the loop, and the
Python handler then asks the app to quit the normal way: clipboard cleared if it still holds
our value, vault locked, API server stopped.
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class TerminationWatcher(QObject):
    """Keeps the socket pair and notifier alive for the life of the app."""

    def __init__(self, on_signal: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_signal = on_signal
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._previous = {sig: signal.signal(sig, self._handle) for sig in SIGNALS}

    def _drain(self) -> None:
        try:
            while self._reader.recv(64):
                pass
        except BlockingIOError:
            pass

    def _handle(self, signum: int, frame: object) -> None:
        log.info("received %s; locking and quitting", signal.Signals(signum).name)
        # Quit from inside the event loop: a signal that arrives while the app is still
        # starting (before ``exec()``) would otherwise ask a loop that is not yet running to
        # stop, which Qt ignores, and the app would then run on.
        QTimer.singleShot(0, self._on_signal)

    def close(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        signal.set_wakeup_fd(self._previous_fd)
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()
