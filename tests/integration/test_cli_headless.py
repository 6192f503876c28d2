"""Servers and CI: a headless vault from ECHO_VAULT_MASTER_KEY, a passphrase added later, and
the audit commands a script runs (verify, find-value)."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet

from echo_vault_app.core.vault import Vault

PASSPHRASE = "a passphrase added later"


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_headless_init_then_passphrase_add(cli, vault_dir) -> None:
    key = Fernet.generate_key().decode()
    env = {"ECHO_VAULT_MASTER_KEY": key}

    init = cli("init", "--json", env=env)  # stdin is not a terminal: nothing may be asked

    assert init.returncode == 0, init.stderr
    document = json.loads(init.stdout)
    assert set(document) == {"path", "recovery_key", "slots"}
    assert document["slots"] == "env, recovery"
    assert document["recovery_key"].startswith("EVRK-")
    assert cli("set", "ci/token", input="tok-123\n", env=env).returncode == 0

    added = cli("passphrase", "add", "--kdf-seconds", "0", input=PASSPHRASE + "\n", env=env)
    assert added.returncode == 0, added.stderr
    assert "passphrase added" in added.stderr

    no_env = {"ECHO_VAULT_MASTER_KEY": ""}
    opened = cli("--passphrase-stdin", "get", "ci/token", input=PASSPHRASE + "\n", env=no_env)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout == "tok-123"  # byte-exact into a pipe
    wrong = cli("--passphrase-stdin", "list", input="not it at all\n", env=no_env)
    assert wrong.returncode == 3
    assert one_error_line(wrong) == "echo-vault-cli: error: wrong passphrase"
    again = cli("passphrase", "add", input="another one here\n", env=env)
    assert again.returncode == 2
    assert "already has a passphrase" in one_error_line(again)
    vault = Vault.open(vault_dir, recovery_key=document["recovery_key"], use_keyring=False)
    assert sorted(vault.keyfile.slots) == ["env", "passphrase", "recovery"]
    vault.lock()


def test_headless_init_without_a_key_or_terminal_asks_for_one(cli, vault_dir) -> None:
    result = cli("init")

    assert result.returncode == 2
    assert "ECHO_VAULT_MASTER_KEY" in one_error_line(result)
    assert not (vault_dir / "vault.keys").exists()


def test_init_with_passphrase_stdin(cli, vault_dir) -> None:
    result = cli("--passphrase-stdin", "init", "--kdf-seconds", "0", input="long enough pass\n")

    assert result.returncode == 0, result.stderr
    assert "passphrase" in result.stderr
    short = cli("--passphrase-stdin", "init", input="short\n", env={"ECHO_VAULT_PATH": "/tmp/x"})
    assert short.returncode == 2


def test_audit_verify_and_tamper(cli, vault_dir) -> None:
    key = Fernet.generate_key().decode()
    env = {"ECHO_VAULT_MASTER_KEY": key}
    assert cli("init", env=env).returncode == 0
    assert cli("set", "a", input="1\n", env=env).returncode == 0

    intact = cli("audit", "--verify", env=env)
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout

    vault = Vault.open(vault_dir, master_key=key, use_keyring=False)
    with vault.transaction() as tx:
        tx.execute("UPDATE audit_log SET action = 'x' WHERE seq = 2")
    vault.lock()

    broken = cli("audit", "--verify", env=env)
    assert broken.returncode == 8
    assert "Traceback" not in broken.stderr
    assert "event 2" in broken.stdout + broken.stderr
    as_json = json.loads(cli("audit", "--verify", "--json", env=env).stdout)
    assert (as_json["ok"], as_json["first_bad_seq"]) == (False, 2)


def test_audit_find_value(cli, vault_dir) -> None:
    env = {"ECHO_VAULT_MASTER_KEY": Fernet.generate_key().decode()}
    assert cli("init", env=env).returncode == 0
    assert cli("set", "leaked/key", input="value-7f3a\n", env=env).returncode == 0
    assert cli("set", "other/key", input="value-other\n", env=env).returncode == 0
    assert cli("get", "leaked/key", env=env).stdout == "value-7f3a"

    found = cli("audit", "find-value", "--json", input="value-7f3a\n", env=env)
    none = cli("audit", "find-value", "--json", input="value-7f3\n", env=env)
    table = cli("audit", "find-value", input="value-7f3a", env=env)

    assert found.returncode == 0, found.stderr
    events = json.loads(found.stdout)["events"]
    assert [(e["action"], e["target"]) for e in events] == [
        ("write", "leaked/key"),
        ("read", "leaked/key"),
    ]
    assert "value-7f3a" not in found.stdout
    assert json.loads(none.stdout)["events"] == []
    assert "leaked/key" in table.stdout and "value-7f3a" not in table.stdout
