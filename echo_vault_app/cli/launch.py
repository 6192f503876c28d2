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
    args = list(sys.argv[1:] if argv is None else argv)
    if command_word(args) in AGENT_COMMANDS and not os.environ.get(ENV_NO_AGENT):
        from echo_vault_app.cli import agent_client

        code = agent_client.forward(args)
        if code is not None:
            return code
    from echo_vault_app.cli.main import main as run_here

    return run_here(args)


if __name__ == "__main__":
    sys.exit(main())
