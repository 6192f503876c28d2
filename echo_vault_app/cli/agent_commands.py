"""``echo-vault-cli agent``: keep one vault unlocked for its owner's read commands.

A script that calls ``echo-vault-cli get`` in a loop pays, every time, for loading the
vault's cryptography and SQLCipher and for opening and unlocking the database: about a tenth
of a second here. ``agent start`` unlocks the vault once and answers ``get``, ``list`` and
``search`` from other ``echo-vault-cli`` processes of the same user over ``agent.sock`` in the
vault folder, as ``ssh-agent`` or Vault Agent do for their secrets. Everything else (writes,
exports, rotation, unlocking with a passphrase given to the command) still runs in the
caller's own process.

What an agent changes for security, stated where it is built: while it runs, any process of
the same user can read the vault's secrets without a passphrase, as any process of that user
can already with ``ECHO_VAULT_MASTER_KEY`` or an unlocked keyring. So it runs only when
started, in the foreground (stop it with Ctrl+C, SIGTERM or ``agent stop``), locks and exits
after ``--idle-timeout`` seconds without a request (10 minutes by default), listens only in the
owner-only vault folder, refuses peers of another uid where the platform reports the peer
(Linux), and records every read it serves in the audit trail under the ``cli-agent`` actor.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import io
import json
import logging
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from echo_vault_app.cli import agent_client
from echo_vault_app.cli import secret_commands as sc
from echo_vault_app.cli.context import Context
from echo_vault_app.core.audit import acting_as, default_actor
from echo_vault_app.errors import Conflict, UsageError
from echo_vault_app.log import configure

log = logging.getLogger(__name__)

DEFAULT_IDLE_TIMEOUT = 600
# sockaddr_un's path field: 108 bytes on Linux, 104 on the BSDs and macOS, with the final NUL.
_MAX_SOCKET_PATH = 103 if sys.platform == "darwin" or "bsd" in sys.platform else 107
_SERVED = (sc.cmd_get, sc.cmd_list, sc.cmd_search)
_REQUEST_TIMEOUT = 5.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "agent", help="keep the vault unlocked for this user's get, list and search commands"
    )
    actions = p.add_subparsers(dest="agent_action", metavar="ACTION", parser_class=type(p))
    actions.required = True
    start = actions.add_parser("start", help="unlock the vault and answer until stopped or idle")
    start.add_argument(
        "--idle-timeout",
        type=int,
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="SECONDS",
        help=f"lock and exit after this long without a request (default {DEFAULT_IDLE_TIMEOUT})",
    )
    start.set_defaults(func=cmd_agent_start)
    stop = actions.add_parser("stop", help="lock the vault in the running agent and stop it")
    stop.set_defaults(func=cmd_agent_stop)
    status = actions.add_parser("status", help="whether an agent serves this vault (exit 4: no)")
    status.set_defaults(func=cmd_agent_status)


def cmd_agent_status(ctx: Context, args: argparse.Namespace) -> int:
    answer = _ask(ctx.folder, "status")
    if answer is None:
        print(f"no agent serves {ctx.folder}")
        return 4
    print(
        f"agent pid {answer.get('pid')} serves {ctx.folder}; it locks after"
        f" {answer.get('idle_timeout')} s without a request ({answer.get('locks_in')} s left)"
    )
    return 0


def cmd_agent_stop(ctx: Context, args: argparse.Namespace) -> int:
    answer = _ask(ctx.folder, "stop")
    if answer is None:
        print(f"no agent serves {ctx.folder}", file=sys.stderr)
        return 4
    print(f"agent pid {answer.get('pid')} locked the vault and stopped", file=sys.stderr)
    return 0


def _ask(folder: Path, op: str) -> dict | None:
    path = agent_client.socket_path(folder)
    if not agent_client.owned_socket(path):
        return None
    try:
        header, _ = agent_client.request(path, {"op": op}, timeout=_REQUEST_TIMEOUT)
    except (OSError, ValueError):
        return None
    return header


def cmd_agent_start(ctx: Context, args: argparse.Namespace) -> int:
    if not hasattr(socket, "AF_UNIX"):
        raise UsageError("the agent needs Unix sockets, which this platform does not offer")
    if args.idle_timeout <= 0:
        raise UsageError("--idle-timeout takes a number of seconds above 0")
    configure(default_level="WARNING")  # a long-running agent reports refused peers
    folder = ctx.folder.expanduser().absolute()
    path = agent_client.socket_path(folder)
    if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
        raise UsageError(
            f"the vault folder's path is too long for the agent's socket ({path}); the limit"
            f" is {_MAX_SOCKET_PATH} bytes"
        )
    answer = _ask(folder, "status")
    if answer is not None:
        raise Conflict(f"an agent (pid {answer.get('pid')}) already serves {folder}")
    if folder.is_dir():
        _check_private(folder)
    manager = ctx.manager  # unlocks through the usual order, asking for a passphrase if needed
    agent = _Agent(ctx, folder, path, args.idle_timeout)
    with agent.listening():
        print(
            f"echo-vault-cli: agent serving {folder} for get, list and search; it locks after"
            f" {args.idle_timeout} s without a request (stop: Ctrl+C or `echo-vault-cli agent"
            " stop`)",
            file=sys.stderr,
            flush=True,
        )
        reason = agent.serve()
    manager.lock()
    print(f"echo-vault-cli: agent locked the vault and stopped ({reason})", file=sys.stderr)
    return 0


def _check_private(folder: Path) -> None:
    """The socket's protection is the folder's: refuse one others can enter."""
    info = folder.stat()
    if info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise UsageError(
            f"{folder} is open to other users (mode {info.st_mode & 0o777:o}); the agent only"
            " listens in a folder private to you (chmod 700)"
        )


class _Stop(BaseException):
    """Raised by a signal handler; not an Exception, so a running command cannot swallow it."""


class _Capture(io.TextIOWrapper):
    """A command's stdout or stderr, kept for the caller, who says whether it is a terminal."""

    def __init__(self, tty: bool, encoding: str) -> None:
        super().__init__(io.BytesIO(), encoding=encoding, errors="replace", write_through=True)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def data(self) -> bytes:
        self.flush()
        return self.buffer.getvalue()


class _Agent:
    def __init__(self, ctx: Context, folder: Path, path: str, idle_timeout: int) -> None:
        self.ctx = ctx
        self.folder = folder
        self.path = path
        self.idle_timeout = idle_timeout
        self.actor = default_actor("cli-agent")
        self._server: socket.socket | None = None
        self._inode: int | None = None
        self._last = time.monotonic()

    @contextlib.contextmanager
    def listening(self) -> Iterator[None]:
        """Bind the socket owner-only (no window with wider rights), remove it on the way out."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # a stale socket: status found nobody answering on it
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            server.bind(self.path)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        self._inode = os.lstat(self.path).st_ino
        server.listen(16)
        self._server = server
        signals = [signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)]
        previous = {sig: signal.signal(sig, self._on_signal) for sig in signals if sig}
        try:
            yield
        finally:
            server.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            with contextlib.suppress(OSError):
                if os.lstat(self.path).st_ino == self._inode:
                    os.unlink(self.path)

    def _on_signal(self, signum: int, _frame: object) -> None:
        raise _Stop(f"signal {signal.Signals(signum).name}")

    def serve(self) -> str:
        """Answer requests one at a time until stopped; the reason it stopped."""
        assert self._server is not None
        try:
            while True:
                left = self.idle_timeout - (time.monotonic() - self._last)
                if left <= 0:
                    return f"{self.idle_timeout} s without a request"
                self._server.settimeout(left)
                try:
                    conn, _ = self._server.accept()
                except TimeoutError:
                    continue
                with conn:
                    if self._answer(conn):
                        return "asked to stop"
        except _Stop as exc:
            return str(exc)

    def _answer(self, conn: socket.socket) -> bool:
        """Serve one connection; True when it asked the agent to stop."""
        conn.settimeout(_REQUEST_TIMEOUT)
        pid, uid = _peer(conn)
        if uid is not None and uid != os.geteuid():
            log.warning("refused agent request from uid %s (pid %s)", uid, pid)
            return False
        try:
            message = _read_request(conn)
        except (OSError, ValueError) as exc:
            log.info("dropped a malformed agent request: %s", type(exc).__name__)
            return False
        op = message.get("op")
        if op == "run":
            self._last = time.monotonic()
            header, body = self._run(message, pid)
        elif op in ("status", "stop"):
            header, body = self._status(), b""
        else:
            header, body = {"status": "declined", "reason": "unknown request"}, b""
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps(header).encode() + b"\n" + body)
        return op == "stop"

    def _status(self) -> dict:
        return {
            "status": "ok",
            "pid": os.getpid(),
            "folder": str(self.folder),
            "idle_timeout": self.idle_timeout,
            "locks_in": round(self.idle_timeout - (time.monotonic() - self._last)),
        }

    def _run(self, message: dict, pid: int | None) -> tuple[dict, bytes]:
        from echo_vault_app.cli.main import build_parser, execute

        argv, cwd = message.get("argv"), message.get("cwd")
        if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
            return {"status": "declined", "reason": "malformed request"}, b""
        if not isinstance(cwd, str) or not os.path.isabs(cwd):
            return {"status": "declined", "reason": "malformed request"}, b""
        if self.ctx.manager.vault.is_locked:
            raise _Stop("the vault was locked")
        encoding = _encoding(message.get("encoding"))
        out, err = _Capture(bool(message.get("tty")), encoding), _Capture(False, encoding)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            try:
                args = build_parser(argv).parse_args(argv)
            except SystemExit as exc:  # --help, or a usage error already written to err
                code = exc.code if isinstance(exc.code, int) else 2
            else:
                if not self._serves(args, cwd):
                    return {"status": "declined", "reason": "not served by the agent"}, b""
                args.vault = None
                log.debug("agent runs %s for pid %s", args.command, pid)
                with acting_as(self.actor):
                    code = execute(_AgentContext(args, self.ctx), args)
        finally:
            sys.stdout, sys.stderr = saved
        stdout, stderr = out.data(), err.data()
        header = {"status": "done", "exit": code, "out": len(stdout), "err": len(stderr)}
        return header, stdout + stderr

    def _serves(self, args: argparse.Namespace, cwd: str) -> bool:
        if getattr(args, "func", None) not in _SERVED:
            return False
        if args.passphrase_stdin or args.passphrase_file or args.recovery_key_stdin:
            return False
        if args.vault:
            named = os.path.join(cwd, os.path.expanduser(args.vault))
            return os.path.realpath(named) == os.path.realpath(self.folder)
        return True


class _AgentContext(Context):
    """The agent's unlocked vault, lent to one command; closing it leaves the vault open."""

    def __init__(self, args: argparse.Namespace, owner: Context) -> None:
        super().__init__(args)
        self.folder = owner.folder
        self._manager = owner.manager

    def close(self) -> None:
        pass


def _encoding(name: object) -> str:
    if isinstance(name, str):
        with contextlib.suppress(LookupError):
            return codecs.lookup(name).name
    return "utf-8"


def _peer(conn: socket.socket) -> tuple[int | None, int | None]:
    """The connecting process's pid and uid where the kernel reports them (Linux)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None, None
    pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, option, 12))
    return pid, uid


def _read_request(conn: socket.socket) -> dict:
    data = bytearray()
    while b"\n" not in data:
        chunk = conn.recv(1 << 14)
        if not chunk:
            break
        data += chunk
        if len(data) > agent_client.MAX_LINE:
            raise ValueError("request too long")
    line = bytes(data).partition(b"\n")[0]
    message = json.loads(line)
    if not isinstance(message, dict) or message.get("v") != agent_client.PROTOCOL:
        raise ValueError("unknown request format")
    return message
