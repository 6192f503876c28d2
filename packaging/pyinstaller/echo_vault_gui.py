"""Frozen entry point of the desktop app (``echo-vault``)."""

import sys

from echo_vault_app.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
