"""Credential templates: built-ins load, provider formats are checked, user files are defended."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from echo_vault_app.errors import NotFound, ValidationError
from echo_vault_app.secrets.dburl import join_database_url, parse_database_url
from echo_vault_app.secrets.templates import (
    MAX_TEMPLATE_BYTES,
    TemplateRegistry,
    load_builtin,
    load_templates,
    parse_dotenv,
)

BUILTIN_IDS = {
    "api_key",
    "api_key_secret",
    "database_url",
    "oauth2_client",
    "aws",
    "stripe",
    "google_oauth",
    "salesforce",
    "basic_auth",
    "ssh_key",
    "totp",
    "dotenv",
    "note",
}
CANARY = "Canary7Zq"


@pytest.fixture(scope="module")
def registry() -> TemplateRegistry:
    return load_templates()


@pytest.fixture(scope="module")
def ssh_keys() -> dict[str, str]:
    """Real private keys in every container format the validator accepts."""
    pem, openssh = serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH
    traditional = serialization.PrivateFormat.TraditionalOpenSSL
    pkcs8, plain = serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    locked = serialization.BestAvailableEncryption(b"key passphrase")
    ed = ed25519.Ed25519PrivateKey.generate()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    public = ed.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return {
        "openssh": ed.private_bytes(pem, openssh, plain).decode(),
        "rsa": rsa_key.private_bytes(pem, traditional, plain).decode(),
        "pkcs8": rsa_key.private_bytes(pem, pkcs8, plain).decode(),
        "pkcs8_encrypted": rsa_key.private_bytes(pem, pkcs8, locked).decode(),
        "ec_encrypted_pem": ec_key.private_bytes(pem, traditional, locked).decode(),
        "public_openssh": public.decode(),
        "public_pem": rsa_key.public_key()
        .public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    }


def refuses(registry: TemplateRegistry, template_id: str, fields: dict) -> str:
    with pytest.raises(ValidationError) as info:
        registry.validate(template_id, fields)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- built-ins ----------------------------------------------------------------------------------


def test_every_builtin_loads_without_problems(registry):
    folder = resources.files("echo_vault_app") / "resources" / "templates"
    files = [entry for entry in folder.iterdir() if entry.name.endswith(".json")]
    assert len(registry.all()) == len(files)
    assert {t.id for t in registry.all()} >= BUILTIN_IDS
    assert registry.problems == []

    for template in registry.all():
        assert template.source == "builtin"
        assert template.field(template.primary_field).secret
        if template.username_field:
            template.field(template.username_field)


def test_every_builtin_passes_the_checks_a_user_file_gets(tmp_path):
    """Built-ins load without re-checking patterns and examples; this is where they are checked."""
    folder = resources.files("echo_vault_app") / "resources" / "templates"
    files = [entry for entry in folder.iterdir() if entry.name.endswith(".json")]
    for entry in files:
        data = json.loads(entry.read_text("utf-8"))
        data["id"] = "copy-" + data["id"]
        (tmp_path / entry.name).write_text(json.dumps(data), "utf-8")

    loaded = load_templates(tmp_path)
    assert loaded.problems == []
    assert len([t for t in loaded.all() if t.source == "user"]) == len(files)


def test_a_user_file_with_a_bad_pattern_or_example_is_still_refused(tmp_path):
    folder = resources.files("echo_vault_app") / "resources" / "templates"
    data = json.loads((folder / "aws.json").read_text("utf-8"))
    data["id"] = "my-aws"
    (tmp_path / "a.json").write_text(json.dumps(data), "utf-8")
    broken_pattern = json.loads(json.dumps(data))
    broken_pattern["id"] = "my-aws-2"
    next(f for f in broken_pattern["fields"] if f.get("pattern"))["pattern"] = "(unclosed"
    (tmp_path / "b.json").write_text(json.dumps(broken_pattern), "utf-8")
    bad_example = json.loads(json.dumps(data))
    bad_example["id"] = "my-aws-3"
    next(f for f in bad_example["fields"] if f.get("pattern"))["example"] = "not it"
    (tmp_path / "c.json").write_text(json.dumps(bad_example), "utf-8")

    loaded = load_templates(tmp_path)
    assert {t.id for t in loaded.all() if t.source == "user"} == {"my-aws"}
    reasons = [problem.message for problem in loaded.problems]
    assert len(reasons) == 2
    assert any("is not a valid regular expression" in reason for reason in reasons)
    assert any("example is refused" in reason for reason in reasons)


def test_all_is_sorted_by_name_and_get_refuses_unknown_ids(registry):
    names = [t.name.casefold() for t in registry.all()]
    assert names == sorted(names)

    with pytest.raises(NotFound, match="no credential template"):
        registry.get("no-such-template")
    with pytest.raises(KeyError):
        registry.get("aws").field("no_such_field")


def test_every_builtin_accepts_its_own_examples(registry, ssh_keys):
    for template in registry.all():
        values = {f.name: f.example for f in template.fields if f.example}
        if template.id == "ssh_key":
            values["private_key"] = ssh_keys["openssh"]
        result = registry.validate(template.id, values)
        assert template.primary_field in result or template.id == "database_url"


# --- AWS ----------------------------------------------------------------------------------------

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    "key_id", ["AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A", " AKIA2E0A8F3B244C9986 "]
)
def test_aws_accepts_access_key_ids(registry, key_id):
    result = registry.validate("aws", {"access_key_id": key_id, "secret_access_key": AWS_SECRET})
    assert result["access_key_id"] == key_id.strip()


@pytest.mark.parametrize(
    "key_id",
    [
        "AKIAIOSFODNN7EXAMPL",
        "AKIAIOSFODNN7EXAMPLEX",
        "akiaiosfodnn7example",
        "AIDAIOSFODNN7EXAMPLE",
    ],
)
def test_aws_refuses_malformed_access_key_ids(registry, key_id):
    message = refuses(registry, "aws", {"access_key_id": key_id, "secret_access_key": AWS_SECRET})
    assert "access_key_id" in message and "AKIA" in message
    assert key_id not in message


@pytest.mark.parametrize("secret", [AWS_SECRET[:-1], AWS_SECRET + "A", AWS_SECRET[:-1] + "!"])
def test_aws_refuses_secrets_that_are_not_40_characters(registry, secret):
    message = refuses(
        registry, "aws", {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": secret}
    )
    assert "secret_access_key" in message and secret not in message


@pytest.mark.parametrize(
    "region", ["us-east-1", "EU-CENTRAL-2", "ap-southeast-4", "us-gov-west-1", "cn-north-1"]
)
def test_aws_accepts_regions(registry, region):
    result = registry.validate(
        "aws",
        {
            "access_key_id": "AKIAIOSFODNN7EXAMPLE",
            "secret_access_key": AWS_SECRET,
            "region": region,
        },
    )
    assert result["region"] == region.lower()


@pytest.mark.parametrize("region", ["us-east", "useast1", "us_east_1", "us-east-0", "moon"])
def test_aws_refuses_malformed_regions(registry, region):
    fields = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": AWS_SECRET}
    message = refuses(registry, "aws", fields | {"region": region})
    assert "'region'" in message and "us-east-1" in message


# --- Stripe -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["sk_live_51Hx9aBcDeFgHiJk", "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "rk_live_0a1B2c3D"]
)
def test_stripe_accepts_secret_and_restricted_keys(registry, key):
    assert registry.validate("stripe", {"secret_key": key})["secret_key"] == key


@pytest.mark.parametrize(
    "key", [f"pk_live_{CANARY}", f"sk_prod_{CANARY}", "sk_test_", f"sk_test_{CANARY}-x"]
)
def test_stripe_refuses_wrong_keys_in_the_secret_field(registry, key):
    message = refuses(registry, "stripe", {"secret_key": key})
    assert "secret_key" in message and "sk_live_" in message
    assert CANARY not in message


def test_stripe_checks_publishable_key_and_webhook_secret(registry):
    good = {"secret_key": "sk_test_abc", "publishable_key": "pk_test_abc"}
    assert registry.validate("stripe", good | {"webhook_secret": "whsec_abc+/="})

    refuses(registry, "stripe", good | {"publishable_key": "sk_test_abc"})
    refuses(registry, "stripe", good | {"webhook_secret": "wh_abc"})


# --- database URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "dialect", "host", "port", "database"),
    [
        (
            "postgresql://app:pw@db.example.com:5432/prod",
            "postgresql",
            "db.example.com",
            5432,
            "prod",
        ),
        ("postgres://app@localhost/prod?sslmode=require", "postgres", "localhost", None, "prod"),
        ("postgresql+psycopg://app:pw@[::1]:6432/prod", "postgresql", "[::1]", 6432, "prod"),
        ("postgresql:///prod?host=/var/run/postgresql", "postgresql", None, None, "prod"),
        ("mysql://root:pw@127.0.0.1:3306/shop", "mysql", "127.0.0.1", 3306, "shop"),
        ("mysql+pymysql://root@db/shop?charset=utf8mb4", "mysql", "db", None, "shop"),
        ("sqlite:///relative.db", "sqlite", None, None, "relative.db"),
        ("sqlite:////var/lib/app/abs.db", "sqlite", None, None, "/var/lib/app/abs.db"),
        ("sqlite://", "sqlite", None, None, None),
        ("mongodb://u:pw@h1:27017,h2:27018/app?replicaSet=rs0", "mongodb", "h1", 27017, "app"),
        (
            "mongodb+srv://u:pw@cluster0.ab1cd.mongodb.net/app",
            "mongodb+srv",
            "cluster0.ab1cd.mongodb.net",
            None,
            "app",
        ),
        ("redis://:pw@cache:6379/0", "redis", "cache", 6379, "0"),
        ("rediss://default:pw@cache.example.com:6380", "rediss", "cache.example.com", 6380, None),
    ],
)
def test_database_urls_parse(url, dialect, host, port, database):
    parsed = parse_database_url(url)
    assert (parsed.dialect, parsed.host, parsed.port, parsed.database) == (
        dialect,
        host,
        port,
        database,
    )


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgresql://app:p%40ss%3Aw%2Frd@db/prod", "p@ss:w/rd"),
        ("postgresql://app:p@ss@db/prod", "p@ss"),
        ("postgresql://app:ab/cd+ef==@db:5432/prod", "ab/cd+ef=="),
        ("mysql://root:has#hash?and%25@db/shop", "has#hash?and%"),
        ("postgresql://app:caf%C3%A9@db/prod", "café"),
        ("redis://:only-password@cache:6379/1", "only-password"),
    ],
)
def test_database_url_passwords_with_special_characters(url, password):
    parsed = parse_database_url(url)
    assert parsed.password == password
    assert password not in repr(parsed) and password not in str(parsed)
    assert "***" in parsed.redacted()

    rebuilt = parse_database_url(join_database_url(parsed.without_password(), password))
    assert rebuilt.password == password
    assert (rebuilt.host, rebuilt.port, rebuilt.database) == (
        parsed.host,
        parsed.port,
        parsed.database,
    )


def test_database_url_redacts_secret_looking_parameters():
    parsed = parse_database_url("mysql://root@db/shop?password=hunter2x&charset=utf8")
    assert parsed.secret_params() == ["password"]
    assert "hunter2x" not in parsed.redacted() and "charset=utf8" in parsed.redacted()


@pytest.mark.parametrize(
    "url",
    [
        f"http://app:{CANARY}@db/prod",
        f"{CANARY}",
        f"postgresql://app:{CANARY}@db:99999/prod",
        f"postgresql://app:{CANARY}@db:port/prod",
        f"mysql://app:{CANARY}@db1,db2/shop",
        f"redis://:{CANARY}@cache/notanumber",
        f"sqlite://app:{CANARY}@host/x.db",
        f"postgresql://app:{CANARY}@db/prod\nmore",
        f"postgresql://app:{CANARY}@db/my prod",
        f"mongodb+srv://u:{CANARY}@cluster.example.net:27017/app",
        f"postgresql://app:{CANARY}%FF@db/prod",
    ],
)
def test_database_urls_refused_without_leaking_the_password(registry, url):
    with pytest.raises(ValidationError) as info:
        parse_database_url(url)
    assert CANARY not in str(info.value)

    message = refuses(registry, "database_url", {"url": url})
    assert message.startswith("database_url: field 'url'") and CANARY not in message


def test_database_template_moves_the_password_into_the_sealed_field(registry):
    result = registry.validate(
        "database_url", {"url": f"postgresql://app:{CANARY}%2F1@db.example.com:5432/prod"}
    )
    assert result == {
        "url": "postgresql://app@db.example.com:5432/prod",
        "password": CANARY + "/1",
    }
    assert join_database_url(result["url"], result["password"]) == (
        f"postgresql://app:{CANARY}%2F1@db.example.com:5432/prod"
    )
    assert registry.get("database_url").field("url").secret is False


def test_database_template_refuses_conflicting_or_parameter_passwords(registry):
    url = "postgresql://app:one@db/prod"
    message = refuses(registry, "database_url", {"url": url, "password": CANARY})
    assert "differs" in message and CANARY not in message

    message = refuses(registry, "database_url", {"url": f"mysql://root@db/x?password={CANARY}"})
    assert "password" in message and CANARY not in message

    same = registry.validate("database_url", {"url": url, "password": "one"})
    assert same["password"] == "one"
    assert registry.validate("database_url", {"url": "sqlite:///app.db"}) == {
        "url": "sqlite:///app.db"
    }


# --- TOTP ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "normalised"),
    [
        ("JBSWY3DPEHPK3PXP", "JBSWY3DPEHPK3PXP"),
        ("jbsw y3dp ehpk 3pxp", "JBSWY3DPEHPK3PXP"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
        (
            "otpauth://totp/ACME:dev@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME&digits=6",
            "otpauth://totp/ACME:dev@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME&digits=6",
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=SHA256&period=60&digits=8",
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=SHA256&period=60&digits=8",
        ),
    ],
)
def test_totp_accepts_base32_seeds_and_otpauth_uris(registry, seed, normalised):
    assert registry.validate("totp", {"seed": seed})["seed"] == normalised


@pytest.mark.parametrize(
    ("seed", "reason"),
    [
        ("JBSWY3DPEHPK3PX0", "base32"),
        ("JBSWY3DPEH", "too short"),
        ("JBSWY3DPEHPK3PXPA", "cannot be decoded"),
        ("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1", "HOTP"),
        ("otpauth://totp/x?issuer=ACME", "secret"),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=9", "digits"),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", "algorithm"),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0", "period"),
        ("otpauth://totp/x?secret=JBSWY3DP", "too short"),
    ],
)
def test_totp_refuses_bad_seeds_without_echoing_them(registry, seed, reason):
    message = refuses(registry, "totp", {"seed": seed})
    assert reason in message and "JBSWY3DP" not in message


# --- SSH ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["openssh", "rsa", "pkcs8", "pkcs8_encrypted", "ec_encrypted_pem"])
def test_ssh_accepts_real_private_keys(registry, ssh_keys, kind):
    key = ssh_keys[kind]
    result = registry.validate("ssh_key", {"private_key": key.replace("\n", "\r\n")})
    assert result["private_key"] == key.strip() + "\n"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda k: k["public_openssh"], "public key"),
        (lambda k: k["public_pem"], "public key"),
        (lambda k: k["openssh"].rsplit("-----END", 1)[0], "one private key"),
        (lambda k: k["openssh"] + k["rsa"], "one private key"),
        (lambda k: k["rsa"].replace("END RSA", "END EC"), "private key"),
        (lambda k: k["rsa"].replace("RSA PRIVATE", "OPENSSH PRIVATE"), "OpenSSH key body"),
        (lambda k: k["pkcs8"].replace("M", "!", 3), "base64"),
        (lambda k: "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", "PuTTY"),
        (lambda k: "not a key at all", "private key"),
    ],
)
def test_ssh_refuses_what_is_not_a_private_key(registry, ssh_keys, make, reason):
    value = make(ssh_keys)
    message = refuses(registry, "ssh_key", {"private_key": value})
    assert reason in message
    body_line = ssh_keys["openssh"].splitlines()[1]
    assert body_line not in message


def test_ssh_public_key_field_is_checked(registry, ssh_keys):
    fields = {"private_key": ssh_keys["openssh"], "public_key": ssh_keys["public_openssh"]}
    assert registry.validate("ssh_key", fields)["public_key"] == ssh_keys["public_openssh"]
    refuses(registry, "ssh_key", fields | {"public_key": "rsa AAAA"})


# --- other checks -------------------------------------------------------------------------------


def test_oauth_scopes_are_normalised_and_token_url_must_be_https(registry):
    base = {"client_id": "app", "client_secret": "s3cret", "token_url": "https://a.example/t"}
    result = registry.validate("oauth2_client", base | {"scopes": " read, write  read\tadmin "})
    assert result["scopes"] == "read write admin"

    assert registry.validate("oauth2_client", base | {"token_url": "http://localhost:8080/t"})
    message = refuses(registry, "oauth2_client", base | {"token_url": "http://auth.example/t"})
    assert "token_url" in message
    refuses(registry, "oauth2_client", base | {"scopes": 'read "write"'})


def test_basic_auth_url_must_not_carry_a_password(registry):
    fields = {"url": f"https://deploy:{CANARY}@registry.example.com", "username": "deploy"}
    message = refuses(registry, "basic_auth", fields | {"password": "pw"})
    assert "contains a password" in message and CANARY not in message

    message = refuses(
        registry, "basic_auth", {"url": "not a url", "username": "u", "password": "p"}
    )
    assert "'url'" in message


def test_dotenv_bundle_parses_and_reports_line_numbers(registry):
    text = (
        "# comment\nexport API_TOKEN=abc123 # trailing\nQUOTED='a # b'\n"
        'MULTI="line1\nline2"\nESC="x\\ny"\n\nEMPTY=\n'
    )
    assert parse_dotenv(text) == {
        "API_TOKEN": "abc123",
        "QUOTED": "a # b",
        "MULTI": "line1\nline2",
        "ESC": "x\ny",
        "EMPTY": "",
    }
    assert registry.validate("dotenv", {"env": text.replace("\n", "\r\n")})["env"] == text

    message = refuses(registry, "dotenv", {"env": f"A=1\n{CANARY} no equals sign\n"})
    assert message == "dotenv: field 'env' line 2: expected KEY=value"
    assert "repeats line 1" in refuses(registry, "dotenv", {"env": "A=1\nA=2\n"})
    assert "never closed" in refuses(registry, "dotenv", {"env": f'A="{CANARY}\n'})


def test_dotenv_and_generic_templates_allow_extra_fields_others_refuse(registry):
    result = registry.validate("dotenv", {"env": "A=1", "DATABASE_URL": "x", "BLOB": b"\x00\xff"})
    assert result["BLOB"] == b"\x00\xff"
    assert registry.get("dotenv").is_secret("DATABASE_URL")

    assert "not a field" in refuses(registry, "stripe", {"secret_key": "sk_test_a", "extra": "x"})
    assert "not a valid field name" in refuses(registry, "api_key", {"api_key": "k", "a b": "x"})


def test_required_optional_and_single_line_rules(registry):
    assert "is required" in refuses(registry, "basic_auth", {"url": "https://h", "username": "u"})
    assert "is required" in refuses(registry, "note", {"note": "   "})

    result = registry.validate("api_key", {"api_key": " key with spaces \n", "service": "  "})
    assert result == {"api_key": " key with spaces "}
    assert "single line" in refuses(registry, "api_key", {"api_key": "one\ntwo"})
    assert "whole number" in refuses(
        registry, "totp", {"seed": "JBSWY3DPEHPK3PXP", "period": "30s"}
    )


def test_bytes_values(registry):
    binary = b"\x00\x01\xfe\xff secret blob"
    assert registry.validate("note", {"note": binary}) == {"note": binary}

    decoded = registry.validate("stripe", {"secret_key": b"sk_test_abc"})
    assert decoded == {"secret_key": "sk_test_abc"}
    message = refuses(registry, "stripe", {"secret_key": b"sk_test_\xff" + CANARY.encode()})
    assert "must be text" in message and CANARY not in message
    assert "must be text" in refuses(registry, "api_key", {"api_key": 12345})


# --- user templates -----------------------------------------------------------------------------


def user_template(template_id: str, **changes) -> dict:
    template = {
        "format": 1,
        "id": template_id,
        "name": f"Acme {template_id}",
        "_comment": "keys starting with _ are ignored",
        "primary_field": "token",
        "fields": [
            {
                "name": "token",
                "label": "Token",
                "secret": True,
                "required": True,
                "kind": "password",
                "pattern": "acme_[0-9a-f]{8}",
                "help": "acme_ then 8 hex digits",
                "example": "acme_0123abcd",
            },
            {"name": "team", "label": "Team"},
        ],
    }
    template.update(changes)
    return template


def write(folder: Path, name: str, data) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_user_dir_good_malformed_bad_regex_and_builtin_id(tmp_path):
    write(tmp_path, "a_good.json", user_template("acme"))
    bad_json = write(tmp_path, "b_broken.json", '{"id": "broken", "fields": [')
    bad_regex = write(tmp_path, "c_regex.json", user_template("regex", fields=[
        {"name": "token", "label": "Token", "secret": True, "pattern": "acme_[0-9"}
    ]))  # fmt: skip
    builtin = write(tmp_path, "d_aws.json", user_template("aws"))
    write(tmp_path, "ignored.txt", "not a template")

    registry = load_templates(tmp_path)

    acme = registry.get("acme")
    assert (acme.source, acme.path) == ("user", str(tmp_path / "a_good.json"))
    assert registry.get("aws").source == "builtin"
    assert {p.path for p in registry.problems} == {str(bad_json), str(bad_regex), str(builtin)}
    messages = {p.path: p.message for p in registry.problems}
    assert "JSON" in messages[str(bad_json)]
    assert "regular expression" in messages[str(bad_regex)]
    assert "built-in" in messages[str(builtin)]
    with pytest.raises(NotFound):
        registry.get("regex")

    assert registry.validate("acme", {"token": "acme_0123abcd", "team": "ops"})["team"] == "ops"
    message = refuses(registry, "acme", {"token": f"acme_{CANARY}"})
    assert "acme_ then 8 hex digits" in message and CANARY not in message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (user_template("x", colour="red"), "unknown key 'colour'"),
        (user_template("x", fields=[{"name": "token", "label": "T", "secret": True}] * 2), "twice"),
        (user_template("x", fields=[{"name": "token", "label": "T", "sekret": True}]), "sekret"),
        (user_template("x", primary_field="team"), "primary_field must name a secret"),
        (user_template("x", primary_field="nope"), "primary_field must name one of"),
        (user_template("x", username_field="nope"), "username_field"),
        (user_template("Bad Id"), "id must be"),
        (user_template("x", format=2), "format"),
        (user_template("x", allow_extra_fields="yes"), "must be bool"),
        (user_template("x", fields=[]), "fields must list"),
        (user_template("x", fields=[{"name": "token", "label": "T", "kind": "blob"}]), "kind"),
        (user_template("x", fields=[{"name": "token", "label": "T", "validator": "x"}]), "valid"),
        (user_template("x", fields=[{"name": "Token", "label": "T", "secret": True}]), "name"),
        (
            user_template(
                "x",
                fields=[
                    {
                        "name": "token",
                        "label": "T",
                        "secret": True,
                        "pattern": "[0-9]+",
                        "example": "abc",
                    }
                ],
            ),
            "example is refused",
        ),  # fmt: skip
        (["not", "an", "object"], "must be a JSON object"),
        ('{"id": "x", "id": "y"}', "duplicate key"),
        ("[" * 50 + "]" * 50, "deeper"),
        ("\xff\xfe not json", "JSON"),
    ],
)
def test_malformed_user_templates_are_reported_and_skipped(tmp_path, data, expected):
    path = write(tmp_path, "t.json", data)
    registry = load_templates(tmp_path)
    assert [p.path for p in registry.problems] == [str(path)]
    assert expected in registry.problems[0].message
    assert "\n" not in registry.problems[0].message
    assert {t.id for t in registry.all()} >= BUILTIN_IDS


def test_oversized_non_utf8_and_duplicate_user_templates(tmp_path):
    big = user_template("big", description="x" * MAX_TEMPLATE_BYTES)
    write(tmp_path, "a_big.json", big)
    (tmp_path / "b_binary.json").write_bytes(b'{"id": "\xff"}')
    write(tmp_path, "c_first.json", user_template("dup"))
    write(tmp_path, "d_second.json", user_template("dup", name="Second"))

    registry = load_templates(tmp_path)

    messages = {Path(p.path).name: p.message for p in registry.problems}
    assert set(messages) == {"a_big.json", "b_binary.json", "d_second.json"}
    assert "larger than" in messages["a_big.json"]
    assert "UTF-8" in messages["b_binary.json"]
    assert "already used" in messages["d_second.json"]
    assert registry.get("dup").name == "Acme dup"


def test_missing_user_dir_is_not_an_error(tmp_path):
    registry = load_templates(tmp_path / "absent")
    assert registry.problems == [] and {t.id for t in registry.all()} >= BUILTIN_IDS


def test_templates_used_by_the_seed_calls_accept_their_values(registry):
    """The original specification's calls store placeholders through the general templates."""
    api = {"api_key": "sk_test_x", "api_secret": "secret_x", "service": "stripe"}
    assert registry.validate("api_key_secret", api) == api

    oauth = {"client_id": "…", "client_secret": "…", "refresh_token": "…"}
    assert registry.validate("oauth2_client", oauth) == oauth

    stored = registry.validate("database_url", {"url": "postgresql://u:p@h:5432/db"})
    assert join_database_url(stored["url"], stored["password"]) == "postgresql://u:p@h:5432/db"


# --- one template at a time -----------------------------------------------------------------


def test_a_builtin_read_alone_is_the_one_the_registry_holds(registry):
    builtins = [t for t in registry.all() if t.id in BUILTIN_IDS | {"generic"}]
    assert len(builtins) == len(BUILTIN_IDS) + 1
    for template in builtins:
        assert load_builtin(template.id) == template


@pytest.mark.parametrize("asked", ["nope", "../api_key", "api_key.json", "API_KEY", "", "api key"])
def test_only_a_builtin_id_is_read_alone(asked):
    assert load_builtin(asked) is None


def test_reveal_reads_one_builtin_and_still_honours_user_templates(vault_dir):
    """The value `get` prints is the template's primary field, whether the template is a
    built-in (read alone) or a user file (which needs the whole registry)."""
    from cryptography.fernet import Fernet

    from echo_vault_app.core.vault import Vault
    from echo_vault_app.secrets import SecretsManager

    key = Fernet.generate_key().decode()
    created = Vault.create(vault_dir, master_key=key, use_keyring=False)
    (vault_dir / "templates").mkdir()
    write(vault_dir / "templates", "pair.json", user_template("pair", primary_field="second",
          fields=[{"name": "first", "label": "First", "secret": True},
                  {"name": "second", "label": "Second", "secret": True}]))  # fmt: skip
    writer = SecretsManager(vault=created.vault)
    try:
        writer.store_secret("svc/api", fields={"api_key": "k-1", "api_secret": "s-1"},
                            template="api_key_secret")  # fmt: skip
        writer.store_secret("svc/pair", fields={"first": "f-1", "second": "s-2"}, template="pair")
    finally:
        writer.lock()

    reader = SecretsManager(vault=Vault.open(vault_dir, master_key=key, use_keyring=False))
    try:
        assert reader.reveal("svc/api") == "s-1"  # the primary field, not the first secret one
        assert reader._templates is None  # answered from api_key_secret.json alone
        assert reader.reveal("svc/pair") == "s-2"
        assert reader._templates is not None
    finally:
        reader.lock()
