"""The backup calls of the original specification, run as written, and audited."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.errors import BackupWrongPassword
from echo_vault_app.secrets import CredentialsStore, SecretsManager


@pytest.fixture
def sm(monkeypatch, tmp_path):
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", Fernet.generate_key().decode())
    monkeypatch.chdir(tmp_path)
    manager = SecretsManager(on_created=None)
    yield manager
    manager.lock()


def test_seed_export_and_import_round_trip(sm, tmp_path, monkeypatch) -> None:
    creds = CredentialsStore(sm)
    creds.store_api_credentials(service="stripe", api_key="sk_test_x", api_secret="secret_x")
    creds.store_database_url(db_name="production", connection_url="postgresql://u:p@h:5432/db")
    sm.store_secret("aws_access_key_id", "AKIA…")
    sm.store_secret("aws_access_key_id", "AKIA…2")

    sm.export_secrets("backup.enc", password="strong-password")

    raw = (tmp_path / "backup.enc").read_bytes()
    assert b"AKIA" not in raw and b"sk_test_x" not in raw and b"stripe" not in raw

    # A second, empty vault restores everything from the file.
    monkeypatch.setenv("ECHO_VAULT_PATH", str(tmp_path / "second"))
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", Fernet.generate_key().decode())
    other = SecretsManager(on_created=None)
    try:
        other.import_secrets("backup.enc", password="strong-password")

        assert sorted(other.list_secrets()) == sorted(sm.list_secrets())
        assert other.get_secret("aws_access_key_id") == "AKIA…2"
        assert [e.fields[0].value for e in other.history("aws_access_key_id")] == ["AKIA…"]
        assert CredentialsStore(other).get_database_url("production") == (
            "postgresql://u:p@h:5432/db"
        )
        assert "import" in {e.action for e in other.audit_events()}
    finally:
        other.lock()
    assert "export" in {e.action for e in sm.audit_events()}
    assert sm.audit_verify().ok


def test_import_into_the_same_vault_loses_nothing(sm) -> None:
    sm.store_secret("aws_access_key_id", "AKIA…")
    sm.export_secrets("backup.enc", password="strong-password")
    sm.delete_secret("aws_access_key_id")
    sm.empty_trash()

    sm.import_secrets("backup.enc", password="strong-password")

    assert sm.get_secret("aws_access_key_id") == "AKIA…"


def test_import_with_wrong_password_writes_nothing(sm) -> None:
    sm.store_secret("aws_access_key_id", "AKIA…")
    sm.export_secrets("backup.enc", password="strong-password")
    sm.store_secret("aws_access_key_id", "AKIA-newer")
    before = len(sm.audit_events(action="write"))

    with pytest.raises(BackupWrongPassword):
        sm.import_secrets("backup.enc", password="wrong-password!")

    assert sm.get_secret("aws_access_key_id") == "AKIA-newer"
    assert len(sm.audit_events(action="write")) == before
