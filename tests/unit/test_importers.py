"""Importers read real-shaped exports and account for every field: imported or listed."""

from __future__ import annotations

import base64
import gzip
import json
import stat
import struct
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echo_vault_app.errors import Conflict, UsageError, ValidationError
from echo_vault_app.secrets.dotenv_export import render_dotenv, write_dotenv
from echo_vault_app.secrets.importers import FORMATS, ImportReport, parse_file
from echo_vault_app.secrets.importers.dotenv import parse_dotenv_text
from tests.importer_samples import KEEPASSXC_CSV


def fields_of(entry) -> dict[str, tuple[str, bool]]:
    return {f.name: (f.value, f.secret) for f in entry.fields}


def by_name(report: ImportReport) -> dict:
    return {e.name: e for e in report.entries}


def unmapped_of(report: ImportReport) -> set[tuple[str, str]]:
    return {(u.entry, u.field) for u in report.unmapped}


def test_formats_and_unknown_format(tmp_path: Path) -> None:
    assert set(FORMATS) == {
        "dotenv", "keepassxc-xml", "keepass-xml", "keepassxc-csv", "bitwarden-json", "1pux"
    }  # fmt: skip
    with pytest.raises(UsageError, match="unknown import format"):
        parse_file("lastpass", tmp_path / "x")
    with pytest.raises(ValidationError, match="does not exist"):
        parse_file("dotenv", tmp_path / "missing.env")


# .env


DOTENV = """\
# Stripe and database settings
export STRIPE_KEY=sk_test_51Habc
DATABASE_URL = "postgresql://u:p%40ss@db:5432/app"   # primary
QUOTED='literal \\n and # kept'
MULTI="line one
line \\"two\\"\\tTabbed"
EMPTY=
INLINE=abc#not-a-comment
SPACED=value with spaces # trailing comment
TEMPLATE=${HOME}/x
STRIPE_KEY=sk_live_override
not an assignment
"""


def test_dotenv_sample(tmp_path: Path) -> None:
    path = tmp_path / "backend.env"
    path.write_text(DOTENV)
    report = parse_file("dotenv", path)

    (entry,) = report.entries
    assert entry.name == "backend" and entry.template == "dotenv"
    assert fields_of(entry) == {
        "STRIPE_KEY": ("sk_live_override", True),
        "DATABASE_URL": ("postgresql://u:p%40ss@db:5432/app", True),
        "QUOTED": ("literal \\n and # kept", True),
        "MULTI": ('line one\nline "two"\tTabbed', True),
        "EMPTY": ("", True),
        "INLINE": ("abc#not-a-comment", True),
        "SPACED": ("value with spaces", True),
        "TEMPLATE": ("${HOME}/x", True),
    }
    text = " ".join(report.warnings)
    assert "STRIPE_KEY is set on line 2 and again on line 11" in text
    assert "line 12 is not a KEY=value" in text
    assert "TEMPLATE refers to another variable" in text
    assert unmapped_of(report) == {("backend", "STRIPE_KEY (line 2)")}
    assert "sk_test" not in text


def test_dotenv_per_key_and_name(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\nB='2'\n")
    report = parse_file("dotenv", path, name="svc", per_key=True)

    assert [(e.name, fields_of(e)) for e in report.entries] == [
        ("svc/A", {"value": ("1", True)}),
        ("svc/B", {"value": ("2", True)}),
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [('A="never closed\nB=2\n', "line 1: the quoted value is never closed"),
     ("X=1\nA='x' trailing\n", "line 2: unexpected text after the closing quote")],
)  # fmt: skip
def test_dotenv_errors_name_the_line_not_the_value(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "bad.env"
    path.write_text(text)
    with pytest.raises(ValidationError, match=reason) as info:
        parse_file("dotenv", path)
    assert "never closed\nB" not in str(info.value)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
        max_size=6,
    )
)
def test_dotenv_render_round_trips(values: dict[str, str]) -> None:
    text = render_dotenv(values.items())
    parsed = parse_dotenv_text(text)
    assert {a.key: a.value for a in parsed} == values


def test_dotenv_render_refuses_bad_keys_and_nul() -> None:
    for items in ([("1BAD", "x")], [("A", "x"), ("A", "y")], [("A", "a\x00b")]):
        with pytest.raises(ValidationError):
            render_dotenv(items)
    assert render_dotenv([("A", "plain"), ("B", "has space")]) == "A=plain\nB='has space'\n"


def test_write_dotenv_is_private_atomic_and_refuses_links(tmp_path: Path) -> None:
    path = tmp_path / "out.env"
    write_dotenv(path, [("TOKEN", "abc def")])
    assert path.read_text() == "TOKEN='abc def'\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    with pytest.raises(Conflict):
        write_dotenv(path, [("TOKEN", "new")])
    write_dotenv(path, [("TOKEN", "new")], force=True)
    assert path.read_text() == "TOKEN=new\n"

    link = tmp_path / "link.env"
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UsageError, match="symbolic link"):
        write_dotenv(link, [("A", "1")], force=True)
    assert not (tmp_path / "elsewhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.env", "out.env"]


# KeePass / KeePassXC XML


def _b64_gzip(data: bytes) -> str:
    return base64.b64encode(gzip.compress(data)).decode()


def _kdbx4_time(when: datetime) -> str:
    seconds = int((when - datetime(1, 1, 1, tzinfo=UTC)).total_seconds())
    return base64.b64encode(struct.pack("<q", seconds)).decode()


_TEXT_ATTACHMENT = _b64_gzip(b"host=db\nport=5432\n")
_PNG_ATTACHMENT = base64.b64encode(b"\x89PNG\x00\x01binary").decode()
_KDBX4_MODIFIED = _kdbx4_time(datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC))

KEEPASS_XML = f"""<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<KeePassFile>
  <Meta>
    <Generator>KeePassXC</Generator>
    <DatabaseName>Dev</DatabaseName>
    <RecycleBinEnabled>True</RecycleBinEnabled>
    <RecycleBinUUID>cmVjeWNsZWJpbnV1aWQxMg==</RecycleBinUUID>
    <Binaries>
      <Binary ID="0" Compressed="True">{_TEXT_ATTACHMENT}</Binary>
      <Binary ID="1" Compressed="False">{_PNG_ATTACHMENT}</Binary>
    </Binaries>
  </Meta>
  <Root>
    <Group>
      <UUID>cm9vdGdyb3VwdXVpZDEyMw==</UUID>
      <Name>Root</Name>
      <Entry>
        <UUID>ZW50cnkxdXVpZDEyMzQ1Ng==</UUID>
        <IconID>0</IconID>
        <Tags>prod;payments</Tags>
        <Times>
          <CreationTime>2023-01-02T03:04:05Z</CreationTime>
          <LastModificationTime>2024-05-06T07:08:09Z</LastModificationTime>
          <LastAccessTime>2024-05-06T07:08:09Z</LastAccessTime>
          <ExpiryTime>2025-12-31T23:59:59Z</ExpiryTime>
          <Expires>True</Expires>
          <UsageCount>3</UsageCount>
        </Times>
        <String><Key>Title</Key><Value>Stripe</Value></String>
        <String><Key>UserName</Key><Value>ops@example.com</Value></String>
        <String><Key>Password</Key><Value ProtectInMemory="True">hunter2-current</Value></String>
        <String><Key>URL</Key><Value>https://dashboard.stripe.com</Value></String>
        <String><Key>Notes</Key><Value>Rotate quarterly.
Owner: ops</Value></String>
        <String><Key>otp</Key><Value ProtectInMemory="True">otpauth://totp/Stripe?secret=JBSWY3DPEHPK3PXP</Value></String>
        <String><Key>API Secret</Key><Value ProtectInMemory="True">sk_live_abc</Value></String>
        <String><Key>Account ID</Key><Value>acct_123</Value></String>
        <Binary><Key>db.conf</Key><Value Ref="0"/></Binary>
        <Binary><Key>logo.png</Key><Value Ref="1"/></Binary>
        <Binary><Key>lost.bin</Key><Value Ref="7"/></Binary>
        <AutoType>
          <Enabled>True</Enabled>
          <DataTransferObfuscation>0</DataTransferObfuscation>
          <Association><Window>Stripe*</Window><KeystrokeSequence>{{PASSWORD}}{{ENTER}}</KeystrokeSequence></Association>
        </AutoType>
        <CustomData><Item><Key>KPXC_BROWSER_ABC</Key><Value>{{"x":1}}</Value></Item></CustomData>
        <History>
          <Entry>
            <Times><LastModificationTime>2023-01-02T03:04:05Z</LastModificationTime></Times>
            <String><Key>Title</Key><Value>Stripe</Value></String>
            <String><Key>UserName</Key><Value>ops@example.com</Value></String>
            <String><Key>Password</Key><Value ProtectInMemory="True">hunter2-first</Value></String>
          </Entry>
          <Entry>
            <Times><LastModificationTime>2023-06-01T00:00:00Z</LastModificationTime></Times>
            <String><Key>Title</Key><Value>Stripe</Value></String>
            <String><Key>Password</Key><Value ProtectInMemory="True">hunter2-second</Value></String>
            <String><Key>Notes</Key><Value>old note</Value></String>
          </Entry>
        </History>
      </Entry>
      <Group>
        <UUID>d29ya2dyb3VwdXVpZDEyMw==</UUID>
        <Name>Work</Name>
        <Notes>team folder</Notes>
        <Group>
          <UUID>Y2xvdWRncm91cHV1aWQxMg==</UUID>
          <Name>Cloud</Name>
    <Entry>
      <Times><LastModificationTime>{_KDBX4_MODIFIED}</LastModificationTime><Expires>False</Expires></Times>
      <String><Key>Title</Key><Value>AWS/root</Value></String>
      <String><Key>TOTP Seed</Key><Value ProtectInMemory="True">JBSWY3DPEHPK3PXP</Value></String>
      <String><Key>TOTP Settings</Key><Value>30;8</Value></String>
    </Entry>
    <Entry>
      <String><Key>Title</Key><Value>AWS/root</Value></String>
      <String><Key>Password</Key><Value ProtectInMemory="True">dup-title</Value></String>
    </Entry>
        </Group>
      </Group>
      <Group>
        <UUID>cmVjeWNsZWJpbnV1aWQxMg==</UUID>
        <Name>Recycle Bin</Name>
        <Entry>
          <String><Key>Title</Key><Value>Old thing</Value></String>
          <String><Key>Password</Key><Value>gone</Value></String>
        </Entry>
      </Group>
    </Group>
  </Root>
</KeePassFile>
"""


def test_keepass_xml_maps_every_field(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(KEEPASS_XML)
    report = parse_file("keepassxc-xml", path)
    entries = by_name(report)

    assert set(entries) == {"Stripe", "Work/Cloud/AWS-root", "Work/Cloud/AWS-root (2)"}
    stripe = entries["Stripe"]
    assert stripe.template == "basic_auth"
    assert fields_of(stripe) == {
        "username": ("ops@example.com", False),
        "password": ("hunter2-current", True),
        "url": ("https://dashboard.stripe.com", False),
        "totp": ("otpauth://totp/Stripe?secret=JBSWY3DPEHPK3PXP", True),
        "API Secret": ("sk_live_abc", True),
        "Account ID": ("acct_123", False),
        "db.conf": ("host=db\nport=5432\n", True),
    }
    assert stripe.url == "https://dashboard.stripe.com"
    assert stripe.notes == "Rotate quarterly.\nOwner: ops"
    assert stripe.tags == ["prod", "payments"]
    assert stripe.created == datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert stripe.modified == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert stripe.expires == datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert [fields_of(v)["password"][0] for v in stripe.history] == [
        "hunter2-first",
        "hunter2-second",
    ]
    assert fields_of(stripe.history[1])["notes"] == ("old note", False)
    assert stripe.history[0].modified == datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)

    aws = entries["Work/Cloud/AWS-root"]
    assert aws.template == "totp"
    assert fields_of(aws) == {
        "totp": ("otpauth://totp/AWS%2Froot?secret=JBSWY3DPEHPK3PXP&period=30&digits=8", True)
    }
    assert aws.tags == ["Work/Cloud"]
    assert aws.modified == datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert aws.expires is None

    assert unmapped_of(report) == {
        ("Stripe", "logo.png"),
        ("Stripe", "lost.bin"),
        ("Stripe", "auto-type"),
        ("Stripe", "custom data KPXC_BROWSER_ABC"),
        ("Recycle Bin/Old thing", "(entire entry)"),
    }
    warnings = " ".join(report.warnings)
    assert "group notes" in warnings and "db.conf" in warnings and "(2)" in warnings
    assert "hunter2" not in warnings + repr(report.unmapped)


def test_keepass_2_format_name_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(KEEPASS_XML)
    assert parse_file("keepass-xml", path).format == "keepass-xml"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
            "<KeePassFile><Root><Group><Name>&b;</Name></Group></Root></KeePassFile>",
            "DTD",
        ),
        ("<KeePassFile><Root><Group>", "malformed"),
        ("<html><body/></html>", "not a KeePass XML export"),
        ("", "malformed"),
    ],
)
def test_keepass_xml_refusals(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "x.xml"
    path.write_text(text)
    with pytest.raises(ValidationError, match=reason):
        parse_file("keepassxc-xml", path)


def test_keepass_xml_deep_groups_are_refused_without_recursion(tmp_path: Path) -> None:
    depth = 5000
    path = tmp_path / "deep.xml"
    path.write_text(
        "<KeePassFile><Root>" + "<Group><Name>g</Name>" * depth + "</Group>" * depth + "</Root>"
        "</KeePassFile>"
    )
    with pytest.raises(ValidationError, match="nested deeper"):
        parse_file("keepassxc-xml", path)


# KeePassXC CSV


def test_keepassxc_csv(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(KEEPASSXC_CSV)
    report = parse_file("keepassxc-csv", path)
    entries = by_name(report)

    assert set(entries) == {"GitHub", "Work/DB/Postgres", "Work/DB/Postgres (2)"}
    github = entries["GitHub"]
    assert fields_of(github) == {
        "username": ("octo", False),
        "password": ("gh-pass", True),
        "url": ("https://github.com", False),
        "totp": ("otpauth://totp/GitHub?secret=JBSWY3DPEHPK3PXP", True),
    }
    assert github.notes == 'line 1\nline "2"'
    assert github.template == "basic_auth" and github.tags == []
    assert github.modified == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert github.created == datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert entries["Work/DB/Postgres"].tags == ["Work/DB"]
    assert entries["Work/DB/Postgres (2)"].template == "note"
    assert report.unmapped == []


def test_keepassxc_csv_older_header_and_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text('"Group","Title","Username","Password","URL","Notes","Custom"\n'
                    '"Root","Mail","me","pw","","","extra value"\n')  # fmt: skip
    report = parse_file("keepassxc-csv", path)

    assert fields_of(report.entries[0])["Custom"] == ("extra value", False)
    assert "unknown columns kept" in report.warnings[0]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('"Title","Password"\n"a","b","c"\n', "row 2 of the CSV has 3 columns"),
        ('"Name","Secret"\n"a","b"\n', "not a KeePassXC CSV"),
        ('"Title","Password"\n"a,"b\n', "malformed"),
    ],
)
def test_keepassxc_csv_refusals(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(text)
    with pytest.raises(ValidationError, match=reason):
        parse_file("keepassxc-csv", path)


# Bitwarden

BITWARDEN = {
    "encrypted": False,
    "folders": [
        {"id": "f-work", "name": "Work/Cloud"},
        {"id": "f-home", "name": "Home"},
    ],
    "items": [
        {
            "passwordHistory": [
                {"lastUsedDate": "2024-02-01T00:00:00.000Z", "password": "gh-second"},
                {"lastUsedDate": "2023-01-01T00:00:00.000Z", "password": "gh-first"},
            ],
            "revisionDate": "2024-05-06T07:08:09.123Z",
            "creationDate": "2023-01-02T03:04:05.000Z",
            "deletedDate": None,
            "id": "a1",
            "organizationId": None,
            "folderId": "f-work",
            "type": 1,
            "reprompt": 0,
            "name": "GitHub",
            "notes": "2FA on",
            "favorite": True,
            "fields": [
                {"name": "Org", "value": "acme", "type": 0, "linkedId": None},
                {"name": "Recovery code", "value": "abcd-efgh", "type": 1, "linkedId": None},
                {"name": "SSO", "value": "true", "type": 2, "linkedId": None},
                {"name": "Linked user", "value": None, "type": 3, "linkedId": 100},
            ],
            "login": {
                "fido2Credentials": [{"credentialId": "x"}],
                "uris": [
                    {"match": None, "uri": "https://github.com/login"},
                    {"match": 3, "uri": "https://gist.github.com"},
                ],
                "username": "octo",
                "password": "gh-current",
                "totp": "otpauth://totp/GitHub?secret=JBSWY3DPEHPK3PXP",
            },
            "collectionIds": None,
        },
        {
            "id": "a2",
            "folderId": None,
            "type": 2,
            "name": "Wifi",
            "notes": "door code 1234",
            "favorite": False,
            "secureNote": {"type": 0},
            "fields": [],
        },
        {
            "id": "a3",
            "folderId": "f-home",
            "type": 3,
            "name": "Visa",
            "notes": None,
            "favorite": False,
            "card": {
                "cardholderName": "Ada L",
                "brand": "Visa",
                "number": "4111111111111111",
                "expMonth": "12",
                "expYear": "2030",
                "code": "123",
            },
        },
        {
            "id": "a4",
            "type": 4,
            "name": "Me",
            "identity": {"firstName": "Ada", "ssn": "123-45-6789", "title": None},
        },
        {
            "id": "a5",
            "type": 5,
            "name": "deploy key",
            "sshKey": {
                "privateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n",
                "publicKey": "ssh-ed25519 AAAA",
                "keyFingerprint": "SHA256:xyz",
            },
        },
        {
            "id": "a6",
            "type": 1,
            "name": "Old",
            "deletedDate": "2024-01-01T00:00:00Z",
            "login": {"password": "p"},
        },
        {"id": "a7", "type": 1, "name": "GitHub", "folderId": "f-work", "futureThing": 1},
    ],
}


def test_bitwarden_json(tmp_path: Path) -> None:
    path = tmp_path / "bitwarden.json"
    path.write_text(json.dumps(BITWARDEN))
    report = parse_file("bitwarden-json", path)
    entries = by_name(report)

    assert set(entries) == {
        "Work/Cloud/GitHub", "Wifi", "Home/Visa", "Me", "deploy key", "Work/Cloud/GitHub (2)"
    }  # fmt: skip
    github = entries["Work/Cloud/GitHub"]
    assert github.template == "basic_auth"
    assert fields_of(github) == {
        "username": ("octo", False),
        "password": ("gh-current", True),
        "url": ("https://github.com/login", False),
        "url 2": ("https://gist.github.com", False),
        "totp": ("otpauth://totp/GitHub?secret=JBSWY3DPEHPK3PXP", True),
        "Org": ("acme", False),
        "Recovery code": ("abcd-efgh", True),
        "SSO": ("true", False),
    }
    assert github.url == "https://github.com/login"
    assert github.notes == "2FA on"
    assert github.tags == ["Work/Cloud", "favorite"]
    assert [fields_of(v)["password"][0] for v in github.history] == ["gh-first", "gh-second"]
    assert github.created == datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)

    assert entries["Wifi"].template == "note" and entries["Wifi"].notes == "door code 1234"
    visa = fields_of(entries["Home/Visa"])
    assert visa["number"] == ("4111111111111111", True) and visa["code"] == ("123", True)
    assert visa["cardholderName"] == ("Ada L", False) and entries["Home/Visa"].template == "card"
    assert fields_of(entries["Me"]) == {"firstName": ("Ada", False), "ssn": ("123-45-6789", True)}
    key = entries["deploy key"]
    assert key.template == "ssh_key" and fields_of(key)["privateKey"][1] is True

    assert unmapped_of(report) == {
        ("Work/Cloud/GitHub", "Linked user"),
        ("Work/Cloud/GitHub", "passkeys"),
        ("Old", "(entire entry)"),
        ("Work/Cloud/GitHub (2)", "futureThing"),
    }


def test_bitwarden_encrypted_and_malformed(tmp_path: Path) -> None:
    path = tmp_path / "bw.json"
    path.write_text(json.dumps({"encrypted": True, "passwordProtected": True, "items": []}))
    with pytest.raises(ValidationError, match="encrypted Bitwarden exports are not supported"):
        parse_file("bitwarden-json", path)
    path.write_text('{"items": [1, 2')
    with pytest.raises(ValidationError, match="not valid JSON"):
        parse_file("bitwarden-json", path)
    path.write_text('{"folders": []}')
    with pytest.raises(ValidationError, match="not a Bitwarden JSON export"):
        parse_file("bitwarden-json", path)


# 1Password .1pux

ONEPUX_DATA = {
    "accounts": [
        {
            "attrs": {"accountName": "Ada", "name": "Ada", "uuid": "ACC"},
            "vaults": [
                {
                    "attrs": {"uuid": "v1", "desc": "", "name": "Private", "type": "P"},
                    "items": [
                        {
                            "uuid": "i1",
                            "favIndex": 1,
                            "createdAt": 1672628645,
                            "updatedAt": 1714982889,
                            "state": "active",
                            "categoryUuid": "001",
                            "details": {
                                "loginFields": [
                                    {
                                        "value": "ada",
                                        "id": "",
                                        "name": "username",
                                        "fieldType": "T",
                                        "designation": "username",
                                    },
                                    {
                                        "value": "pw-now",
                                        "id": "",
                                        "name": "password",
                                        "fieldType": "P",
                                        "designation": "password",
                                    },
                                    {"value": "on", "id": "", "name": "remember", "fieldType": "C"},
                                ],  # fmt: skip
                                "notesPlain": "work account",
                                "sections": [
                                    {
                                        "title": "Security",
                                        "name": "Section_x",
                                        "fields": [
                                            {
                                                "title": "one-time password",
                                                "id": "TOTP_1",
                                                "value": {"totp": "otpauth://totp/a?secret=AB"},
                                            },
                                            {
                                                "title": "PIN",
                                                "id": "p",
                                                "value": {"concealed": "9999"},
                                            },
                                            {
                                                "title": "Email",
                                                "id": "e",
                                                "value": {"email": "a@example.com"},
                                            },
                                            {
                                                "title": "Since",
                                                "id": "d",
                                                "value": {"date": 1672628645},
                                            },
                                            {
                                                "title": "Expiry",
                                                "id": "m",
                                                "value": {"monthYear": 203012},
                                            },
                                            {
                                                "title": "Office",
                                                "id": "ad",
                                                "value": {
                                                    "address": {"street": "1 Main", "city": "Oslo"}
                                                },
                                            },
                                            {
                                                "title": "Related",
                                                "id": "r",
                                                "value": {"reference": "i9"},
                                            },
                                            {
                                                "title": "Scan",
                                                "id": "f",
                                                "value": {"file": {"fileName": "scan.pdf"}},
                                            },
                                            {"title": "Empty", "id": "z", "value": {"string": ""}},
                                        ],  # fmt: skip
                                    }
                                ],
                                "passwordHistory": [
                                    {"value": "pw-old", "time": 1600000000},
                                ],
                            },
                            "overview": {
                                "subtitle": "ada",
                                "urls": [
                                    {"label": "website", "url": "https://github.com"},
                                    {"label": "", "url": "https://gist.github.com"},
                                ],
                                "title": "GitHub",
                                "url": "https://github.com",
                                "tags": ["dev"],
                            },
                        },
                        {
                            "item": {
                                "uuid": "i2",
                                "state": "archived",
                                "categoryUuid": "003",
                                "details": {"notesPlain": "1234#"},
                                "overview": {"title": "Door code"},
                            }
                        },
                        {
                            "uuid": "i3",
                            "trashed": True,
                            "categoryUuid": "001",
                            "details": {},
                            "overview": {"title": "Gone"},
                        },
                        {
                            "uuid": "i4",
                            "state": "active",
                            "categoryUuid": "006",
                            "details": {
                                "documentAttributes": {"fileName": "id.pdf", "documentId": "d1"}
                            },
                            "overview": {"title": "Passport scan"},
                        },
                    ],
                }
            ],
        }
    ]
}


def _write_1pux(path: Path, data: bytes, extra: dict[str, bytes] | None = None) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.attributes", json.dumps({"version": 3, "createdAt": 1}))
        archive.writestr("export.data", data)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)


def test_1pux(tmp_path: Path) -> None:
    path = tmp_path / "export.1pux"
    _write_1pux(path, json.dumps(ONEPUX_DATA).encode(), {"files/d1__id.pdf": b"%PDF"})
    report = parse_file("1pux", path)
    entries = by_name(report)

    assert set(entries) == {"Private/GitHub", "Private/Door code", "Private/Passport scan"}
    github = entries["Private/GitHub"]
    assert github.template == "basic_auth"
    assert fields_of(github) == {
        "username": ("ada", False),
        "password": ("pw-now", True),
        "remember": ("on", False),
        "url": ("https://github.com", False),
        "url 2": ("https://gist.github.com", False),
        "totp": ("otpauth://totp/a?secret=AB", True),
        "PIN": ("9999", True),
        "Email": ("a@example.com", False),
        "Since": ("2023-01-02", False),
        "Expiry": ("2030-12", False),
        "Office": ("1 Main\nOslo", False),
    }
    assert github.notes == "work account" and github.tags == ["Private", "dev"]
    assert github.created == datetime.fromtimestamp(1672628645, UTC)
    assert [fields_of(v)["password"][0] for v in github.history] == ["pw-old"]

    door = entries["Private/Door code"]
    assert door.template == "note" and door.notes == "1234#" and "archived" in door.tags
    assert unmapped_of(report) == {
        ("Private/GitHub", "Related"),
        ("Private/GitHub", "Scan"),
        ("Private/Gone", "(entire entry)"),
        ("Private/Passport scan", "id.pdf"),
    }


def test_1pux_limits_and_malformed(tmp_path: Path) -> None:
    path = tmp_path / "x.1pux"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValidationError, match="not a readable zip"):
        parse_file("1pux", path)

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("other.txt", "x")
    with pytest.raises(ValidationError, match="no export.data"):
        parse_file("1pux", path)

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("export.data", "{}")
        for index in range(10_001):
            archive.writestr(f"files/{index}", b"")
    with pytest.raises(ValidationError, match="more than 10000 files"):
        parse_file("1pux", path)

    bomb = b"[" + b" " * (65 * 1024 * 1024) + b"]"
    _write_1pux(path, bomb)
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(ValidationError, match="larger than 64 MiB"):
        parse_file("1pux", path)
