"""Logging set-up for entry points, with a redaction filter as a second guard.

The library never configures handlers; the CLI, the GUI and the API call :func:`configure` once.
Importing this module gives the library's logger a NullHandler, so a program using the library
sees no log output it did not ask for; each library package (core, secrets, auth, state) imports
it. The top package does not, so the CLI's path to a running agent never loads ``logging``.
Messages are written so that they never carry a value, but if one slips through a message that
looks like key material is masked before it reaches any handler.
"""

from __future__ import annotations

import logging
import os
import re

from echo_vault_app.config import ENV_LOG_LEVEL

logging.getLogger("echo_vault_app").addHandler(logging.NullHandler())

# Text, not a compiled pattern: ``re`` compiles it when the first record is filtered, so a CLI
# call that logs nothing does not pay for it.
_SENSITIVE = (
    r"(x'[0-9a-fA-F]{16,}'"  # raw SQLCipher keys
    r"|ev_[a-z0-9]+_[A-Za-z0-9]+_[A-Za-z0-9]{20,}"  # Echo Vault API keys
    r"|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"  # JWTs
    r"|(?i:pragma\s+(?:re)?key\s*=\s*\S+))"
)


class RedactingFilter(logging.Filter):
    """Masks anything shaped like a key, a token or a key PRAGMA in a formatted record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = re.sub(_SENSITIVE, "[redacted]", message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


def configure(default_level: str = "WARNING") -> None:
    """Install one stderr handler with redaction; level from ``ECHO_VAULT_LOG_LEVEL``."""
    level_name = os.environ.get(ENV_LOG_LEVEL, default_level).upper()
    level = getattr(logging, level_name, logging.INFO)
    root = logging.getLogger("echo_vault_app")
    if any(getattr(h, "_echo_vault", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler()
    handler._echo_vault = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
