"""The vault database schema, as forward-only migrations counted by ``PRAGMA user_version``.

Secret values never live in a searchable column: secret fields hold AES-GCM blobs, and the FTS5
index is fed only names, tags, notes, template ids and non-secret fields.
"""

from __future__ import annotations

# Each migration is an SQL script or, where SQL cannot express it, a function of the connection.
CORE_MIGRATIONS: list[str] = [
    # 1: secrets, fields, history, tags, search index, audit trail, metadata
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value BLOB NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE secrets (
        id        INTEGER PRIMARY KEY,
        name      TEXT NOT NULL,
        template  TEXT NOT NULL,
        tags      TEXT NOT NULL DEFAULT '[]',
        notes     TEXT NOT NULL DEFAULT '',
        created   REAL NOT NULL,
        updated   REAL NOT NULL,
        expires   REAL,
        deleted   REAL,
        version   INTEGER NOT NULL DEFAULT 1,
        favourite INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX secrets_live_name ON secrets (name COLLATE NOCASE)
        WHERE deleted IS NULL;
    CREATE INDEX secrets_expires ON secrets (expires) WHERE expires IS NOT NULL;
    CREATE INDEX secrets_deleted ON secrets (deleted) WHERE deleted IS NOT NULL;

    CREATE TABLE secret_fields (
        secret_id INTEGER NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
        position  INTEGER NOT NULL,
        name      TEXT NOT NULL,
        is_secret INTEGER NOT NULL,
        is_binary INTEGER NOT NULL,
        value     BLOB NOT NULL,
        PRIMARY KEY (secret_id, name)
    ) WITHOUT ROWID;

    CREATE TABLE secret_history (
        secret_id INTEGER NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
        version   INTEGER NOT NULL,
        saved     REAL NOT NULL,
        template  TEXT NOT NULL,
        tags      TEXT NOT NULL,
        notes     TEXT NOT NULL,
        expires   REAL,
        payload   BLOB NOT NULL,
        PRIMARY KEY (secret_id, version)
    ) WITHOUT ROWID;

    CREATE TABLE secret_tags (
        tag       TEXT NOT NULL COLLATE NOCASE,
        secret_id INTEGER NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
        PRIMARY KEY (tag, secret_id)
    ) WITHOUT ROWID;
    CREATE INDEX secret_tags_secret ON secret_tags (secret_id);

    CREATE VIRTUAL TABLE secrets_fts USING fts5 (
        name, tags, notes, fields, type,
        tokenize = 'unicode61 remove_diacritics 2',
        prefix = '1 2 3'
    );

    CREATE TABLE audit_log (
        seq        INTEGER PRIMARY KEY,
        ts         REAL NOT NULL,
        actor      TEXT NOT NULL,
        action     TEXT NOT NULL,
        target     TEXT,
        outcome    TEXT NOT NULL,
        detail     TEXT NOT NULL DEFAULT '{}',
        value_hash TEXT,
        mac        BLOB NOT NULL
    );
    CREATE INDEX audit_value_hash ON audit_log (value_hash) WHERE value_hash IS NOT NULL;

    CREATE TABLE audit_anchor (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        last_seq INTEGER NOT NULL,
        last_mac BLOB NOT NULL
    );

    CREATE TABLE component_schema (
        component TEXT PRIMARY KEY,
        version   INTEGER NOT NULL
    ) WITHOUT ROWID;
    """,
]

CORE_MIGRATIONS.append(
    # 2: where sealed values live, so rotating the data key can re-seal every one of them
    # without knowing which package owns the table. ``aad_sql`` is an SQL expression over the
    # row that rebuilds the associated data the value was sealed with. ``json_key`` is set when
    # the column holds a JSON document whose member of that name is the base64 sealed value.
    "CREATE TABLE sealed_columns ("
    " tbl TEXT NOT NULL, col TEXT NOT NULL, key_cols TEXT NOT NULL, aad_sql TEXT NOT NULL,"
    " where_sql TEXT NOT NULL DEFAULT '1', json_key TEXT,"
    " PRIMARY KEY (tbl, col)) WITHOUT ROWID;\n"
    "INSERT INTO sealed_columns (tbl, col, key_cols, aad_sql, where_sql) VALUES"
    " ('secret_fields', 'value', 'secret_id, name',"
    " '''echo-vault/field/'' || secret_id || ''/'' ||"
    " (SELECT version FROM secrets WHERE id = secret_id) || ''/'' || name', 'is_secret = 1'),"
    " ('secret_history', 'payload', 'secret_id, version',"
    " '''echo-vault/history/'' || secret_id || ''/'' || version', '1');\n"
)


def _fold_names(conn: object) -> None:
    """3: names are unique under full Unicode case folding, not only ASCII (``NOCASE``)."""
    import unicodedata

    conn.execute("ALTER TABLE secrets ADD COLUMN name_key TEXT")  # type: ignore[attr-defined]
    rows = conn.execute("SELECT id, name FROM secrets").fetchall()  # type: ignore[attr-defined]
    conn.executemany(  # type: ignore[attr-defined]
        "UPDATE secrets SET name_key = ? WHERE id = ?",
        [
            (unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold()), sid)
            for sid, name in rows
        ],
    )
    conn.execute("DROP INDEX secrets_live_name")  # type: ignore[attr-defined]
    conn.execute(  # type: ignore[attr-defined]
        "CREATE UNIQUE INDEX secrets_live_key ON secrets (name_key) WHERE deleted IS NULL"
    )
    conn.execute(  # type: ignore[attr-defined]
        "CREATE INDEX secrets_live_name ON secrets (name COLLATE NOCASE) WHERE deleted IS NULL"
    )


CORE_MIGRATIONS.append(_fold_names)  # type: ignore[arg-type]

CORE_MIGRATIONS.append(
    # 4: no index on the audit trail's value hashes. Each audited read added an entry to a
    # leaf page chosen by its hash, and SQLCipher encrypts every page a commit touches, so the
    # index was most of what recording a read cost. `audit find-value`, a rare forensic query,
    # reads the whole trail instead, as the trail's other filters always have.
    "DROP INDEX IF EXISTS audit_value_hash;\n"
)

SCHEMA_VERSION = len(CORE_MIGRATIONS)
