"""``echo-vault-cli`` as installed: read commands go to a running agent first.

This module is the console script's entry point and imports almost nothing, so that a ``get``
answered by ``echo-vault-cli agent`` costs an interpreter start and one round trip on a Unix
socket instead of loading the vault's cryptography and opening the database. Without an agent,
or for any other command, the full CLI in :mod:`echo_vault_app.cli.main` runs as before.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

# Spelled out rather than imported: `typing` costs this entry point about 3 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

# Read-only commands: an agent that dies mid-request can have them re-run here safely.
AGENT_COMMANDS = frozenset({"get", "list", "search"})
ENV_NO_AGENT = "ECHO_VAULT_NO_AGENT"
GLOBAL_OPTIONS_WITH_VALUE = frozenset({"--vault", "--passphrase-file"})


def command_word(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (skipping global options), or None."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; as the console script (``argv`` None), a read command ends the process."""
    args = list(sys.argv[1:] if argv is None else argv)
    word = command_word(args)
    if word in AGENT_COMMANDS and not os.environ.get(ENV_NO_AGENT):
        from echo_vault_app.cli import agent_client

        code = agent_client.forward(args)
        if code is not None:
            return code
    from echo_vault_app.cli.main import main as run_here

    code = run_here(args)
    if argv is None and word in AGENT_COMMANDS:
        end_process(code)
    return code


def end_process(code: int) -> NoReturn:
    """Flush what a read command wrote and leave without the interpreter's teardown.

    By the time a ``get``, ``list`` or ``search`` returns, its vault is closed (the audit rows
    committed, the WAL checkpointed) and nothing is left to run at exit, yet tearing down the
    hundred-odd modules it imported costs about 9 ms, a tenth of the call. Output that cannot
    be written still fails the command, with one line instead of Python's report.
    """
    import contextlib  # loaded already by the command that ran

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass  # the reader (`| head`) has what it wanted, as in the CLI's own handling
    except (OSError, ValueError) as exc:
        if code == 0:  # a command that failed has said why; its unwritten output is moot
            print(io_failure(exc), file=sys.stderr)
            code = 9  # StorageError's status, as for a failed write inside the command
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.shutdown()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


def io_failure(exc: BaseException) -> str:
    """The one line for a stream or file of the user's that could not be read or written."""
    filename = getattr(exc, "filename", None)
    where = f" ({filename})" if filename else ""
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return f"echo-vault-cli: error: input/output failed{where}: {reason}"


if __name__ == "__main__":
    sys.exit(main())
