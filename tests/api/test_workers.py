"""``echo-vault-cli serve --workers N``: several processes serve one vault and act as one server.

A real server with two forked workers on a free loopback port: writes from many connections at
once all land, the login rate limit is one budget across workers, a killed worker is replaced,
and stopping the server stops every worker and is audited.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.api.conftest import REPO, _prepare, start_server, stop_server


def _workers(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sorted(int(c) for c in children)


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture()
def two_workers(tmp_path):
    folder = tmp_path / "vault"
    master_key = Fernet.generate_key().decode()
    keys, _client_id, _secret = _prepare(folder, master_key)
    served = start_server(folder, master_key, "--workers", "2")
    served.keys = keys
    _wait_for(lambda: len(_workers(served.process.pid)) == 2)
    yield served
    if served.process.poll() is None:
        stop_server(served)


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_writes_from_many_connections_all_land_and_the_trail_stays_whole(two_workers) -> None:
    key = two_workers.keys["admin"]

    def write(n: int) -> int:
        # A fresh connection per request, so the kernel hands them to both workers.
        with httpx.Client(base_url=two_workers.url, timeout=30) as http:
            answer = http.post("/vault/secrets", headers={"X-API-Key": key},
                               json={"name": f"team/w{n}", "value": f"value-{n}"})  # fmt: skip
            return answer.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(write, range(120)))
    assert set(statuses) == {201}

    with httpx.Client(base_url=two_workers.url, timeout=30) as http:
        values = [http.get(f"/vault/secrets/team/w{n}", headers={"X-API-Key": key}).json()
                  for n in range(0, 120, 7)]  # fmt: skip
    assert [v["fields"] for v in values] == [{"value": f"value-{n}"} for n in range(0, 120, 7)]

    stop_server(two_workers)
    assert two_workers.process.returncode == 0
    with two_workers.open_manager() as manager:
        actions = [e.action for e in manager.audit_events()]
        assert all(manager.get_secret(f"team/w{n}") == f"value-{n}" for n in range(120))
        assert manager.audit_verify().ok
    # The stop is recorded after the workers' last write; the unlock that follows is ours.
    assert actions.count("api.serve.start") == 1 and actions[-2:] == ["api.serve.stop", "unlock"]


def test_login_rate_limit_is_one_budget_across_workers(two_workers) -> None:
    statuses = []
    for i in range(14):
        with httpx.Client(base_url=two_workers.url, timeout=30) as http:
            answer = http.post("/vault/auth/login",
                               json={"user": "bruteforced", "password": f"guess {i}"})  # fmt: skip
            statuses.append(answer.status_code)

    # Five tries per user name in all, not five per worker.
    assert statuses == [401] * 5 + [429] * 9


def test_a_killed_worker_is_replaced_and_sigterm_stops_them_all(two_workers) -> None:
    first = _workers(two_workers.process.pid)
    os.kill(first[0], signal.SIGKILL)
    _wait_for(lambda: len(_workers(two_workers.process.pid)) == 2
              and _workers(two_workers.process.pid) != first)  # fmt: skip
    with httpx.Client(base_url=two_workers.url, timeout=30) as http:
        for _ in range(10):  # fresh connections reach the new worker too
            answer = http.get("/vault/secrets/team/db",
                              headers={"X-API-Key": two_workers.keys["admin"],
                                       "Connection": "close"})  # fmt: skip
            assert answer.json()["fields"] == {"value": "s3cret-db"}
    assert "was killed by signal 9; starting another" in two_workers.stderr_text()

    workers = _workers(two_workers.process.pid)
    stop_server(two_workers)
    assert two_workers.process.returncode == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


@pytest.mark.parametrize("count", ["0", "65", "x"])
def test_a_bad_worker_count_is_one_line_and_exit_2(tmp_path, count: str) -> None:
    env = dict(os.environ, ECHO_VAULT_PATH=str(tmp_path / "none"), PYTHONPATH=str(REPO),
               ECHO_VAULT_NO_KEYRING="1")  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "echo_vault_app.cli.main", "serve", "--workers", count],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
