"""The state tables, as forward-only migrations of the vault's ``state`` component.

Nothing here is sealed field by field: session values, agent documents and settings are
operational data, not secrets, and they sit inside the SQLCipher-encrypted database like the
secrets' names and notes do. Callers must not put secret values into session or agent state;
those belong in the secrets store, where they are sealed, versioned and audited by value hash.
"""

from __future__ import annotations

COMPONENT = "state"

MIGRATIONS: list[str] = [
    """
    CREATE TABLE state_session_values (
        session_id TEXT NOT NULL,
        key        TEXT NOT NULL,
        value      TEXT NOT NULL,
        updated    REAL NOT NULL,
        PRIMARY KEY (session_id, key)
    ) WITHOUT ROWID;

    CREATE TABLE state_agents (
        agent_id       TEXT PRIMARY KEY,
        kind           TEXT NOT NULL,
        meta           TEXT NOT NULL DEFAULT '{}',
        status         TEXT NOT NULL,
        registered     REAL NOT NULL,
        last_heartbeat REAL NOT NULL,
        version        INTEGER NOT NULL DEFAULT 0,
        state          TEXT NOT NULL DEFAULT '{}',
        state_updated  REAL
    ) WITHOUT ROWID;
    CREATE INDEX state_agents_heartbeat ON state_agents (last_heartbeat);

    CREATE TABLE state_settings (
        name    TEXT PRIMARY KEY,
        value   TEXT NOT NULL,
        updated REAL NOT NULL
    ) WITHOUT ROWID;
    """,
]


def ensure_in_transaction(tx: object, component: str, migrations: list[str]) -> None:
    """Apply a component's pending migrations inside a transaction the caller already holds.

    ``Vault.ensure_schema`` opens its own transaction, which cannot nest; a backup import
    writing into a vault that has never had these tables needs them created within its own.
    """
    from echo_vault_app.core.storage import split_statements

    row = tx.execute(  # type: ignore[attr-defined]
        "SELECT version FROM component_schema WHERE component = ?", (component,)
    ).fetchone()
    current = row[0] if row else 0
    for script in migrations[current:]:
        for statement in split_statements(script):
            tx.execute(statement)  # type: ignore[attr-defined]
    if current < len(migrations):
        tx.execute(  # type: ignore[attr-defined]
            "INSERT INTO component_schema (component, version) VALUES (?, ?)"
            " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
            (component, len(migrations)),
        )
