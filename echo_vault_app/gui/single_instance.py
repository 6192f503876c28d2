"""One running app per vault: a second launch hands its request to the first and exits.

The local socket's name is derived from a hash of the vault folder, so two vaults can run side
by side while the same vault cannot be opened twice (two processes would fight over the
clipboard, the keyring prompt and the database's write lock).
"""

from __future__ import annotations

import getpass
import logging
from pathlib import Path

from PySide6.QtCore import QCryptographicHash, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from echo_vault_app.gui.signals import emit

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 500
MESSAGES = frozenset({b"show", b"quick", b"tray"})


def server_name(folder: Path) -> str:
    """A socket name unique to this user and vault folder."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers; the folder still separates vaults
        user = "user"
    # Qt's SHA-256 gives the same name as hashlib's without loading OpenSSL before the window.
    data = f"{user}\0{Path(folder).resolve()}".encode()
    digest = QCryptographicHash.hash(data, QCryptographicHash.Algorithm.Sha256).toHex().data()
    return f"echo-vault-{bytes(digest[:20]).decode('ascii')}"


def ask_running_instance(folder: Path, message: bytes = b"show") -> bool:
    """Send ``message`` to an app already running on ``folder``; False when there is none."""
    socket = QLocalSocket()
    socket.connectToServer(server_name(folder))
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    socket.write(message + b"\n")
    socket.flush()
    socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    socket.disconnectFromServer()
    return True


class InstanceServer(QObject):
    """Listens for later launches; ``show_requested``/``quick_requested`` say what they want."""

    show_requested = Signal()
    quick_requested = Signal()

    def __init__(self, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(folder)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._on_server_new_connection)

    def listen(self) -> bool:
        if self.server.listen(self.name):
            return True
        # A crashed instance leaves its socket file behind on Unix: remove it and retry.
        QLocalServer.removeServer(self.name)
        ok = self.server.listen(self.name)
        if not ok:
            log.warning("single-instance socket not available: %s", self.server.errorString())
        return ok

    def close(self) -> None:
        self.server.close()

    def _on_server_new_connection(self) -> None:
        # The message is one short line written right after connecting, so it is read here
        # with a short wait instead of through per-socket callbacks that could outlive it.
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            if socket.bytesAvailable() or socket.waitForReadyRead(CONNECT_TIMEOUT_MS):
                line = bytes(socket.readLine()).strip()
            else:
                line = b""
            socket.abort()
            socket.deleteLater()
            if line == b"quick":
                emit(self.quick_requested)
            elif line == b"tray":
                log.info("a start in the tray found the app already running; left as it is")
            elif line in MESSAGES:
                emit(self.show_requested)
