"""Several real processes writing to one vault at once: no write is lost, the trail holds."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

from cryptography.fernet import Fernet

from echo_vault_app.core.vault import Vault
from echo_vault_app.secrets import SecretsManager
from tests.conftest import holding_write_lock

WORKERS = 3
SECRETS_EACH = 100
INCREMENTS_EACH = 25

WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from echo_vault_app.errors import VersionConflict
    from echo_vault_app.secrets import SecretsManager

    folder, worker, count, increments, go = sys.argv[1:6]
    sm = SecretsManager(folder, use_keyring=False, create=False, prompt=False)
    while not Path(go).exists():
        time.sleep(0.005)
    for number in range(int(count)):
        sm.store_secret(f"w{worker}/s{number:03d}", f"value {worker}-{number}")
    retries = 0
    for _ in range(int(increments)):
        while True:
            current = sm.get("shared/counter")  # value and version from one snapshot
            try:
                sm.store_secret("shared/counter", str(int(current.field("value").value) + 1),
                                expected_version=current.version)
                break
            except VersionConflict:
                retries += 1
    sm.lock()
    print("done", retries)
    """
)


def test_concurrent_writers_lose_nothing(vault_dir, tmp_path) -> None:
    key = Fernet.generate_key().decode()
    created = Vault.create(vault_dir, master_key=key, use_keyring=False)
    manager = SecretsManager(vault=created.vault)
    manager.store_secret("shared/counter", "0")
    manager.store.set_history_depth(0)
    manager.lock()
    go = tmp_path / "go"
    env = {**os.environ, "ECHO_VAULT_MASTER_KEY": key}

    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                str(vault_dir),
                str(n),
                str(SECRETS_EACH),
                str(INCREMENTS_EACH),
                str(go),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for n in range(WORKERS)
    ]
    time.sleep(0.5)  # let every worker unlock and wait at the start line
    go.touch()
    results = [proc.communicate(timeout=240) for proc in procs]

    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out.startswith("done"), err
    again = SecretsManager(vault=Vault.open(vault_dir, master_key=key, use_keyring=False))
    try:
        names = again.list_secrets()
        expected = {f"w{w}/s{n:03d}" for w in range(WORKERS) for n in range(SECRETS_EACH)}
        assert set(names) == expected | {"shared/counter"}
        assert again.get_secret("w1/s042") == "value 1-42"
        assert again.get_secret("shared/counter") == str(WORKERS * INCREMENTS_EACH)
        assert again.store.summary("shared/counter").version == 1 + WORKERS * INCREMENTS_EACH
        verification = again.audit_verify()
        assert verification.ok, verification.message()
        writes = again.audit_events(action="write")
        assert len(writes) == 1 + WORKERS * (SECRETS_EACH + INCREMENTS_EACH)
    finally:
        again.lock()


def test_two_processes_change_different_slots_at_once(vault_dir, tmp_path) -> None:
    """vault.keys rewrites are serialised: both new slots survive."""
    key = Fernet.generate_key().decode()
    Vault.create(vault_dir, master_key=key, use_keyring=False).vault.lock()
    script = textwrap.dedent(
        """
        import sys
        from echo_vault_app.core.vault import Vault
        from echo_vault_app.core.crypto import MINIMUM_ARGON2
        vault = Vault.open(sys.argv[1], use_keyring=False)
        vault.set_passphrase(sys.argv[2], MINIMUM_ARGON2)
        vault.lock()
        """
    )
    env = {**os.environ, "ECHO_VAULT_MASTER_KEY": key}

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(vault_dir), f"passphrase number {n}"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for n in range(2)
    ]
    errors = [proc.communicate(timeout=120)[1] for proc in procs]

    assert [proc.returncode for proc in procs] == [0, 0], errors
    vault = Vault.open(vault_dir, master_key=key, use_keyring=False)
    try:
        assert sorted(vault.keyfile.slots) == ["env", "passphrase", "recovery"]
        with vault.read() as conn:
            changes = vault.audit.events(conn, action="passphrase-change")
            verification = vault.audit.verify(conn)
        assert len(changes) == 2
        assert verification.ok
    finally:
        vault.lock()


def test_writers_queue_on_the_write_lock_and_go_on_when_it_is_free(tmp_path) -> None:
    """A write in another process waits while the write lock is held, then completes."""
    folder = tmp_path / "vault"
    key = Fernet.generate_key().decode()
    Vault.create(folder, master_key=key, use_keyring=False).vault.lock()
    # Without the audit trail opening writes nothing, so the only write is the one that waits.
    env = dict(os.environ, ECHO_VAULT_MASTER_KEY=key, ECHO_VAULT_NO_KEYRING="1",
               ECHO_VAULT_ENABLE_AUDIT="false")  # fmt: skip
    writer = (
        "import sys\nfrom echo_vault_app.secrets import SecretsManager\n"
        "sm = SecretsManager(sys.argv[1], use_keyring=False, create=False, prompt=False)\n"
        "print('open', flush=True)\nsm.store_secret('queued', 'after the lock')\n"
    )
    with holding_write_lock(folder):
        process = subprocess.Popen([sys.executable, "-c", writer, str(folder)], env=env,
                                   stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert process.stdout.readline() == "open\n"
        time.sleep(1.0)
        assert process.poll() is None  # still waiting for the lock
    assert process.wait(30) == 0

    manager = SecretsManager(vault=Vault.open(folder, master_key=key, use_keyring=False))
    assert manager.get_secret("queued") == "after the lock"
    manager.lock()
