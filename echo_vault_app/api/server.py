"""Running the API: ``ApiServer`` for the desktop app (a background thread) and the CLI.

The server is off until started. It binds the socket itself before serving, so a port of 0
gets a free port whose number the ``Host`` check and ``url`` then use, and a Unix socket is
created with mode 0600.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import uvicorn

from echo_vault_app.api.app import create_app
from echo_vault_app.api.backend import LoginLimits, ManagerSource, shared_login_limits
from echo_vault_app.api.config import ServerConfig
from echo_vault_app.errors import EchoVaultError, UsageError
from echo_vault_app.secrets import SecretsManager

if TYPE_CHECKING:
    from echo_vault_app.core.vault import Vault

log = logging.getLogger(__name__)

EARLY_EXIT_SECONDS = 5.0
"""A worker that exits with an error this soon after its start failed to start."""
RESTARTS_PER_MINUTE = 10
"""More replacements than this within a minute mean workers crash in a loop: stop instead."""
STOP_SECONDS = 10.0
"""How long stopping workers get to finish open requests before they are killed."""


class ServerFailed(EchoVaultError):
    """The API server could not keep serving (a worker process failed at start)."""


def bind(config: ServerConfig) -> socket.socket:
    """Open the listening socket the configuration asks for.

    Raises:
        UsageError: the address is taken, not available, or the socket path is not ours.
    """
    if config.socket_path is not None:
        return _bind_unix(Path(config.socket_path))
    host = config.host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, config.port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _bind_unix(path: Path) -> socket.socket:
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise UsageError(f"{path} exists and is not a socket; refusing to replace it")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
            raise UsageError(f"another server is listening on {path}")
        except OSError:
            path.unlink()
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot create socket {path}: {exc.strerror}") from None
    finally:
        os.umask(old_umask)
    sock.listen(2048)
    return sock


def url_for(config: ServerConfig, sock: socket.socket) -> str:
    if config.socket_path is not None:
        return f"unix:{config.socket_path}"
    port = sock.getsockname()[1]
    host = config.host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{'https' if config.tls else 'http'}://{host}:{port}"


def _uvicorn_config(app: Any, config: ServerConfig) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        lifespan="off",
        access_log=False,  # the guard writes its own access log, with nothing sensitive in it
        log_config=None,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        ssl_certfile=str(config.tls_cert) if config.tls_cert else None,
        ssl_keyfile=str(config.tls_key) if config.tls_key else None,
        timeout_graceful_shutdown=5,
    )


def _record(source: SecretsManager | ManagerSource, action: str, url: str) -> None:
    """Audit that the server started or stopped (best effort while the vault is open)."""
    manager = source() if callable(source) else source
    if manager is None or manager.vault.is_locked:
        return
    try:
        manager.record_event(action, url)
    except EchoVaultError as exc:
        log.warning("could not audit %s: %s", action, type(exc).__name__)


class ApiServer:
    """The local REST API in a background thread, for the desktop app's on/off switch.

    ``source`` is the app's unlocked ``SecretsManager`` or a function returning the current one
    (None while locked: requests are then answered 423). Typical use::

        server = ApiServer(lambda: service.manager)
        url = server.start(port=0)     # "http://127.0.0.1:41234"
        server.running, server.url
        server.stop()
    """

    def __init__(
        self, source: SecretsManager | ManagerSource, config: ServerConfig | None = None
    ) -> None:
        self._source = source
        self.config = config or ServerConfig()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._app: Any = None
        self._failure: BaseException | None = None
        self.url: str | None = None

    @property
    def running(self) -> bool:
        return (
            self._thread is not None
            and self._thread.is_alive()
            and bool(self._server and self._server.started)
        )

    def start(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        socket_path: str | Path | None = None,
        allow_remote: bool | None = None,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
        timeout: float = 10.0,
    ) -> str:
        """Start serving and return the URL; arguments left out keep ``self.config``'s values.

        Raises:
            UsageError: unsafe or impossible settings, the port is taken, or already running.
        """
        if self._thread is not None and self._thread.is_alive():
            raise UsageError(f"the API server is already running at {self.url}")
        changes: dict[str, Any] = {}
        for key, value in (("host", host), ("port", port), ("allow_remote", allow_remote)):
            if value is not None:
                changes[key] = value
        for key, value in (("socket_path", socket_path), ("tls_cert", tls_cert),
                           ("tls_key", tls_key)):  # fmt: skip
            if value is not None:
                changes[key] = Path(value)
        config = replace(self.config, **changes)
        config.check()

        sock = bind(config)
        url = url_for(config, sock)
        actual_port = None if config.socket_path else sock.getsockname()[1]
        self._app = create_app(self._source, config, port=actual_port)
        server = uvicorn.Server(_uvicorn_config(self._app, config))
        self._server, self._failure, self.config = server, None, config
        self._thread = threading.Thread(
            target=self._serve, args=(server, sock), name="echo-vault-api", daemon=True
        )
        self._thread.start()
        ready = threading.Event()
        while not server.started and self._thread.is_alive() and timeout > 0:
            ready.wait(0.02)
            timeout -= 0.02
        if not server.started:
            self.stop()
            raise UsageError(f"the API server did not start: {self._failure or 'timed out'}")
        self.url = url
        _record(self._source, "api.serve.start", url)
        log.info("started API server on %s", url)
        return url

    def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by start(); never raised into the app
            self._failure = exc
            log.error("API server stopped with %s", type(exc).__name__)
        finally:
            sock.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (open requests get a few seconds to finish); safe to call twice."""
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout)
        if self._app is not None:
            self._app.backend.close()
        if self.config.socket_path is not None:
            with contextlib.suppress(OSError):
                Path(self.config.socket_path).unlink()
        if self.url is not None:
            _record(self._source, "api.serve.stop", self.url)
            log.info("stopped API server on %s", self.url)
        self._server = self._thread = self._app = None
        self.url = None


def serve_forever(
    source: SecretsManager | ManagerSource,
    config: ServerConfig,
    on_ready: Any = None,
    *,
    workers: int = 1,
) -> None:
    """Serve in this thread until SIGINT or SIGTERM (the CLI's ``serve``).

    With ``workers`` above 1 the requests are spread over that many processes forked from
    this one (see :func:`_serve_in_workers`); ``source`` must then be an unlocked manager.
    """
    config.check()
    sock = bind(config)
    url = url_for(config, sock)
    port = None if config.socket_path else sock.getsockname()[1]
    if workers > 1 and not isinstance(source, SecretsManager):
        raise UsageError("worker processes need an unlocked vault to open again")
    _record(source, "api.serve.start", url)
    reopened: SecretsManager | None = None
    try:
        if workers > 1:
            ready = (lambda: on_ready(url)) if on_ready is not None else (lambda: None)
            reopened = _serve_in_workers(source, config, sock, port, workers, ready)
            return
        app = create_app(source, config, port=port)
        server = uvicorn.Server(_uvicorn_config(app, config))
        if on_ready is not None:
            on_ready(url)
        try:
            server.run(sockets=[sock])
        finally:
            app.backend.close()
    finally:
        sock.close()
        if config.socket_path is not None:
            with contextlib.suppress(OSError):
                Path(config.socket_path).unlink()
        _record(reopened or source, "api.serve.stop", url)
        if reopened is not None:
            reopened.lock()


def _serve_in_workers(
    manager: SecretsManager,
    config: ServerConfig,
    sock: socket.socket,
    port: int | None,
    count: int,
    on_ready: Callable[[], None],
) -> SecretsManager:
    """Fork ``count`` workers that serve ``sock``, supervise them, and stop them on a signal.

    One process serves one request at a time in Python (the interpreter lock), so on a
    machine with several cores the requests are spread over processes. Each worker opens the
    vault again with the key this process unlocked (a SQLite connection must not cross
    ``fork``, so this process closes its own first), writers in different workers queue on
    the database's write lock, and the login rate limits live in memory all workers share. A
    worker that is killed is replaced. One that exits with an error within
    :data:`EARLY_EXIT_SECONDS` of its start failed to start, and a replacement would fail the
    same way, so the server stops; so it does when workers die more than
    :data:`RESTARTS_PER_MINUTE` times a minute. Returns a manager opened again after the
    workers stopped, for the closing audit event.
    """
    opener = manager.vault.opener()
    manager.lock()
    login_limits = shared_login_limits(config.rate_limits)
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: stopping.append(signum))
                for sig in stop_signals}  # fmt: skip
    children: dict[int, float] = {}
    restarts: list[float] = []
    failure: str | None = None

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:
            for sig in stop_signals:
                signal.signal(sig, signal.SIG_DFL)  # uvicorn installs its own when it runs
            _worker(opener, config, sock, port, login_limits)
        children[pid] = time.monotonic()

    try:
        for _ in range(count):
            spawn()
        log.info("started %d API worker processes", count)
        on_ready()
        signalled = False
        while children:
            if (stopping or failure) and not signalled:
                signalled = True
                _signal_all(children, signal.SIGTERM)
                deadline = time.monotonic() + STOP_SECONDS
            if signalled and time.monotonic() > deadline:
                _signal_all(children, signal.SIGKILL)
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                time.sleep(0.1)
                continue
            started = children.pop(pid, None)
            if started is None or signalled:
                continue
            how, now = _describe_exit(status), time.monotonic()
            restarts = [t for t in restarts if now - t < 60.0] + [now]
            if not os.WIFSIGNALED(status) and now - started < EARLY_EXIT_SECONDS:
                failure = f"an API worker {how} right after it started"
            elif len(restarts) > RESTARTS_PER_MINUTE:
                failure = f"API workers died {len(restarts)} times within a minute"
            if failure:
                log.error("API worker %d %s; stopping the server", pid, how)
                continue
            log.error("API worker %d %s; starting another", pid, how)
            spawn()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _signal_all(children, signal.SIGKILL)
        for pid in list(children):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    if failure:
        raise ServerFailed(failure)
    return SecretsManager(vault=opener())


def _worker(
    opener: Callable[[], Vault],
    config: ServerConfig,
    sock: socket.socket,
    port: int | None,
    login_limits: LoginLimits,
) -> NoReturn:
    """One forked worker: its own vault connection, the app, uvicorn; never returns."""
    status = 1
    try:
        manager = SecretsManager(vault=opener())
        app = create_app(manager, config, port=port, login_limits=login_limits)
        try:
            uvicorn.Server(_uvicorn_config(app, config)).run(sockets=[sock])
        finally:
            app.backend.close()
            manager.lock()
        status = 0
    except BaseException as exc:  # a worker reports in the log and exits; nothing propagates
        log.error("API worker %d stopped with %s: %s", os.getpid(), type(exc).__name__, exc)
    finally:
        logging.shutdown()
        os._exit(status)


def _signal_all(children: dict[int, float], signum: int) -> None:
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by signal {os.WTERMSIG(status)}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"
