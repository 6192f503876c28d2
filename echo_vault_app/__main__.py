"""``python -m echo_vault_app`` opens the desktop app."""

import sys

from echo_vault_app.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
