"""Agent-state compare-and-set under two concurrent processes: no update is lost."""

from __future__ import annotations

import os
import subprocess
import sys

from cryptography.fernet import Fernet

from echo_vault_app.core.vault import Vault
from echo_vault_app.state import StateManager
from tests.conftest import REPO

INCREMENTS = 200

WORKER = """
import random
import sys
import time
from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import VersionConflict
from echo_vault_app.state import StateManager

vault = Vault.open(sys.argv[1], use_keyring=False)
state = StateManager(vault=vault)
sys.stdin.readline()  # start together
conflicts = 0
for _ in range(int(sys.argv[2])):
    while True:
        agent = state.get_agent("counter")
        time.sleep(random.random() * 0.002)  # widen the read-to-write window: force races
        try:
            state.update_state("counter", {"n": agent.state["n"] + 1}, agent.version)
            break
        except VersionConflict:
            conflicts += 1
print(conflicts)
vault.lock()
"""


def test_two_processes_incrementing_lose_nothing(vault_dir, monkeypatch):
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", Fernet.generate_key().decode())
    vault = Vault.create(vault_dir, use_keyring=False).vault
    state = StateManager(vault=vault)
    state.register_agent("counter", "test")
    state.update_state("counter", {"n": 0}, 0)

    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(vault_dir), str(INCREMENTS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=dict(os.environ),
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = [worker.communicate(timeout=240) for worker in workers]
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err
    conflicts = sum(int(out) for out, _ in results)
    assert conflicts > 0, "the two processes never raced; the test proved nothing"

    agent = state.get_agent("counter")
    assert agent.state == {"n": 2 * INCREMENTS}
    assert agent.version == 1 + 2 * INCREMENTS
    with vault.read() as conn:
        writes = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'agent-state' AND target = 'counter'"
        ).fetchone()[0]
    assert writes == 1 + 2 * INCREMENTS
    vault.lock()
