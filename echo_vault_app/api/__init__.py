"""The local REST API: the vault's endpoints on loopback, authenticated and role-checked.

Built on the library only (``secrets``, ``auth``, ``core``); the CLI's ``serve`` command and
the desktop app's switch both run :class:`ApiServer` or :func:`serve_forever`.
"""

from echo_vault_app.api.app import create_app
from echo_vault_app.api.config import RateLimits, ServerConfig
from echo_vault_app.api.server import ApiServer, serve_forever

__all__ = ["ApiServer", "RateLimits", "ServerConfig", "create_app", "serve_forever"]
