"""A background read can be cut short for the GUI thread's next one, and nothing else can."""

from __future__ import annotations

import threading
import time

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import ReadInterrupted
from echo_vault_app.secrets import SecretsManager
from tests.conftest import held_in_another_thread

# Counts far enough to run for seconds unless it is cut short.
LONG = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
LONG_BOUNDED = LONG.replace("FROM n)", "FROM n WHERE i < 2000000)")


@pytest.fixture
def vault(vault_dir):
    created = Vault.create(vault_dir, master_key=Fernet.generate_key().decode(), use_keyring=False)
    SecretsManager(vault=created.vault).store_secret("svc/key", "value")
    yield created.vault
    created.vault.lock()


def _in_thread(work) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except BaseException as exc:  # noqa: BLE001 (handed to the test)
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _cut_until_done(vault: Vault, thread: threading.Thread, timeout: float = 10.0) -> list[bool]:
    """Keep cutting, as keystrokes would, until the reader ends; the answers of every call."""
    answers = []
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        answers.append(vault.cut_yielding_reads())
        time.sleep(0.005)
    thread.join(timeout)
    assert not thread.is_alive()
    return answers


def test_a_yielding_read_is_cut_short_and_the_next_read_runs(vault) -> None:
    def load():
        with vault.yielding(), vault.read() as conn:
            return conn.execute(LONG).fetchone()

    started = time.monotonic()
    thread, outcome = _in_thread(load)
    answers = _cut_until_done(vault, thread)
    assert isinstance(outcome.get("error"), ReadInterrupted), outcome
    assert True in answers
    assert time.monotonic() - started < 5
    with vault.read() as conn:  # the interrupt does not linger for the next statement
        assert conn.execute("SELECT name FROM secrets").fetchall() == [("svc/key",)]
    assert not vault.cut_yielding_reads()  # nothing is running now


def test_ordinary_reads_and_writes_are_never_cut(vault) -> None:
    def plain_read():
        with vault.read() as conn:
            return conn.execute(LONG_BOUNDED).fetchone()[0]

    def write_while_yielding():
        with vault.yielding(), vault.transaction() as conn:
            conn.execute("UPDATE secrets SET notes = 'kept' WHERE name = 'svc/key'")
            with vault.read() as inner:  # a read inside the transaction is part of the write
                return inner.execute(LONG_BOUNDED).fetchone()[0]

    for work in (plain_read, write_while_yielding):
        thread, outcome = _in_thread(work)
        answers = _cut_until_done(vault, thread)
        assert outcome == {"result": 2000000}, work.__name__
        assert True not in answers
    with vault.read() as conn:
        assert conn.execute("SELECT notes FROM secrets").fetchone() == ("kept",)


def test_yielding_is_per_thread(vault) -> None:
    """Marking the loader's thread must not make the GUI thread's reads cuttable."""
    with held_in_another_thread(vault.yielding):  # the loader's thread
        reader, outcome = _in_thread(lambda: _read_long(vault))
        answers = _cut_until_done(vault, reader)
    assert outcome == {"result": 2000000}
    assert True not in answers


def _read_long(vault: Vault) -> int:
    with vault.read() as conn:
        return conn.execute(LONG_BOUNDED).fetchone()[0]
