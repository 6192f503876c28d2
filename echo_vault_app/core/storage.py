"""Opening the SQLCipher database with a raw data key, and nothing weaker.

The key goes in as a raw 256-bit key (``x'…'``), so opening costs what plain SQLite costs.
The raw key's form is checked before the PRAGMA is built, because SQLCipher silently treats a
malformed raw key as a passphrase. A database that fails to open is never re-created or written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import sqlcipher3

from echo_vault_app.core.folder import DB_NAME  # noqa: F401 (re-exported: storage names its file)
from echo_vault_app.core.schema import CORE_MIGRATIONS, SCHEMA_VERSION
from echo_vault_app.errors import (
    DatabaseDamaged,
    ReadInterrupted,
    StorageError,
    UnsafeSQLite,
    VaultBusy,
)

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
_MIN_CACHE_KIB = 8 * 1024
_MAX_CACHE_KIB = 128 * 1024

DatabaseError = sqlcipher3.DatabaseError
Connection = sqlcipher3.Connection


class WrongDataKey(Exception):
    """The database did not decrypt with the key given (internal: callers may try another)."""


def _key_pragma(data_key: bytes) -> str:
    if not isinstance(data_key, bytes) or len(data_key) != 32:
        raise ValueError("data key must be 32 bytes")
    hex_key = data_key.hex()
    if not re.fullmatch(r"[0-9a-f]{64}", hex_key):  # belt and braces: hex() is always this
        raise ValueError("data key is not hex")
    return f"PRAGMA key = \"x'{hex_key}'\""


def _cache_kib(path: Path) -> int:
    """Size the page cache to the vault: SQLCipher decrypts a page on every cache miss."""
    try:
        size_kib = (
            path.stat().st_size
            + (
                path.with_name(path.name + "-wal").stat().st_size
                if path.with_name(path.name + "-wal").exists()
                else 0
            )
        ) // 1024
    except OSError:
        size_kib = 0
    return max(_MIN_CACHE_KIB, min(_MAX_CACHE_KIB, int(size_kib * 1.25)))


def connect(path: Path, data_key: bytes, *, create: bool = False) -> Connection:
    """Open (or, only when ``create``, create) the vault database keyed with ``data_key``.

    Raises WrongDataKey when the file does not decrypt with this key, DatabaseDamaged when it
    is not a usable vault, UnsafeSQLite when the library has no SQLCipher.
    """
    if not create and not path.exists():
        raise DatabaseDamaged(f"{path.name} is missing from {path.parent}")
    if create and path.exists():
        raise DatabaseDamaged(f"{path.name} already exists; refusing to overwrite it")
    if not create:
        _check_header(path)

    uri = f"file:{path}?mode={'rwc' if create else 'rw'}"
    fd_umask = os.umask(0o077)
    try:
        conn = sqlcipher3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlcipher3.Error as exc:
        raise DatabaseDamaged(f"{path.name} cannot be opened: {exc}") from exc
    finally:
        os.umask(fd_umask)

    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        if not conn.execute("PRAGMA cipher_version").fetchone():
            raise UnsafeSQLite("this SQLite build has no SQLCipher; refusing to open the vault")
        conn.execute(_key_pragma(data_key))
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            raise WrongDataKey() from exc
        _configure(conn, path)
        _install_trace(conn)
        if create:
            migrate(conn)
        else:
            _check_schema(conn)
    except BaseException:
        conn.close()
        raise
    return conn


# Patterns as text: ``re`` compiles them on the first traced statement, so the many processes
# that never trace at DEBUG (every CLI call) do not compile them at import.
_KEY_STATEMENT = r"(?i)^\s*pragma\s+(?:\w+\.)?(?:re)?key\b"
_LITERAL = r"[xX]?'(?:[^']|'')*'|\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b"
sql_log = logging.getLogger("echo_vault_app.core.sql")


def _install_trace(conn: Connection) -> None:
    """Log statements at DEBUG for troubleshooting, installed after keying and filtered anyway.

    The trace is set only once the key PRAGMA has run, and any statement that sets a key
    (``PRAGMA key``/``rekey``, as a rotation issues later) is dropped before it is logged.
    SQLite hands the callback the statement with its bound values written in, so every
    literal is replaced by ``?`` before the text reaches a log.
    """
    if not sql_log.isEnabledFor(logging.DEBUG):
        return

    def trace(statement: str) -> None:
        text = traced_text(statement)
        if text is not None:
            sql_log.debug("sql: %s", text)

    conn.set_trace_callback(trace)


def traced_text(statement: str) -> str | None:
    """A statement as the trace logs it: None for one that sets a key, literals as ``?``."""
    if re.match(_KEY_STATEMENT, statement):
        return None
    return re.sub(_LITERAL, "?", statement)[:500]


def _check_header(path: Path) -> None:
    """Refuse a plaintext SQLite file or an obviously truncated one before keying it."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise DatabaseDamaged(f"{path.name} cannot be read: {exc.strerror}") from exc
    if head.startswith(b"SQLite format 3"):
        raise DatabaseDamaged(f"{path.name} is an unencrypted SQLite file, not an Echo Vault")
    if size < 1024 or size % 512:
        raise DatabaseDamaged(f"{path.name} is truncated or damaged")


def _configure(conn: Connection, path: Path) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute(f"PRAGMA cache_size = -{_cache_kib(path)}")


def _check_schema(conn: Connection) -> None:
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        quick = conn.execute("PRAGMA quick_check(1)").fetchone()[0] if version == 0 else "ok"
    except sqlcipher3.DatabaseError as exc:
        raise DatabaseDamaged(f"vault database is damaged: {exc}") from exc
    if version == 0 or quick != "ok":
        raise DatabaseDamaged("vault database is damaged: it has no Echo Vault schema")
    if version > SCHEMA_VERSION:
        raise DatabaseDamaged("vault database was written by a newer Echo Vault; update first")
    if version < SCHEMA_VERSION:
        migrate(conn)


def split_statements(script: str) -> list[str]:
    """Split an SQL script into statements, keeping trigger bodies whole."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlcipher3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements


def _apply(conn: Connection, read_version, write_version, migrations: list[str], what: str) -> None:
    """Apply pending migrations one transaction each, re-reading the version under the lock.

    Two processes opening an old vault at once both get here; ``BEGIN IMMEDIATE`` makes the
    second wait and then see that the first already did the work. Inside a transaction already
    open (a component first used in operations grouped under one commit) each step is a
    savepoint of it instead.
    """
    begin, commit, rollback = "BEGIN IMMEDIATE", "COMMIT", ("ROLLBACK",)
    if conn.in_transaction:
        begin, commit = "SAVEPOINT migration", "RELEASE migration"
        rollback = ("ROLLBACK TO migration", "RELEASE migration")
    while True:
        conn.execute(begin)
        try:
            current = read_version()
            if current >= len(migrations):
                conn.execute(commit)
                return
            step = migrations[current]
            if callable(step):
                step(conn)
            else:
                for statement in split_statements(step):
                    conn.execute(statement)
            write_version(current + 1)
            conn.execute(commit)
        except BaseException:
            if conn.in_transaction:
                for statement in rollback:
                    conn.execute(statement)
            raise
        log.info("applied %s schema migration %d", what, current + 1)


def migrate(conn: Connection) -> None:
    """Apply the core migrations the database has not seen yet."""
    _apply(
        conn,
        lambda: conn.execute("PRAGMA user_version").fetchone()[0],
        lambda number: conn.execute(f"PRAGMA user_version = {int(number)}"),
        CORE_MIGRATIONS,
        "vault",
    )


def ensure_component_schema(conn: Connection, component: str, migrations: list[str]) -> None:
    """Let a library package (auth, state) own its tables with its own forward migrations."""

    def read_version() -> int:
        row = conn.execute(
            "SELECT version FROM component_schema WHERE component = ?", (component,)
        ).fetchone()
        current = row[0] if row else 0
        if current > len(migrations):
            raise DatabaseDamaged(f"vault {component} tables were written by a newer Echo Vault")
        return current

    def write_version(number: int) -> None:
        conn.execute(
            "INSERT INTO component_schema (component, version) VALUES (?, ?)"
            " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
            (component, number),
        )

    _apply(conn, read_version, write_version, migrations, component)


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn SQLite's run-time failures into the library's typed errors (one line each)."""
    try:
        yield
    except sqlcipher3.OperationalError as exc:
        text = str(exc).lower()
        if text == "interrupted":
            raise ReadInterrupted("the read was cut short for a newer one") from exc
        if "locked" in text or "busy" in text:
            raise VaultBusy("the vault is busy in another process; nothing was written") from exc
        if "full" in text:
            raise StorageError("the disk is full; nothing was written") from exc
        if "readonly" in text or "read-only" in text or "disk i/o" in text:
            raise StorageError(f"the vault cannot be written ({exc})") from exc
        raise
    except sqlcipher3.DatabaseError as exc:
        if type(exc) is sqlcipher3.DatabaseError:
            raise DatabaseDamaged(f"vault database is damaged: {exc}") from exc
        raise


def rekey(conn: Connection, data_key: bytes) -> None:
    """Re-encrypt every page under ``data_key`` in one transaction (SQLCipher's own)."""
    conn.execute(_key_pragma(data_key).replace("PRAGMA key", "PRAGMA rekey", 1))
