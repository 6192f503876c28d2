"""Planted secret values must not show up anywhere but where a value is asked for.

A full CLI session runs with logging at DEBUG over a passphrase vault. Every marker (secret
values of several templates, the passphrase, a wrong passphrase) is then searched, in UTF-8,
UTF-16, hex and base64 forms, in: the output of every command that is not ``get``, all stderr
(which carries the DEBUG log), the audit trail as the CLI shows it and as raw rows, every file
in the vault folder (the encrypted database and its -wal/-shm included, read raw) and the
temporary folder the processes were given.
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.core.vault import Vault


def marker(label: str) -> str:
    return f"{label}-{secrets.token_hex(12)}"


PASSPHRASE = marker("passphrase")
WRONG_PASSPHRASE = marker("wrongpass")
VALUES = {
    "generic": marker("generic"),
    "api_key": marker("apikey"),
    "basic_auth": marker("basicpw"),
    "database_url": marker("dbpw"),
    "note": marker("note"),
    "oauth": marker("oauth"),
    "old": marker("oldversion"),
}
MASTER_KEY = Fernet.generate_key().decode()
MARKERS = [PASSPHRASE, WRONG_PASSPHRASE, MASTER_KEY, *VALUES.values()]


def forms(text: str) -> list[bytes]:
    raw = text.encode()
    found = [raw, text.encode("utf-16-le"), text.encode("utf-16-be"), raw.hex().encode()]
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\x00" * shift + raw)
            found.append(encoded[4:-4])  # the part that does not depend on neighbours
    return found


def leaks_in(data: bytes) -> list[str]:
    return [m for m in MARKERS if any(form in data for form in forms(m))]


@pytest.mark.slow
def test_no_marker_leaks_anywhere(cli, vault_dir, tmp_path) -> None:
    # Most commands unlock with the (also planted) master key to keep the run short; the ones
    # marked ``passphrase=True`` go through the passphrase slot, Argon2id and all.
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    env = {"ECHO_VAULT_LOG_LEVEL": "DEBUG", "TMPDIR": str(tmpdir)}
    unlock = PASSPHRASE + "\n"
    shown: list[tuple[str, bytes]] = []  # (what, bytes) that must hold no marker
    revealed: list[str] = []

    def run(
        *args: str,
        input: str = unlock,
        expect: int = 0,
        value_out: bool = False,
        passphrase: bool = False,
    ):
        if passphrase:
            result = cli("--passphrase-stdin", *args, input=input,
                         env={**env, "ECHO_VAULT_MASTER_KEY": ""})  # fmt: skip
        else:
            result = cli(*args, input=input.removeprefix(unlock),
                         env={**env, "ECHO_VAULT_MASTER_KEY": MASTER_KEY})  # fmt: skip
        assert result.returncode == expect, (args, result.stderr)
        shown.append((f"stderr of {args}", result.stderr.encode()))
        if value_out:
            revealed.append(result.stdout)
        else:
            shown.append((f"stdout of {args}", result.stdout_bytes))
        return result

    url_file = tmp_path / "url.txt"
    url_file.write_text(f"postgresql://app:{VALUES['database_url']}@db.example.com:5432/main")
    note_file = tmp_path / "note.txt"
    note_file.write_text(f"line one\n{VALUES['note']}\nline three\n")

    init = cli("--passphrase-stdin", "init", "--kdf-seconds", "0", input=unlock,
               env={**env, "ECHO_VAULT_MASTER_KEY": MASTER_KEY})  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert "env, passphrase, recovery" in init.stderr
    shown += [("stderr of init", init.stderr.encode()), ("stdout of init", init.stdout_bytes)]
    held_open = Vault.open(vault_dir, master_key=MASTER_KEY, use_keyring=False)  # keeps -wal
    try:
        run("set", "app/generic", "--tag", "prod", input=unlock + VALUES["old"], passphrase=True)
        run("set", "app/generic", input=unlock + VALUES["generic"])
        run("set", "svc/api", "--template", "api_key", "--field", "service=acme",
            input=unlock + VALUES["api_key"])  # fmt: skip
        run("set", "ci/login", "--template", "basic_auth", "--field", "url=https://ci.example.com",
            "--field", "username=deploy", input=unlock + VALUES["basic_auth"])  # fmt: skip
        run("set", "db/main", "--template", "database_url", "--from-file", f"url={url_file}",
            input=unlock)  # fmt: skip
        run("set", "notes/door", "--template", "note", "--from-file", str(note_file))
        run("set", "oauth/google", "--template", "oauth2_client", "--field", "client_id=my-app",
            input=unlock + VALUES["oauth"])  # fmt: skip
        for name in ("app/generic", "svc/api", "ci/login", "db/main", "oauth/google"):
            run("get", name, value_out=True, passphrase=name == "app/generic")
        run("get", "db/main", "--json", value_out=True)
        run("list")
        run("list", "--json")
        run("search", "app")
        run("search", "--json", "tag:prod")
        run("search", VALUES["generic"], expect=6)  # a value is never found by search
        run("history", "app/generic")
        run("history", "app/generic", "--json")
        run("rm", "svc/api")
        run("trash", "--json")
        run("restore", "svc/api")
        run("expiring")
        run("templates", "--json")
        run("status", "--unlock", "--json")
        run("audit", passphrase=True)
        run("audit", "--json")
        run("audit", "--verify")
        run("audit", "find-value", "--json", input=unlock + VALUES["generic"])
        run("list", input=WRONG_PASSPHRASE + "\n", expect=3, passphrase=True)

        with held_open.read() as conn:
            audit_rows = conn.execute("SELECT * FROM audit_log").fetchall()
        shown.append(("raw audit rows", repr(audit_rows).encode()))
        for path in sorted(vault_dir.iterdir()):
            if path.is_file():
                shown.append((f"file {path.name}", path.read_bytes()))
        files_seen = {p.name for p in vault_dir.iterdir()}
    finally:
        held_open.lock()

    # The session really did what it claims: values came back where they were asked for.
    assert VALUES["generic"] in revealed[0]
    assert VALUES["database_url"] in "".join(revealed)
    assert {"vault.db", "vault.keys", "vault.db-wal", "vault.db-shm", "unlock.state"} <= (
        files_seen
    )
    assert any(b"DEBUG" in data for what, data in shown if what.startswith("stderr"))
    events = json.loads(next(d for w, d in shown if w.startswith("stdout of ('audit', '--json'")))
    assert {"write", "read", "delete", "restore"} <= {e["action"] for e in events["events"]}
    for path in tmpdir.rglob("*"):
        if path.is_file():
            shown.append((f"temp file {path}", path.read_bytes()))

    found = {what: leaks_in(data) for what, data in shown}
    assert {what: hit for what, hit in found.items() if hit} == {}


def test_markers_are_detectable_by_the_checker() -> None:
    """The search above must be able to fail: each form of a marker is recognised."""
    sample = MARKERS[0]
    for blob in forms(sample):
        assert leaks_in(b"padding " + blob + b" padding") == [sample]
    assert leaks_in(base64.b64encode(b"xy" + sample.encode() + b"z")) == [sample]
    assert leaks_in(Path(__file__).read_bytes()) == []
