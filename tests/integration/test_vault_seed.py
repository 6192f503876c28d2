"""The secrets calls of the original specification, run as written against a fresh vault."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.errors import VaultLocked, WeakPassword, WrongPassphrase
from echo_vault_app.secrets import CredentialsStore, SecretsManager

PASSPHRASE = "correct horse battery staple"


def run_seed_calls(sm: SecretsManager) -> None:
    """The DESIGN.md seed block (secrets part), verbatim, plus the reads the issue lists."""
    creds = CredentialsStore(sm)
    creds.store_api_credentials(service="stripe", api_key="sk_test_x", api_secret="secret_x")
    creds.store_database_url(db_name="production", connection_url="postgresql://u:p@h:5432/db")
    creds.store_oauth_credentials(
        service="google", client_id="…", client_secret="…", refresh_token="…"
    )
    creds.get_api_credentials("stripe")
    creds.get_database_url("production")
    sm.store_secret("aws_access_key_id", "AKIA…")


def check_seed_results(sm: SecretsManager) -> None:
    creds = CredentialsStore(sm)
    api = creds.get_api_credentials("stripe")
    assert api is not None
    assert (api["api_key"], api["api_secret"]) == ("sk_test_x", "secret_x")
    assert creds.get_database_url("production") == "postgresql://u:p@h:5432/db"
    oauth = creds.get_oauth_credentials("google")
    assert oauth is not None
    assert (oauth["client_id"], oauth["client_secret"], oauth["refresh_token"]) == ("…",) * 3
    assert sm.get_secret("aws_access_key_id") == "AKIA…"
    assert set(sm.list_secrets()) >= {
        "api/stripe",
        "database/production",
        "oauth/google",
        "aws_access_key_id",
    }


def test_seed_calls_with_master_key(monkeypatch, vault_dir, capsys) -> None:
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", Fernet.generate_key().decode())

    sm = SecretsManager()
    run_seed_calls(sm)
    check_seed_results(sm)
    sm.lock()

    announced = capsys.readouterr().err
    assert announced.count("Recovery key") == 1
    assert (vault_dir / "vault.keys").exists()
    again = SecretsManager()
    check_seed_results(again)
    assert sm.vault.vault_id == again.vault.vault_id
    again.lock()
    assert "Recovery key" not in capsys.readouterr().err


def test_seed_calls_with_passphrase(vault_dir) -> None:
    sm = SecretsManager(passphrase=PASSPHRASE, on_created=None)
    run_seed_calls(sm)
    sm.lock()

    again = SecretsManager(passphrase=PASSPHRASE)
    check_seed_results(again)
    again.lock()
    with pytest.raises(WrongPassphrase):
        SecretsManager(passphrase="another passphrase")
    with pytest.raises(VaultLocked):
        SecretsManager(prompt=False)


def test_get_delete_list_and_missing(monkeypatch) -> None:
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", Fernet.generate_key().decode())
    sm = SecretsManager(on_created=None)
    creds = CredentialsStore(sm)
    sm.store_secret("aws_access_key_id", "AKIA…")

    assert sm.delete_secret("aws_access_key_id") is True
    assert sm.get_secret("aws_access_key_id") is None
    assert sm.get_secret("aws_access_key_id", default="fallback") == "fallback"
    assert sm.delete_secret("aws_access_key_id") is False
    assert sm.list_secrets() == []
    assert creds.get_api_credentials("nobody") is None
    assert creds.get_database_url("nowhere") is None
    assert creds.get_oauth_credentials("none") is None
    sm.lock()


def test_database_password_is_sealed_not_searchable(monkeypatch) -> None:
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", Fernet.generate_key().decode())
    sm = SecretsManager(on_created=None)
    creds = CredentialsStore(sm)
    creds.store_database_url(db_name="production", connection_url="postgresql://u:pw9q@h:5432/db")

    listed = sm.get("database/production").fields
    plain = {f.name: f.value for f in listed if not f.secret}

    assert "pw9q" not in repr(plain)
    assert {f.name: f.value for f in listed if f.secret} == {"password": "pw9q"}
    assert sm.search("pw9q") == []
    assert creds.get_database_url("production") == "postgresql://u:pw9q@h:5432/db"
    sm.lock()


def test_seed_script_in_two_fresh_processes(tmp_path) -> None:
    """As a user's script would: one process stores, a later one reads."""
    env = {
        **os.environ,
        "ECHO_VAULT_MASTER_KEY": Fernet.generate_key().decode(),
        "ECHO_VAULT_PATH": str(tmp_path / "proc-vault"),
    }
    writer = textwrap.dedent(
        """
        from echo_vault_app.secrets import SecretsManager, CredentialsStore
        sm = SecretsManager()
        creds = CredentialsStore(sm)
        creds.store_api_credentials(service="stripe", api_key="sk_test_x", api_secret="secret_x")
        creds.store_database_url(db_name="production", connection_url="postgresql://u:p@h:5432/db")
        creds.store_oauth_credentials(service="google", client_id="…", client_secret="…",
                                      refresh_token="…")
        creds.get_api_credentials("stripe"); creds.get_database_url("production")
        sm.store_secret("aws_access_key_id", "AKIA…")
        """
    )
    reader = textwrap.dedent(
        """
        import json
        from echo_vault_app.secrets import SecretsManager, CredentialsStore
        sm = SecretsManager()
        creds = CredentialsStore(sm)
        print(json.dumps([creds.get_api_credentials("stripe"),
                          creds.get_database_url("production"),
                          creds.get_oauth_credentials("google"),
                          sm.get_secret("aws_access_key_id"), sorted(sm.list_secrets())]))
        """
    )

    first = subprocess.run([sys.executable, "-c", writer], env=env, capture_output=True,
                           text=True, timeout=120)  # fmt: skip
    second = subprocess.run([sys.executable, "-c", reader], env=env, capture_output=True,
                            text=True, timeout=120)  # fmt: skip

    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert second.returncode == 0, second.stderr
    assert second.stderr == ""
    import json

    api, url, oauth, aws, names = json.loads(second.stdout)
    assert api["api_key"] == "sk_test_x" and api["api_secret"] == "secret_x"
    assert url == "postgresql://u:p@h:5432/db"
    assert oauth["client_secret"] == "…"
    assert aws == "AKIA…"
    assert names == ["api/stripe", "aws_access_key_id", "database/production", "oauth/google"]


def test_short_backup_password_is_refused(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", Fernet.generate_key().decode())
    monkeypatch.chdir(tmp_path)
    sm = SecretsManager(on_created=None)
    sm.store_secret("k", "v")

    with pytest.raises(WeakPassword):
        sm.export_secrets("weak.enc", password="short-pw")

    assert not (tmp_path / "weak.enc").exists()
    sm.lock()
