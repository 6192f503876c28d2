"""Echo Vault: an encrypted secrets vault for developers and small teams.

The library packages (``core``, ``secrets``, ``auth``, ``state``) hold all behaviour and import
no Qt; the ``gui``, ``cli`` and ``api`` packages are thin faces on top of them.
"""

__version__ = "0.1.0"

import logging as _logging

# A library configures no output of its own; entry points call echo_vault_app.log.configure().
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
