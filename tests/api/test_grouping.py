"""Short requests run on the server's event loop, grouped under one commit, without stalling it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from tests.api.conftest import Served
from tests.conftest import holding_write_lock

READS = 12


def read_count(served: Served, name: str) -> int:
    manager = served.open_manager()
    try:
        with manager.vault.read() as conn:
            query = "SELECT count(*) FROM audit_log WHERE action = 'read' AND target = ?"
            return conn.execute(query, (name,)).fetchone()[0]
    finally:
        manager.lock()


def read_secret(served: Served) -> tuple[int, object]:
    with served.client(headers={"X-API-Key": served.keys["reader"]}) as http:
        response = http.get("/vault/secrets/team/db")
        return response.status_code, response.json().get("fields")


def test_reads_wait_for_a_writer_in_another_process_while_the_server_answers(served) -> None:
    before = read_count(served, "team/db")
    with ThreadPoolExecutor(READS) as pool:
        with holding_write_lock(served.folder):
            reads = [pool.submit(read_secret, served) for _ in range(READS)]
            time.sleep(0.5)
            assert not any(r.done() for r in reads)  # queued behind the other process's write

            started = time.monotonic()
            with served.client() as http:
                assert http.get("/openapi.json").status_code == 200
            assert time.monotonic() - started < 2.0  # the event loop itself is not blocked
        results = [r.result(timeout=30) for r in reads]

    assert results == [(200, {"value": "s3cret-db"})] * READS
    assert read_count(served, "team/db") == before + READS


def test_concurrent_reads_and_writes_each_land_once(served) -> None:
    before = read_count(served, "team/db")
    writer = {"X-API-Key": served.keys["writer"], "Content-Type": "application/json"}

    def write(n: int) -> int:
        with served.client(headers=writer) as http:
            body = {"name": f"team/grouped-{n}", "value": f"grouped-value-{n}"}
            return http.post("/vault/secrets", json=body).status_code

    with ThreadPoolExecutor(16) as pool:
        writes = [pool.submit(write, n) for n in range(20)]
        reads = [pool.submit(read_secret, served) for _ in range(40)]
        assert [w.result(timeout=60) for w in writes] == [201] * 20
        assert [r.result(timeout=60) for r in reads] == [(200, {"value": "s3cret-db"})] * 40

    manager = served.open_manager()
    try:
        assert {f"team/grouped-{n}" for n in range(20)} <= set(manager.list_secrets())
        assert manager.store.get("team/grouped-7").fields[0].value == "grouped-value-7"
        with manager.vault.read() as conn:
            assert manager.vault.audit.verify(conn).ok
    finally:
        manager.lock()
    assert read_count(served, "team/db") == before + 40
