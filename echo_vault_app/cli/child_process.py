"""Run a command for ``echo-vault-cli run``: masked output, forwarded signals, its exit status.

The values reach the child only through its environment. With masking on, the child's stdout
and stderr are pipes read by two threads, each through its own :class:`Masker`, and written on
to ours as soon as they are safe to show. Its stdin is ours, untouched.

SIGTERM, SIGHUP and SIGQUIT sent to this process are passed on to the child. SIGINT is passed
on too, except when this process is in the foreground of a terminal: the terminal then delivers
Ctrl-C to the child itself, and forwarding would deliver it twice. Known limit: a SIGINT sent
with ``kill`` to this process alone while it runs in a terminal's foreground is not forwarded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import BinaryIO

from echo_vault_app.errors import UsageError
from echo_vault_app.secrets.run_inject import Masker

log = logging.getLogger(__name__)

_FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGINT)


def _terminal_delivers_sigint() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def _pump(source: BinaryIO, sink: BinaryIO, masker: Masker) -> None:
    fd = source.fileno()
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        out = masker.feed(data) if data else masker.flush()
        if out:
            with contextlib.suppress(BrokenPipeError, ValueError):
                sink.write(out)
                sink.flush()
        if not data:
            return


def run_child(
    command: Sequence[str], env: Mapping[str, str], values: Sequence[str], *, mask: bool
) -> int:
    """Start ``command`` with ``env``, wait for it, and return a shell-style exit status.

    Raises:
        UsageError: the command is missing or cannot be executed.
    """
    pipe = subprocess.PIPE if mask else None
    try:
        proc = subprocess.Popen(list(command), env=dict(env), stdout=pipe, stderr=pipe)
    except FileNotFoundError:
        raise UsageError(f"command not found: {command[0]}") from None
    except PermissionError:
        raise UsageError(f"command cannot be executed: {command[0]}") from None

    skip_int = _terminal_delivers_sigint()

    def forward(signum: int, _frame: object) -> None:
        if signum == signal.SIGINT and skip_int:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in _FORWARDED}
    pumps = []
    try:
        if mask:
            assert proc.stdout is not None and proc.stderr is not None
            for source, sink in (
                (proc.stdout, sys.stdout.buffer),
                (proc.stderr, sys.stderr.buffer),
            ):
                thread = threading.Thread(
                    target=_pump, args=(source, sink, Masker(values)), daemon=True
                )
                thread.start()
                pumps.append(thread)
        code = proc.wait()
        for thread in pumps:
            thread.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("child command finished with status %d", code)
    return 128 - code if code < 0 else code
