"""CredentialsStore: ready-made shapes for the credentials people store most.

Each kind lives under a predictable name (``api/<service>``, ``database/<name>``,
``oauth/<service>``) with a general credential template. Provider-specific templates are not
used here: their stricter format checks would refuse the placeholder values scripts often
start with. The entries show up in the desktop app's browser and in the CLI and REST API.
"""

from __future__ import annotations

from typing import Any

from echo_vault_app.errors import SecretNotFound
from echo_vault_app.secrets.dburl import join_database_url
from echo_vault_app.secrets.manager import SecretsManager
from echo_vault_app.secrets.model import SecretSummary


class CredentialsStore:
    """API keys, database URLs and OAuth clients on top of a :class:`SecretsManager`."""

    def __init__(self, manager: SecretsManager) -> None:
        self.manager = manager

    @staticmethod
    def api_name(service: str) -> str:
        return f"api/{service}"

    @staticmethod
    def database_name(db_name: str) -> str:
        return f"database/{db_name}"

    @staticmethod
    def oauth_name(service: str) -> str:
        return f"oauth/{service}"

    def store_api_credentials(
        self, service: str, api_key: str, api_secret: str | None = None, **extra: str
    ) -> SecretSummary:
        fields: dict[str, Any] = {"api_key": api_key, "service": service, **extra}
        template = "api_key"
        if api_secret is not None:
            fields["api_secret"] = api_secret
            template = "api_key_secret"
        return self.manager.store_secret(
            self.api_name(service), fields=fields, template=template, tags=["api"]
        )

    def get_api_credentials(self, service: str) -> dict[str, Any] | None:
        return self._values(self.api_name(service))

    def store_database_url(self, db_name: str, connection_url: str) -> SecretSummary:
        return self.manager.store_secret(
            self.database_name(db_name),
            fields={"url": connection_url},
            template="database_url",
            tags=["database"],
        )

    def get_database_url(self, db_name: str) -> str | None:
        values = self._values(self.database_name(db_name))
        if values is None:
            return None
        return join_database_url(values["url"], values.get("password"))

    def store_oauth_credentials(
        self,
        service: str,
        client_id: str,
        client_secret: str,
        refresh_token: str | None = None,
        **extra: str,
    ) -> SecretSummary:
        fields: dict[str, Any] = {"client_id": client_id, "client_secret": client_secret, **extra}
        if refresh_token is not None:
            fields["refresh_token"] = refresh_token
        return self.manager.store_secret(
            self.oauth_name(service),
            fields=fields,
            template="oauth2_client",
            tags=["oauth"],
        )

    def get_oauth_credentials(self, service: str) -> dict[str, Any] | None:
        return self._values(self.oauth_name(service))

    def _values(self, name: str) -> dict[str, Any] | None:
        try:
            return self.manager.get(name).values()
        except SecretNotFound:
            return None
