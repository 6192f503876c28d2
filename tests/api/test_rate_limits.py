"""Brute-force logins: per user and per client address, answered 429 with Retry-After."""

from __future__ import annotations

import time

import pytest
from cryptography.fernet import Fernet

from tests.api.conftest import _prepare, start_server, stop_server


@pytest.fixture
def fresh(tmp_path):
    master_key = Fernet.generate_key().decode()
    keys, client_id, client_secret = _prepare(tmp_path / "vault", master_key)
    server = start_server(tmp_path / "vault", master_key)
    server.keys, server.client_id, server.client_secret = keys, client_id, client_secret
    yield server
    stop_server(server)


def test_password_guessing_for_one_user_is_stopped(fresh) -> None:
    real = "the real password of this user"
    with fresh.client() as http:
        answers = [
            http.post("/vault/auth/login", json={"user": "bruteforced", "password": f"guess {i}"})
            for i in range(7)
        ]
        right_but_late = http.post("/vault/auth/login",
                                   json={"user": "bruteforced", "password": real})  # fmt: skip
        other_user = http.post("/vault/auth/login", json={"user": "alice", "password": "x"})
        basic = http.get("/vault/auth/verify", auth=("bruteforced", real))

    assert [a.status_code for a in answers] == [401] * 5 + [429] * 2
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    assert right_but_late.status_code == 429
    assert other_user.status_code == 401
    assert basic.status_code == 429  # Basic auth shares the per-user budget


@pytest.mark.slow
def test_many_users_from_one_address_are_stopped(fresh) -> None:
    started = time.monotonic()
    statuses: list[int] = []
    with fresh.client() as http:
        while 429 not in statuses and len(statuses) < 200:
            answer = http.post("/vault/auth/login", json={"user": f"u{len(statuses)}",
                                                          "password": "p"})  # fmt: skip
            statuses.append(answer.status_code)
        oauth = http.post("/vault/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(fresh.client_id, fresh.client_secret))  # fmt: skip
    elapsed = time.monotonic() - started

    # 30 at once, then one a second: every user name was new, so only the address budget acts.
    assert statuses[-1] == 429
    assert 30 <= statuses.count(401) <= 30 + elapsed + 1
    assert oauth.status_code == 429 and oauth.json()["error"] == "rate_limited"
    manager = fresh.open_manager()
    try:
        failed = [e for e in manager.audit_events() if e.action == "api.login"]
    finally:
        manager.lock()
    assert len(failed) == statuses.count(401) and all(e.outcome == "failed" for e in failed)
