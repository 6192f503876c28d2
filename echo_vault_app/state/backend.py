"""Where StateManager's tables live: the open vault, or an SQLite database in memory.

Both offer the same three things — ``read()``, ``transaction()`` and ``record()`` for the audit
trail — so the state services run the same SQL either way. In the vault, each change and its
audit event commit in one transaction; ``BEGIN IMMEDIATE`` makes writers in other processes
queue, which is what compare-and-set on agent state relies on.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

from echo_vault_app.state.schema import COMPONENT, MIGRATIONS


class VaultBackend:
    """The state tables inside an unlocked vault (``echo_vault_app.core.vault.Vault``)."""

    persistent = True

    def __init__(self, vault: Any) -> None:
        self.vault = vault
        vault.ensure_schema(COMPONENT, MIGRATIONS)

    def read(self) -> contextlib.AbstractContextManager[Any]:
        return self.vault.read()

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        return self.vault.transaction()

    def record(self, tx: Any, action: str, target: str | None, detail: dict[str, Any]) -> None:
        self.vault.audit.record(tx, action, target, detail=detail)


class MemoryBackend:
    """Tables in a private in-memory SQLite database: gone when the process exits.

    Audit events are kept in ``events`` as ``(time, action, target, detail)`` tuples, appended
    only when their transaction commits.
    """

    persistent = False

    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._pending: list[tuple[float, str, str | None, dict[str, Any]]] = []
        self.events: list[tuple[float, str, str | None, dict[str, Any]]] = []
        for script in MIGRATIONS:
            self._conn.executescript(script)

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._pending = []
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                self._pending = []
                raise
            self._conn.execute("COMMIT")
            self.events.extend(self._pending)
            self._pending = []

    def record(self, tx: Any, action: str, target: str | None, detail: dict[str, Any]) -> None:
        self._pending.append((time.time(), action, target, dict(detail)))
