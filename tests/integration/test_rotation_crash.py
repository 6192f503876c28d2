"""Data-key rotation under SIGKILL and under concurrent readers, with real processes.

A child process rotates the data key and is killed with SIGKILL at many moments spread over
every step of the protocol (pending key written, values re-sealed, database rekeyed, key
promoted). After each kill the vault is reopened through the keyring, the passphrase and the
recovery key, and every secret, every history entry and an auth signing key must be intact.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from echo_vault_app.core.keyfile import KeyFile
from echo_vault_app.core.vault import Vault
from echo_vault_app.secrets import SecretsManager
from echo_vault_app.secrets.model import FieldValue
from tests.conftest import PASSPHRASE, REPO

SECRETS = 1500
KILLS = 56

ROTATOR = textwrap.dedent(
    """
    import sys
    from echo_vault_app.core.vault import Vault
    from echo_vault_app.secrets import SecretsManager
    vault = Vault.open(sys.argv[1], passphrase=sys.argv[2] if len(sys.argv) > 2 else None)
    manager = SecretsManager(vault=vault)
    print("ready", flush=True)
    sys.stdin.readline()
    def progress(step, done, total):
        print(step, done, total, flush=True)
    manager.rotate_master_key(progress)
    print("finished", flush=True)
    """
)


def _populate(vault: Vault) -> dict[str, str]:
    """Secrets with history, written through the store in batches for speed."""
    manager = SecretsManager(vault=vault)
    expected = {}
    rng = random.Random(7)
    for i in range(SECRETS):
        name = f"team-{i % 17}/service-{i}/api_key"
        value = f"sk_{rng.getrandbits(128):032x}"
        expected[name] = value
        manager.store.put(name, [FieldValue("value", value)], template="generic")
    for i in range(0, SECRETS, 50):
        name = f"team-{i % 17}/service-{i}/api_key"
        new = expected[name] + "-v2"
        manager.store.put(name, [FieldValue("value", new)], template="generic")
        expected[name] = new
    return expected


def _check(vault: Vault, expected: dict[str, str]) -> None:
    manager = SecretsManager(vault=vault)
    with vault.read() as conn:
        rows = conn.execute("SELECT name FROM secrets WHERE deleted IS NULL").fetchall()
    assert len(rows) == len(expected)
    for name, value in expected.items():
        assert manager.store.get(name, audit=False).field("value").value == value
    for i in range(0, SECRETS, 50):
        name = f"team-{i % 17}/service-{i}/api_key"
        history = manager.store.history(name)
        assert history[0].fields[0].value + "-v2" == expected[name]
    assert manager.audit_verify().ok


def _kill_after(proc: subprocess.Popen, trigger: str | None, delay: float) -> list[str]:
    """Start the rotation and SIGKILL the child after ``trigger`` is printed, or after delay."""
    seen = []
    assert proc.stdout.readline().strip() == "ready"
    proc.stdin.write("go\n")
    proc.stdin.flush()
    if trigger is None:
        time.sleep(delay)
    else:
        for line in proc.stdout:
            seen.append(line.split()[0])
            if seen[-1] == trigger or seen[-1] == "finished":
                break
        time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return seen


@pytest.mark.slow
def test_rotation_killed_at_many_moments_loses_nothing(secret_service, vault_dir):
    created = Vault.create(vault_dir, passphrase=PASSPHRASE, kdf_seconds=0)
    vault = created.vault
    assert {"keyring", "passphrase", "recovery"} <= set(vault.keyfile.slots)
    expected = _populate(vault)

    from echo_vault_app.auth import AuthManager

    token = AuthManager(vault=vault).create_jwt_token(
        user_id="u@example.com", permissions=["read"], algorithm="EdDSA"
    )
    vault.lock()

    triggers = ["pending-written", "reseal", "resealed", "rekeyed", "promoted", None]
    rng = random.Random(2026)
    outcomes = {"finished": 0, "killed": 0}
    versions = set()
    for round_no in range(KILLS):
        trigger = triggers[round_no % len(triggers)]
        delay = rng.uniform(0, 0.004) if trigger else rng.uniform(0, 0.35)
        proc = subprocess.Popen(
            [sys.executable, "-c", ROTATOR, str(vault_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        seen = _kill_after(proc, trigger, delay)
        outcomes["finished" if "finished" in seen else "killed"] += 1

        # Reopen through each unlock slot; all must see every secret intact.
        for how in ("keyring", "passphrase", "recovery"):
            if how == "keyring":
                reopened = Vault.open(vault_dir)
                assert reopened.unlock_method == "keyring"
            elif how == "passphrase":
                reopened = Vault.open(vault_dir, passphrase=PASSPHRASE, use_keyring=False)
            else:
                reopened = Vault.open(
                    vault_dir, recovery_key=created.recovery_key, use_keyring=False
                )
            try:
                if how == "keyring":
                    _check(reopened, expected)
                    assert AuthManager(vault=reopened).verify_jwt_token(token) is not None
                else:
                    manager = SecretsManager(vault=reopened)
                    sample = rng.sample(sorted(expected), 20)
                    for name in sample:
                        assert (
                            manager.store.get(name, audit=False).field("value").value
                            == (expected[name])
                        )
                versions.add(reopened.keyfile.data_key.version)
            finally:
                reopened.lock()

    # The kills really landed inside rotations, and rotations also completed and advanced.
    assert outcomes["killed"] >= KILLS // 2, outcomes
    assert len(versions) > 5, versions

    final = Vault.open(vault_dir, passphrase=PASSPHRASE, use_keyring=False)
    try:
        SecretsManager(vault=final).rotate_master_key()
        assert final.keyfile.pending_data_key is None
        _check(final, expected)
    finally:
        final.lock()


READER = textwrap.dedent(
    """
    import json, random, sys, time
    from echo_vault_app.core.vault import Vault
    from echo_vault_app.secrets import SecretsManager
    expected = json.loads(sys.stdin.readline())
    vault = Vault.open(sys.argv[1], passphrase=sys.argv[2], use_keyring=False)
    manager = SecretsManager(vault=vault)
    names = sorted(expected)
    reads = errors = wrong = 0
    print("ready", flush=True)
    deadline = time.monotonic() + float(sys.argv[3])
    while time.monotonic() < deadline:
        name = random.choice(names)
        try:
            value = manager.store.get(name, audit=False).field("value").value
        except Exception as exc:
            errors += 1
            print("error", type(exc).__name__, exc, file=sys.stderr, flush=True)
            continue
        reads += 1
        wrong += value != expected[name]
    print(json.dumps({"reads": reads, "errors": errors, "wrong": wrong}), flush=True)
    """
)


def test_reader_process_sees_no_error_during_rotations(vault_dir):
    created = Vault.create(vault_dir, passphrase=PASSPHRASE, use_keyring=False, kdf_seconds=0)
    vault = created.vault
    manager = SecretsManager(vault=vault)
    expected = {}
    for i in range(800):
        expected[f"app/{i}"] = f"value-{i}-{os.urandom(8).hex()}"
        manager.store.put(
            f"app/{i}", [FieldValue("value", expected[f"app/{i}"])], template="generic"
        )

    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(vault_dir), PASSPHRASE, "6"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for _ in range(2)
    ]
    for reader in readers:
        reader.stdin.write(json.dumps(expected) + "\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "ready"

    rotations = []
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        rotations.append(manager.rotate_master_key().new_version)
        # A thread of this process reads too, through the same vault object.
        assert manager.store.get("app/1", audit=False).field("value").value == expected["app/1"]

    results = []
    for reader in readers:
        out, err = reader.communicate(timeout=60)
        results.append(json.loads(out.strip().splitlines()[-1]))
        assert err == "", err
    vault.lock()

    assert len(rotations) >= 3
    for result in results:
        assert result["errors"] == 0 and result["wrong"] == 0, result
        assert result["reads"] > 100, result
    assert KeyFile.load(vault_dir).data_key.version == rotations[-1]
