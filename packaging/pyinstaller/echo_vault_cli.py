"""Frozen entry point of the command line (``echo-vault-cli``)."""

import sys

from echo_vault_app.cli.launch import main

if __name__ == "__main__":
    sys.exit(main())
