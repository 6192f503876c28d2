"""The client half of ``echo-vault-cli agent``: hand a read command to the agent's socket.

The agent listens on ``agent.sock`` inside the vault folder, which is private to its owner
(0700), so reaching the socket already takes the owner's rights; the agent also checks the
peer's uid where the platform reports it. One request per connection, as one JSON line:
``{"op": "run", "argv": [...], "tty": bool, "encoding": "..."}`` (or ``"status"``, ``"stop"``).
The answer is one JSON line, ``{"status": "done", "exit": N, "out": n, "err": m}``, followed by
exactly ``n`` bytes for stdout and ``m`` for stderr; ``{"status": "declined"}`` means the
command must run in the caller's own process.

Every failure here (no socket, a stale one, a socket owned by someone else, an agent that
went away mid-answer) returns None, and the caller runs the command itself: only read-only
commands are forwarded, so running one twice is harmless.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Sequence

SOCKET_NAME = "agent.sock"
PROTOCOL = 1
MAX_LINE = 64 * 1024
# A forwarded command waits behind at most a few others; past this the caller runs it itself.
ANSWER_TIMEOUT = 30.0


def socket_path(folder: str | os.PathLike[str]) -> str:
    return os.path.join(os.fspath(folder), SOCKET_NAME)


def vault_folder(argv: Sequence[str]) -> str:
    """The vault folder the CLI would open for ``argv``: ``--vault`` or the default location.

    The agent parses ``argv`` again and declines when its own reading names another folder
    (an abbreviated ``--vau``, say), so this only has to be right for the usual spellings.
    """
    from echo_vault_app.cli.launch import GLOBAL_OPTIONS_WITH_VALUE

    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg == "--vault" and i + 1 < len(argv):
            return os.path.abspath(os.path.expanduser(argv[i + 1]))
        elif arg.startswith("--vault="):
            return os.path.abspath(os.path.expanduser(arg.partition("=")[2]))
        elif arg in GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            break
    from echo_vault_app import config

    return os.path.abspath(config.default_vault_path())


def owned_socket(path: str) -> bool:
    """True when ``path`` is a Unix socket owned by this user (not one planted by another)."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISSOCK(info.st_mode) and info.st_uid == os.geteuid()


def request(path: str, message: dict, timeout: float = ANSWER_TIMEOUT) -> tuple[dict, bytes]:
    """Send one request to the agent at ``path``; its header and the bytes that follow it.

    Raises OSError or ValueError when there is no agent or the answer is malformed.
    """
    import socket  # only once a socket is there: a call without an agent is spared ~2.5 ms

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(json.dumps({"v": PROTOCOL, **message}).encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)
        data = bytearray()
        while chunk := sock.recv(1 << 16):
            data += chunk
    line, newline, body = bytes(data).partition(b"\n")
    if not newline or len(line) > MAX_LINE:
        raise ValueError("the agent's answer has no header")
    header = json.loads(line)
    if not isinstance(header, dict):
        raise ValueError("the agent's answer header is not an object")
    return header, body


def forward(argv: Sequence[str]) -> int | None:
    """Run ``argv`` in the vault's agent and relay its output; None if the caller must run it."""
    path = socket_path(vault_folder(argv))
    if not owned_socket(path):
        return None
    stdout = sys.stdout
    try:
        tty = stdout.isatty()
    except (AttributeError, ValueError):
        tty = False
    message = {
        "op": "run",
        "argv": list(argv),
        "cwd": os.getcwd(),
        "tty": tty,
        "encoding": getattr(stdout, "encoding", None) or "utf-8",
    }
    try:
        header, body = request(path, message)
        if header.get("status") != "done":
            return None
        code, out, err = int(header["exit"]), int(header["out"]), int(header["err"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if out < 0 or err < 0 or out + err != len(body):
        return None
    try:
        stdout.flush()
        stdout.buffer.write(body[:out])
        stdout.buffer.flush()
    except BrokenPipeError:
        pass
    sys.stderr.flush()
    sys.stderr.buffer.write(body[out:])
    sys.stderr.buffer.flush()
    return code
