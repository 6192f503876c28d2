"""Echo Vault: an encrypted secrets vault for developers and small teams.

The library packages (``core``, ``secrets``, ``auth``, ``state``) hold all behaviour and import
no Qt; the ``gui``, ``cli`` and ``api`` packages are thin faces on top of them.
"""

__version__ = "0.1.0"

# No imports here: `echo-vault-cli get` answered by the agent imports this package and little
# else. The library's NullHandler is installed by `echo_vault_app.log`, which the core, secrets,
# auth and state packages import.
