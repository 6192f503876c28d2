"""The auth records inside the encrypted vault: one ``auth_*`` table per kind of record.

Every write runs in one vault transaction together with its audit-trail entry and a bump of the
generation counter in ``auth_generation``, so a change is never stored unaudited and every
other process can tell, with one indexed read, that its in-memory copies are out of date.
Sealing and the stable hashing key come from the vault's key hierarchy (``seal``/``open_sealed``
under the data-key sub-key, ``stable_key`` surviving data-key rotation).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from echo_vault_app.auth.store import KINDS, Change

COMPONENT = "auth"
MIGRATIONS: list[str] = [
    "\n".join(
        f"CREATE TABLE auth_{kind} (id TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;"
        for kind in KINDS
    ),
    # Private signing keys are sealed inside their JSON document; telling the vault where lets
    # a data-key rotation re-seal them with everything else.
    "INSERT INTO sealed_columns (tbl, col, key_cols, aad_sql, where_sql, json_key) VALUES"
    " ('auth_signing_keys', 'doc', 'id',"
    " '''echo-vault auth signing key'' || char(0) || id',"
    " 'json_extract(doc, ''$.sealed'') IS NOT NULL', 'sealed');",
    "CREATE TABLE auth_generation (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " counter INTEGER NOT NULL);\n"
    "INSERT INTO auth_generation (id, counter) VALUES (1, 0);",
]


def _table(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown auth record kind {kind!r}")
    return f"auth_{kind}"


class VaultAuthStore:
    """``AuthStore`` over an open vault (``echo_vault_app.core``)."""

    persistent = True

    def __init__(self, vault: Any) -> None:
        self._vault = vault
        vault.ensure_schema(COMPONENT, MIGRATIONS)
        self.seen = self.generation()

    def generation(self) -> int:
        with self._vault.read() as conn:
            return conn.execute("SELECT counter FROM auth_generation WHERE id = 1").fetchone()[0]

    def _bump(self, conn: Any) -> None:
        """Count a write; only when nothing else wrote since our last look are we still current."""
        before = conn.execute("SELECT counter FROM auth_generation WHERE id = 1").fetchone()[0]
        conn.execute("UPDATE auth_generation SET counter = ? WHERE id = 1", (before + 1,))
        if before == self.seen:
            self.seen = before + 1

    def load_all(self, kind: str) -> dict[str, dict[str, Any]]:
        with self._vault.read() as conn:
            rows = conn.execute(f"SELECT id, doc FROM {_table(kind)}").fetchall()
        return {row[0]: json.loads(row[1]) for row in rows}

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        with self._vault.read() as conn:
            row = conn.execute(f"SELECT doc FROM {_table(kind)} WHERE id = ?", (doc_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def write(
        self,
        changes: Sequence[Change],
        *,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        statements = []
        for change in changes:
            table = _table(change.kind)
            if change.doc is None:
                statements.append((f"DELETE FROM {table} WHERE id = ?", (change.id,)))
            else:
                statements.append(
                    (
                        f"INSERT INTO {table} (id, doc) VALUES (?, ?) "
                        "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                        (change.id, json.dumps(change.doc, sort_keys=True)),
                    )
                )
        with self._vault.transaction() as conn:
            for sql, params in statements:
                conn.execute(sql, params)
            self._bump(conn)
            self._vault.audit.record(conn, action, target=target, outcome="ok", detail=detail)

    def modify(
        self,
        kind: str,
        ids: Iterable[str],
        update: Callable[[str, dict[str, Any] | None], dict[str, Any] | None],
        *,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> dict[str, dict[str, Any]]:
        table = _table(kind)
        written = {}
        with self._vault.transaction() as conn:
            for doc_id in ids:
                row = conn.execute(f"SELECT doc FROM {table} WHERE id = ?", (doc_id,)).fetchone()
                doc = update(doc_id, None if row is None else json.loads(row[0]))
                if doc is None:
                    continue
                conn.execute(
                    f"INSERT INTO {table} (id, doc) VALUES (?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                    (doc_id, json.dumps(doc, sort_keys=True)),
                )
                written[doc_id] = doc
            if written:
                self._bump(conn)
                self._vault.audit.record(conn, action, target=target, outcome="ok", detail=detail)
        return written

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        return self._vault.seal(plaintext, aad)

    def open_sealed(self, blob: bytes, aad: bytes) -> bytes:
        return self._vault.open_sealed(blob, aad)

    def stable_key(self, label: str) -> bytes:
        return self._vault.stable_key(label)
