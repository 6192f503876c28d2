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
