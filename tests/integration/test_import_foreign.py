"""Exports of other tools land in a real vault through ``echo-vault-cli import --from``.

The sample files are written here the way each tool writes them; every import runs the CLI as
a real process, then the vault is opened again to read what arrived, history included, and the
report (unmapped items and warnings) is checked on stderr and in ``--json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from echo_vault_app.core.vault import Vault
from echo_vault_app.secrets import SecretsManager
from echo_vault_app.secrets.foreign_import import import_file, import_report
from echo_vault_app.secrets.importers import ImportedEntry, ImportedField, ImportReport
from tests.importer_samples import KEEPASSXC_CSV
from tests.integration.backup_support import VAULT_PASSPHRASE, new_vault

KEEPASSXC_XML = """<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<KeePassFile>
  <Meta><Generator>KeePassXC</Generator><DatabaseName>Dev</DatabaseName>
    <RecycleBinEnabled>False</RecycleBinEnabled></Meta>
  <Root>
    <Group>
      <UUID>cm9vdGdyb3VwdXVpZDEyMw==</UUID>
      <Name>Root</Name>
      <Group>
        <UUID>d29ya2dyb3VwdXVpZDEyMw==</UUID>
        <Name>Team Ops</Name>
        <Entry>
          <UUID>ZW50cnkxdXVpZDEyMzQ1Ng==</UUID>
          <Tags>prod;payments</Tags>
          <Times>
            <CreationTime>2023-01-02T03:04:05Z</CreationTime>
            <LastModificationTime>2024-05-06T07:08:09Z</LastModificationTime>
            <ExpiryTime>2030-12-31T23:59:59Z</ExpiryTime>
            <Expires>True</Expires>
          </Times>
          <String><Key>Title</Key><Value>Stripe</Value></String>
          <String><Key>UserName</Key><Value>ops@example.com</Value></String>
          <String><Key>Password</Key><Value ProtectInMemory="True">pw-current</Value></String>
          <String><Key>URL</Key><Value>https://dashboard.stripe.com</Value></String>
          <String><Key>Notes</Key><Value>Rotate quarterly.</Value></String>
          <String><Key>API Secret</Key><Value ProtectInMemory="True">sk_live_abc</Value></String>
          <AutoType><Enabled>True</Enabled><DataTransferObfuscation>0</DataTransferObfuscation>
            <Association><Window>Stripe*</Window><KeystrokeSequence>{PASSWORD}</KeystrokeSequence>
            </Association></AutoType>
          <History>
            <Entry>
              <Times><LastModificationTime>2023-01-02T03:04:05Z</LastModificationTime></Times>
              <String><Key>Title</Key><Value>Stripe</Value></String>
              <String><Key>Password</Key><Value ProtectInMemory="True">pw-first</Value></String>
            </Entry>
            <Entry>
              <Times><LastModificationTime>2023-06-01T00:00:00Z</LastModificationTime></Times>
              <String><Key>Title</Key><Value>Stripe</Value></String>
              <String><Key>Password</Key><Value ProtectInMemory="True">pw-second</Value></String>
            </Entry>
          </History>
        </Entry>
      </Group>
    </Group>
  </Root>
</KeePassFile>
"""


BITWARDEN = {
    "encrypted": False,
    "folders": [{"id": "f-work", "name": "Work"}],
    "items": [
        {
            "id": "a1", "folderId": "f-work", "type": 1, "name": "GitHub", "notes": "2FA on",
            "favorite": False, "reprompt": 0,
            "revisionDate": "2024-05-06T07:08:09.123Z", "creationDate": "2023-01-02T03:04:05Z",
            "passwordHistory": [
                {"lastUsedDate": "2024-02-01T00:00:00.000Z", "password": "gh-second"},
                {"lastUsedDate": "2023-01-01T00:00:00.000Z", "password": "gh-first"},
            ],
            "fields": [
                {"name": "Recovery code", "value": "abcd-efgh", "type": 1, "linkedId": None},
                {"name": "Linked user", "value": None, "type": 3, "linkedId": 100},
            ],
            "login": {
                "uris": [{"match": None, "uri": "https://github.com/login"}],
                "username": "octo", "password": "gh-current", "totp": None,
                "fido2Credentials": [{"credentialId": "x"}],
            },
            "collectionIds": None,
        },
        {"id": "a2", "folderId": None, "type": 2, "name": "Wifi", "notes": "door code 1234",
         "favorite": False, "secureNote": {"type": 0}, "fields": []},
    ],
}  # fmt: skip

DOTENV = """\
# backend settings
export STRIPE_KEY=sk_test_51Habc
DATABASE_URL = "postgresql://u:p%40ss@db:5432/app"   # primary
QUOTED='literal \\n and # kept'
MULTI="line one
line \\"two\\""
CERT='-----BEGIN-----
abc
-----END-----'
STRIPE_KEY=sk_live_override
not an assignment
"""


@pytest.fixture
def vault_folder(tmp_path: Path) -> Path:
    new_vault(tmp_path / "vault").lock()
    return tmp_path / "vault"


def run_import(cli, folder: Path, tmp_path: Path, fmt: str, name: str, content: str, *extra):
    sample = tmp_path / name
    sample.write_text(content)
    passfile = tmp_path / "pp"
    passfile.write_text(VAULT_PASSPHRASE)
    result = cli(
        "--vault", str(folder), "--passphrase-file", str(passfile), "--no-keyring",
        "import", "--from", fmt, str(sample), "--json", *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def open_manager(folder: Path) -> SecretsManager:
    vault = Vault.open(folder, passphrase=VAULT_PASSPHRASE, use_keyring=False)
    return SecretsManager(vault=vault)


def fields(manager: SecretsManager, name: str) -> dict:
    return {f.name: (f.value, f.secret) for f in manager.get(name).fields}


def test_keepassxc_xml(cli, vault_folder, tmp_path) -> None:
    doc, stderr = run_import(cli, vault_folder, tmp_path, "keepassxc-xml", "db.xml", KEEPASSXC_XML)

    assert doc["added"] == ["Team Ops/Stripe"]
    assert {"entry": "Team Ops/Stripe", "field": "auto-type"} in [
        {k: u[k] for k in ("entry", "field")} for u in doc["unmapped"]
    ]
    assert "not imported: Team Ops/Stripe: auto-type" in stderr
    assert any("'Team Ops'" in w and "'Team-Ops'" in w for w in doc["warnings"])
    assert "pw-" not in stderr and "sk_live" not in stderr

    with open_manager(vault_folder) as manager:
        secret = manager.get("Team Ops/Stripe")
        assert fields(manager, "Team Ops/Stripe") == {
            "username": ("ops@example.com", False),
            "password": ("pw-current", True),
            "url": ("https://dashboard.stripe.com", False),
            "API Secret": ("sk_live_abc", True),
        }
        assert secret.notes == "Rotate quarterly."
        assert set(secret.summary.tags) == {"prod", "payments", "Team-Ops"}
        assert secret.summary.expires == 1924991999.0
        assert secret.summary.updated == 1714979289.0
        history = manager.history("Team Ops/Stripe")
        assert [h.fields[0].value for h in history] == ["pw-second", "pw-first"]
        assert [h.version for h in history] == [2, 1] and secret.version == 3
        assert manager.search("payments")[0].name == "Team Ops/Stripe"


def test_keepassxc_csv(cli, vault_folder, tmp_path) -> None:
    doc, _ = run_import(cli, vault_folder, tmp_path, "keepassxc-csv", "db.csv", KEEPASSXC_CSV)
    assert sorted(doc["added"]) == ["GitHub", "Work/DB/Postgres", "Work/DB/Postgres (2)"]
    with open_manager(vault_folder) as manager:
        assert fields(manager, "GitHub")["password"] == ("gh-pass", True)
        assert manager.get("GitHub").notes == 'line 1\nline "2"'
        # A note-only entry has no fields; its notes become the sealed "note" field.
        assert fields(manager, "Work/DB/Postgres (2)") == {"note": ("just a note", True)}
        assert manager.get("Work/DB/Postgres").summary.tags == ("Work/DB",)


def test_bitwarden_json(cli, vault_folder, tmp_path) -> None:
    doc, stderr = run_import(
        cli, vault_folder, tmp_path, "bitwarden-json", "bw.json", json.dumps(BITWARDEN)
    )
    assert sorted(doc["added"]) == ["Wifi", "Work/GitHub"]
    unmapped = {(u["entry"], u["field"]) for u in doc["unmapped"]}
    assert {("Work/GitHub", "Linked user"), ("Work/GitHub", "passkeys")} <= unmapped
    assert "Linked user" in stderr
    with open_manager(vault_folder) as manager:
        assert fields(manager, "Work/GitHub")["Recovery code"] == ("abcd-efgh", True)
        history = manager.history("Work/GitHub")
        assert [h.fields[0].value for h in history if h.fields[0].name == "password"] == [
            "gh-second", "gh-first",
        ]  # fmt: skip
        assert fields(manager, "Wifi") == {"note": ("door code 1234", True)}


def test_dotenv_with_quotes_comments_export_and_multiline(cli, vault_folder, tmp_path) -> None:
    doc, stderr = run_import(cli, vault_folder, tmp_path, "dotenv", "backend.env", DOTENV)
    assert doc["added"] == ["backend"]
    assert ("backend", "STRIPE_KEY (line 2)") in {(u["entry"], u["field"]) for u in doc["unmapped"]}
    assert "line 11 is not a KEY=value" in stderr
    with open_manager(vault_folder) as manager:
        assert fields(manager, "backend") == {
            "STRIPE_KEY": ("sk_live_override", True),
            "DATABASE_URL": ("postgresql://u:p%40ss@db:5432/app", True),
            "QUOTED": ("literal \\n and # kept", True),
            "MULTI": ('line one\nline "two"', True),
            "CERT": ("-----BEGIN-----\nabc\n-----END-----", True),
        }

    again, _ = run_import(
        cli, vault_folder, tmp_path, "dotenv", "backend.env", DOTENV, "--per-key",
        "--entry-name", "svc",
    )  # fmt: skip
    assert "svc/MULTI" in again["added"]


def test_foreign_import_conflict_modes(tmp_path) -> None:
    vault = new_vault(tmp_path / "v")
    manager = SecretsManager(vault=vault)
    manager.store_secret("Team Ops/Stripe", "local-newer-value")
    path = tmp_path / "db.xml"
    path.write_text(KEEPASSXC_XML)

    skipped = import_file(vault, "keepassxc-xml", path, "skip")
    assert skipped.result.skipped == ["Team Ops/Stripe"]
    merged = import_file(vault, "keepassxc-xml", path, "merge")
    assert merged.result.changed == ["Team Ops/Stripe"]
    # The local value was written now, after the export's 2024 time: it stays current and the
    # imported current and historical passwords are all kept in history.
    assert manager.get("Team Ops/Stripe").fields[0].value == "local-newer-value"
    old = {f.value for h in manager.history("Team Ops/Stripe") for f in h.fields}
    assert {"pw-current", "pw-second", "pw-first"} <= old
    vault.lock()


def test_names_and_tags_the_vault_refuses_are_fixed_and_reported(tmp_path) -> None:
    vault = new_vault(tmp_path / "v")
    report = ImportReport("keepassxc-xml")
    report.add(ImportedEntry("bad//name/", "note", [ImportedField("note", "x", True)],
                             tags=["has space", "ok"]))  # fmt: skip
    report.add(ImportedEntry("Same", "note", [ImportedField("note", "1", True)]))
    report.add(ImportedEntry("same", "note", [ImportedField("note", "2", True)]))
    done = import_report(vault, report)
    assert sorted(done.result.added) == ["Same", "bad/name", "same (2)"]
    text = " ".join(done.result.warnings)
    assert "'bad//name/'" in text and "'has-space'" in text and "same (2)" in text
    vault.lock()
