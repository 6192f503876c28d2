"""The local REST API's on/off switch: an ``ApiServer`` owned by the app, loopback only.

Starting binds a socket and waits for the server thread (up to a few seconds), stopping waits
for open requests, so both run through :mod:`.worker`. The server reads the app's current
``SecretsManager`` on each request; while the vault is locked it answers 423. The web stack
(uvicorn, Starlette) is imported only when the switch is first turned on.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from echo_vault_app.gui import worker
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.service import VaultService
from echo_vault_app.gui.signals import emit

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8787


class ApiSwitch(QObject):
    """``state_changed`` fires after every start, stop or failure; read :attr:`status_text`."""

    state_changed = Signal()

    def __init__(self, service: VaultService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.error = ""
        self.busy = False
        self._server: Any = None

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def url(self) -> str | None:
        return self._server.url if self.running else None

    def _source(self):
        return self.service.manager if self.service.is_unlocked else None

    def start(self, port: int = DEFAULT_PORT) -> worker.Task | None:
        """Serve on ``127.0.0.1:port`` (0 picks a free port); the GUI never binds elsewhere."""
        if self.running or self.busy:
            return None

        def work() -> str:
            from echo_vault_app.api.server import ApiServer

            if self._server is None:
                self._server = ApiServer(self._source)
            return self._server.start(host=LOOPBACK, port=port, allow_remote=False)

        self.busy, self.error = True, ""
        return worker.run_in_background(
            work, on_result=self._on_started, on_error=self._on_failed, name="api-start"
        )

    def stop(self) -> worker.Task | None:
        if self._server is None or self.busy:
            return None
        server = self._server
        self.busy = True
        return worker.run_in_background(
            server.stop, on_result=self._on_stopped, on_error=self._on_failed, name="api-stop"
        )

    def stop_now(self) -> None:
        """Stop on this thread (at quit, when there is no event loop left to deliver to)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _on_started(self, url: str) -> None:
        self.busy = False
        log.info("API switch turned on at %s", url)
        emit(self.state_changed)

    def _on_stopped(self, _result: object) -> None:
        self.busy = False
        self._server = None
        emit(self.state_changed)

    def _on_failed(self, exc: BaseException) -> None:
        self.busy = False
        self.error = describe(exc)
        emit(self.state_changed)

    def status_text(self) -> str:
        if self.busy:
            return self.tr("Working…")
        if self.running:
            return self.tr("Running at %1").replace("%1", self.url or "")
        if self.error:
            return self.tr("Not running: %1").replace("%1", self.error)
        return self.tr("Off")
