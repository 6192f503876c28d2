"""A change one process makes to the auth records is acted on by another within the bound.

Each ``AuthManager`` serves records from memory and checks the vault's change counter at most
every ``freshness_interval`` seconds. These tests use real processes on one SQLCipher vault.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.auth import ApiKeyStatus, AuthManager, SessionInvalid
from echo_vault_app.auth.manager import FRESHNESS_SECONDS
from echo_vault_app.core.vault import Vault
from tests.conftest import REPO, wait_for

# Scheduling on a loaded two-core machine adds delay on top of the documented bound.
SLACK = 1.5

WATCHER = """
import sys, time
from echo_vault_app.core.vault import Vault
from echo_vault_app.auth import AuthManager

vault = Vault.open(sys.argv[1], use_keyring=False)
auth = AuthManager(vault=vault)
key = sys.stdin.readline().strip()
print(auth.check_api_key(key).status.value, flush=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    status = auth.check_api_key(key).status.value
    if status != "valid":
        print(status, time.time(), flush=True)
        break
    time.sleep(0.002)
auth.close()
vault.lock()
"""


@pytest.fixture
def vault(vault_dir, monkeypatch):
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", Fernet.generate_key().decode())
    created = Vault.create(vault_dir, use_keyring=False).vault
    yield created
    if not created.is_locked:
        created.lock()


def _revoke_elsewhere(vault_dir, key_id: str) -> float:
    """Revoke through the CLI, a separate process; returns when it had committed."""
    proc = subprocess.run(
        [sys.executable, "-m", "echo_vault_app.cli.main", "--vault", str(vault_dir),
         "apikey", "revoke", key_id],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ), timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return time.monotonic()


def test_revocation_here_is_seen_by_another_process_within_the_bound(vault, vault_dir):
    auth = AuthManager(vault=vault)
    key = auth.generate_api_key("svc@example.com", ["read"])
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCHER, str(vault_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=REPO, env=dict(os.environ),
    )  # fmt: skip
    watcher.stdin.write(key + "\n")
    watcher.stdin.flush()
    assert watcher.stdout.readline().strip() == "valid"

    revoked_at = time.time()
    auth.revoke_api_key(key.split("_")[2])
    status, seen_at = watcher.stdout.readline().split()
    watcher.wait(timeout=30)
    assert status == "revoked"
    assert float(seen_at) - revoked_at <= FRESHNESS_SECONDS + SLACK


def test_revocation_by_the_cli_is_seen_here_within_the_bound(vault, vault_dir):
    auth = AuthManager(vault=vault)
    key = auth.generate_api_key("svc@example.com", ["read"])
    assert auth.check_api_key(key).ok
    assert auth.refresh() is False, "own writes must not count as changes from elsewhere"

    done = _revoke_elsewhere(vault_dir, key.split("_")[2])
    assert wait_for(lambda: auth.check_api_key(key).status is ApiKeyStatus.REVOKED, 10, 0.005)
    assert time.monotonic() - done <= FRESHNESS_SECONDS + SLACK
    assert auth.verify_api_key(key) is None


def test_the_interval_is_what_bounds_staleness(vault, vault_dir):
    auth = AuthManager(vault=vault, freshness_interval=3600)
    key = auth.generate_api_key("svc@example.com", ["read"])
    _revoke_elsewhere(vault_dir, key.split("_")[2])
    assert auth.check_api_key(key).ok, "within the interval the cached answer stands"
    assert auth.refresh() is True
    assert auth.check_api_key(key).status is ApiKeyStatus.REVOKED


def test_a_stale_process_flushing_last_used_keeps_the_revocation(vault, vault_dir):
    auth = AuthManager(vault=vault, freshness_interval=3600)
    key = auth.generate_api_key("svc@example.com", ["read"])
    key_id = key.split("_")[2]
    assert auth.check_api_key(key).ok  # leaves a last-used time pending in memory
    _revoke_elsewhere(vault_dir, key_id)

    auth.flush()
    fresh = AuthManager(vault=vault)
    record = fresh.api_keys.get(key_id)
    assert record.revoked_at is not None
    assert record.last_used_at is not None
    assert fresh.check_api_key(key).status is ApiKeyStatus.REVOKED


def test_a_session_revoked_elsewhere_stays_revoked(vault, vault_dir):
    auth = AuthManager(vault=vault)
    auth.create_user("ann", "a long enough password 1")
    token, session = auth.login("ann", "a long enough password 1")
    proc = subprocess.run(
        [sys.executable, "-m", "echo_vault_app.cli.main", "--vault", str(vault_dir),
         "session", "revoke", session.session_id],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ), timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr

    def refused() -> bool:
        try:
            auth.validate_session(token)
        except SessionInvalid as exc:
            return exc.reason == "revoked"
        return False

    assert wait_for(refused, 10, 0.01)
    assert AuthManager(vault=vault).sessions.get(session.session_id).revoked_at is not None


def test_keys_and_users_made_elsewhere_appear_here(vault, vault_dir):
    auth = AuthManager(vault=vault)
    proc = subprocess.run(
        [sys.executable, "-m", "echo_vault_app.cli.main", "--vault", str(vault_dir),
         "apikey", "create", "--user", "remote@example.com", "-p", "secrets:read"],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ), timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    key = proc.stdout.strip()
    assert wait_for(lambda: auth.check_api_key(key).ok, 10, 0.01)
    assert auth.check(auth.check_api_key(key), "secrets:read", "stripe")
