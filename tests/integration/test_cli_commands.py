"""echo-vault-cli as a script uses it: happy paths, stable JSON, one-line errors, exit codes.

Exit codes (main.py and README): 0 ok, 2 usage, 3 authentication, 4 locked or no vault,
5 damaged, 6 not found, 7 conflict, 8 audit.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.cli.main import build_parser

MASTER_KEY = Fernet.generate_key().decode()
ENV = {"ECHO_VAULT_MASTER_KEY": MASTER_KEY}
SUMMARY_KEYS = {
    "name", "template", "tags", "version", "created", "updated", "expires", "favourite", "deleted",
}  # fmt: skip


def ok(result) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def fails(result, code: int, *fragments: str) -> str:
    """One line on stderr, the documented exit status, and no traceback."""
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def base_vault(tmp_path_factory):
    """A headless vault with a few secrets, made once through the CLI itself."""
    from tests.conftest import run_cli

    folder = tmp_path_factory.mktemp("cli") / "vault"
    env = {**ENV, "ECHO_VAULT_PATH": str(folder)}
    ok(run_cli("init", env=env))
    ok(run_cli("set", "stripe/api_key", "--tag", "payments", input="sk_test_abc\n", env=env))
    ok(run_cli("set", "stripe/api_key", input="sk_test_def\n", env=env))
    ok(
        run_cli(
            "set",
            "ci/login",
            "--template",
            "basic_auth",
            "--field",
            "url=https://ci.example.com",
            "--field",
            "username=deploy",
            input="hunter2-long\n",
            env=env,
        )  # fmt: skip
    )
    return folder


@pytest.fixture
def vault(base_vault, vault_dir):
    shutil.copytree(base_vault, vault_dir)
    return vault_dir


@pytest.fixture
def run(cli, vault):
    def call(*args, input=None, env=None):
        return cli(*args, input=input, env={**ENV, **(env or {})})

    return call


# -- happy paths ---------------------------------------------------------------------------


def test_get_to_a_pipe_prints_the_value(run) -> None:
    result = run("get", "stripe/api_key")

    ok(result)
    assert result.stdout == "sk_test_def"
    assert run("get", "ci/login", "--field", "username").stdout == "deploy"
    assert run("get", "ci/login").stdout == "hunter2-long"


def test_get_json_shape(run) -> None:
    result = run("get", "ci/login", "--json")

    ok(result)
    document = json.loads(result.stdout)
    assert set(document) == SUMMARY_KEYS | {"notes", "fields"}
    assert document["fields"] == {
        "url": "https://ci.example.com",
        "username": "deploy",
        "password": "hunter2-long",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["created"])


def test_list_and_json_shape(run) -> None:
    plain = run("list")
    document = json.loads(run("list", "--json").stdout)

    ok(plain)
    assert plain.stdout.splitlines() == ["ci/login", "stripe/api_key"]
    assert set(document) == {"secrets"}
    assert [set(s) for s in document["secrets"]] == [SUMMARY_KEYS, SUMMARY_KEYS]
    assert document["secrets"][1]["version"] == 2
    assert document["secrets"][1]["tags"] == ["payments"]
    assert run("list", "--tag", "payments").stdout == "stripe/api_key\n"
    assert run("list", "--prefix", "ci/").stdout == "ci/login\n"


def test_search_and_json_shape(run) -> None:
    result = run("search", "tag:payments")
    document = json.loads(run("search", "stri", "--json").stdout)

    ok(result)
    assert result.stdout == "stripe/api_key\n"
    assert set(document) == {"query", "secrets"}
    assert [s["name"] for s in document["secrets"]] == ["stripe/api_key"]
    assert json.loads(run("search", "nothing-matches", "--json").stdout)["secrets"] == []


def test_search_garbage_is_never_a_crash(run) -> None:
    for query in ('"', "AND OR NOT (", "*", "is:bogus"):
        result = run("search", query)
        assert result.returncode in (0, 2, 6), (query, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 1


def test_set_json_shape_and_versions(run) -> None:
    result = run("set", "new/one", "--json", "--tag", "a", "--tag", "b", input="v\n")

    ok(result)
    document = json.loads(result.stdout)
    assert set(document) == SUMMARY_KEYS
    assert (document["name"], document["version"], document["tags"]) == ("new/one", 1, ["a", "b"])


def test_set_reads_stdin_even_without_the_flag(run) -> None:
    ok(run("set", "piped", input="from a pipe\n"))

    assert run("get", "piped").stdout == "from a pipe"


def test_binary_value_from_file_and_back_exactly(run, tmp_path) -> None:
    blob = bytes(range(256)) + b"\x00\x00tail"
    path = tmp_path / "blob.bin"
    path.write_bytes(blob)

    ok(run("set", "bin/blob", "--from-file", str(path)))
    result = run("get", "bin/blob")

    ok(result)
    assert result.stdout_bytes == blob


def test_utf8_value_with_nul_from_file_comes_back_exactly(run, tmp_path) -> None:
    blob = b"\x00key\x00material"  # valid UTF-8, but a key file, not a line of text
    path = tmp_path / "key.bin"
    path.write_bytes(blob)

    ok(run("set", "bin/key", "--from-file", str(path)))

    assert run("get", "bin/key").stdout_bytes == blob


def test_multi_line_value_from_file(run, tmp_path) -> None:
    text = "-----BEGIN CERT-----\nabc\ndef\n-----END CERT-----\n"
    path = tmp_path / "cert.pem"
    path.write_text(text)

    ok(run("set", "tls/cert", "--from-file", str(path)))

    assert run("get", "tls/cert").stdout == text


def test_history_and_restore(run) -> None:
    table = run("history", "stripe/api_key")
    document = json.loads(run("history", "stripe/api_key", "--json").stdout)

    ok(table)
    assert "current" in table.stdout
    assert set(document) == {"name", "current_version", "versions"}
    assert document["current_version"] == 2
    assert [set(v) for v in document["versions"]] == [{"version", "saved", "template", "tags",
                                                       "fields"}]  # fmt: skip
    ok(run("history", "stripe/api_key", "--restore", "1"))
    assert run("get", "stripe/api_key").stdout == "sk_test_abc"
    fails(run("history", "stripe/api_key", "--restore", "99"), 6)


@pytest.mark.slow
def test_rm_restore_trash(run) -> None:
    ok(run("rm", "stripe/api_key"))
    assert run("list").stdout == "ci/login\n"
    trash = json.loads(run("trash", "--json").stdout)
    assert [s["name"] for s in trash["secrets"]] == ["stripe/api_key"]
    assert trash["secrets"][0]["deleted"] is not None

    ok(run("restore", "stripe/api_key"))
    assert run("get", "stripe/api_key").stdout == "sk_test_def"

    ok(run("rm", "stripe/api_key"))
    ok(run("trash", "--empty"))
    assert run("trash").stdout == ""
    fails(run("restore", "stripe/api_key"), 6)
    ok(run("rm", "ci/login", "--purge"))
    assert run("list", "--trash").stdout == ""


def test_expiring(run) -> None:
    ok(run("set", "old/cert", "--expires", "2001-01-01", input="x\n"))
    ok(run("set", "far/cert", "--expires", "2999-01-01", input="x\n"))

    document = json.loads(run("expiring", "--json").stdout)

    assert [s["name"] for s in document["secrets"]] == ["old/cert"]
    assert document["secrets"][0]["expires"] == "2001-01-01T00:00:00Z"
    assert "old/cert" in run("expiring").stdout
    assert run("search", "is:expired").stdout == "old/cert\n"


def test_templates_json_shape(run) -> None:
    result = run("templates", "--json")

    ok(result)
    document = json.loads(result.stdout)
    assert set(document) == {"templates", "problems"}
    ids = {t["id"] for t in document["templates"]}
    assert {"generic", "api_key", "database_url", "oauth2_client", "basic_auth", "note"} <= ids
    assert all(
        set(t) == {"id", "name", "source", "primary_field", "fields"} for t in document["templates"]
    )
    assert "ID" in run("templates").stdout


def test_status_json_shape(run) -> None:
    locked = json.loads(run("status", "--json").stdout)
    unlocked = json.loads(run("status", "--unlock", "--json").stdout)

    assert set(locked) == {"path", "exists", "vault_id", "slots", "unlock_retry_after", "unlocked"}
    assert locked["slots"] == ["env", "recovery"]
    assert unlocked["unlocked"] is True
    assert unlocked["unlocked_with"] == "master-key"
    assert unlocked["secrets"] == 2
    assert unlocked["audit_ok"] is True


def test_audit_json_shape(run) -> None:
    document = json.loads(run("audit", "--json").stdout)
    verify = json.loads(run("audit", "--verify", "--json").stdout)

    assert set(document) == {"events"}
    assert {e["action"] for e in document["events"]} >= {"create", "unlock", "write"}
    assert all(
        set(e) == {"seq", "time", "actor", "action", "target", "outcome", "detail"}
        for e in document["events"]
    )
    assert all(e["actor"].startswith("cli:") for e in document["events"])
    assert verify == {"ok": True, "checked": verify["checked"], "first_bad_seq": None, "reason": ""}
    limited = json.loads(run("audit", "--json", "--limit", "2").stdout)["events"]
    assert len(limited) == 2
    writes = json.loads(run("audit", "--json", "--action", "write").stdout)["events"]
    assert {e["action"] for e in writes} == {"write"}


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_usage_errors_exit_2(run, tmp_path) -> None:
    fails(run(), 2)
    fails(run("frobnicate"), 2)
    fails(run("get"), 2)
    fails(run("set", "x", "--expires", "soon"), 2, "ISO date")
    fails(run("set", "x//y", input="v\n"), 2, "empty path part")
    fails(run("set", "x", "--field", "noequals", input="v\n"), 2)
    fails(run("set", "x", "--from-file", str(tmp_path / "missing")), 2, "does not exist")
    fails(run("set", "x", "--notes-file", str(tmp_path)), 2)
    fails(run("init"), 2, "already exists")
    fails(run("search", "is:bogus"), 2)
    fails(run("history", "ci/login", "--restore", "notanumber"), 2)
    assert run("list").stdout == "ci/login\nstripe/api_key\n"


def test_set_refuses_a_secret_field_on_the_command_line(run) -> None:
    fails(run("set", "x", "--field", "value=topsecret"), 2, "secret")
    fails(
        run("set", "y", "--template", "basic_auth", "--field", "password=topsecret",
            "--field", "url=https://x.example", "--field", "username=u"),
        2, "secret",
    )  # fmt: skip
    assert run("list").stdout == "ci/login\nstripe/api_key\n"


def test_template_validation_error_is_one_line_without_the_value(run) -> None:
    line = fails(
        run("set", "s", "--template", "stripe", input="not-a-stripe-key-9f8e7d\n"), 2, "stripe"
    )

    assert "9f8e7d" not in line


def test_not_found_exit_6(run) -> None:
    fails(run("get", "missing"), 6, "missing")
    fails(run("get", "ci/login", "--field", "nope"), 6)
    fails(run("rm", "missing"), 6)
    fails(run("history", "missing"), 6)
    fails(run("restore", "missing"), 6)
    fails(run("set", "x", "--template", "no-such-template", input="v\n"), 6)


def test_check_and_set_conflict_exit_7(run) -> None:
    ok(run("set", "stripe/api_key", "--expected-version", "2", input="third\n"))
    fails(run("set", "stripe/api_key", "--expected-version", "2", input="stale\n"), 7, "version 3")
    fails(run("set", "ci/login", "--expected-version", "0", input="x\n"), 7)

    assert run("get", "stripe/api_key").stdout == "third"


def test_restore_conflict_exit_7(run) -> None:
    ok(run("rm", "stripe/api_key"))
    ok(run("set", "Stripe/API_KEY", input="new\n"))

    fails(run("restore", "stripe/api_key"), 7)


def test_wrong_master_key_exit_3(run) -> None:
    fails(run("list", env={"ECHO_VAULT_MASTER_KEY": Fernet.generate_key().decode()}), 3)
    fails(run("list", env={"ECHO_VAULT_MASTER_KEY": "not-a-key"}), 3, "malformed")


def test_no_vault_exit_4(cli, tmp_path) -> None:
    env = {**ENV, "ECHO_VAULT_PATH": str(tmp_path / "none")}

    fails(cli("list", env=env), 4, "no vault")
    fails(cli("get", "x", env=env), 4)
    status = cli("status", env=env)
    assert status.returncode == 4
    assert "exists: False" in status.stdout
    assert not (tmp_path / "none").exists()


def test_locked_without_any_unlock_secret_exit_4(run) -> None:
    fails(run("list", env={"ECHO_VAULT_MASTER_KEY": ""}), 4, "--passphrase-stdin")


def test_damaged_exit_5(run, vault) -> None:
    (vault / "vault.db").write_bytes(os.urandom(8192))

    fails(run("list"), 5)


def test_clip_without_a_display_is_a_usage_error(run) -> None:
    fails(run("clip", "ci/login", env={"DISPLAY": "", "WAYLAND_DISPLAY": ""}), 2, "DISPLAY")


# -- no secrets in argv --------------------------------------------------------------------------

_SECRETISH = re.compile(r"pass(word|phrase)?|secret|value|token|key|pin", re.IGNORECASE)
_ALLOWED = {
    "--passphrase-stdin",  # a flag: the passphrase comes from stdin
    "--passphrase-file",  # a path
    "--from-file",  # a path
    "--notes-file",  # a path
    "--expected-version",
    "--no-keyring",
    "--tls-key",  # `serve`: the path of the TLS private key file, not the key
}


def _all_parsers(parser):
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action.choices, dict):
            for sub in action.choices.values():
                yield from _all_parsers(sub)


def test_no_option_takes_a_secret_on_the_command_line() -> None:
    offending = []
    for prog, parser in _all_parsers(build_parser()):
        for action in parser._actions:
            for option in action.option_strings:
                if action.nargs == 0 or option in _ALLOWED or option.endswith(("-file", "-stdin")):
                    continue
                if _SECRETISH.search(option):
                    offending.append(f"{prog} {option}")

    assert offending == []


def test_set_help_offers_no_value_or_password_option(run) -> None:
    result = run("set", "--help")

    ok(result)
    options = set(re.findall(r"--[a-z-]+", result.stdout))
    assert "--from-file" in options
    assert not options & {"--value", "--password", "--passphrase", "--secret", "--token"}


def test_set_refuses_a_password_inside_a_database_url_argument(run) -> None:
    # A URL's password typed into --field lands in argv (ps, shell history) just as a secret
    # field would; the URL belongs on stdin or in --from-file url=PATH.
    result = run(
        "set", "db/main", "--template", "database_url",
        "--field", "url=postgresql://app:s3cret-pw@db.example.com/main",
    )  # fmt: skip

    fails(result, 2)
