"""Secrets in the vault database: write, read, history, trash and search.

Secret fields are sealed one by one under the data key's field sub-key, with associated data
naming the row, the version and the field, so a ciphertext copied elsewhere does not open. Plain
fields (user names, URLs) and metadata stay readable inside the encrypted database so listing and
searching never decrypt anything. Every change and every read of a value is audited in the same
transaction; if the audit row cannot be written, the operation does not happen.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import (
    Conflict,
    SecretNotFound,
    UsageError,
    ValidationError,
    VersionConflict,
)
from echo_vault_app.secrets.model import (
    MAX_FIELD_BYTES,
    MAX_NOTES_LENGTH,
    FieldValue,
    HistoryEntry,
    Secret,
    SecretSummary,
    name_key,
    normalize_name,
    normalize_tags,
)

DEFAULT_HISTORY_DEPTH = 10
_SUMMARY_COLUMNS = (
    "s.id, s.name, s.template, s.tags, s.created, s.updated, s.expires, s.version,"
    " s.favourite, s.deleted"
)


def field_aad(secret_id: int, version: int, name: str) -> bytes:
    return f"echo-vault/field/{secret_id}/{version}/{name}".encode()


def history_aad(secret_id: int, version: int) -> bytes:
    return f"echo-vault/history/{secret_id}/{version}".encode()


# A vault has few distinct tag lists and templates but may have 100,000 summaries in memory
# (the desktop app's browser): rows share one tuple per tag list and one interned string per
# template, which also spares a json.loads per row.
_SHARED_TAGS_LIMIT = 4096
_shared_tags: dict[str, tuple[str, ...]] = {}


def _summary(row: Iterable[Any]) -> SecretSummary:
    sid, name, template, tags_json, created, updated, expires, version, fav, deleted = row
    tags = _shared_tags.get(tags_json)
    if tags is None:
        tags = tuple(json.loads(tags_json))
        if len(_shared_tags) < _SHARED_TAGS_LIMIT:
            _shared_tags[tags_json] = tags
    return SecretSummary(
        sid, name, sys.intern(template), tags, created, updated, expires, version, bool(fav),
        deleted,
    )  # fmt: skip


def _matching_sql(
    columns: str, query: str, tag: str | None, after: str | None, limit: int | None
) -> tuple[str, list[object]]:
    from echo_vault_app.secrets.search import compile_query  # get and list parse no query

    compiled = compile_query(query)
    sql = f"SELECT {columns} FROM secrets s WHERE s.deleted IS NULL AND {compiled.where}"
    args = list(compiled.params)
    if tag is not None:
        sql += " AND s.id IN (SELECT secret_id FROM secret_tags WHERE tag = ?)"
        args.append(tag)
    if after is not None:
        sql += " AND s.name > ? COLLATE NOCASE"
        args.append(after)
    sql += " ORDER BY s.name COLLATE NOCASE"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, args


@contextlib.contextmanager
def _search_errors() -> Iterator[None]:
    """An FTS5 syntax error is a usage problem, not a crash."""
    try:
        yield
    except Exception as exc:
        if "fts5" in str(exc).lower():
            raise UsageError("the search query could not be understood") from exc
        raise


def _check_fields(fields: Iterable[FieldValue]) -> tuple[FieldValue, ...]:
    result: list[FieldValue] = []
    seen: set[str] = set()
    for item in fields:
        if not isinstance(item.name, str) or not item.name or len(item.name) > 128:
            raise ValidationError("a field name must be 1-128 characters")
        if item.name in seen:
            raise ValidationError(f"field {item.name!r} appears twice")
        if not isinstance(item.value, str | bytes):
            raise ValidationError(f"field {item.name!r} must be text or bytes")
        size = len(item.value) if isinstance(item.value, bytes) else len(item.value) * 4
        if size > MAX_FIELD_BYTES and len(_encode(item.value)) > MAX_FIELD_BYTES:
            raise ValidationError(f"field {item.name!r} is larger than 64 MiB")
        seen.add(item.name)
        result.append(item)
    if not result:
        raise ValidationError("a secret needs at least one field")
    return tuple(result)


def _encode(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


class SecretStore:
    """Data access for secrets on one unlocked :class:`Vault`."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    # -- settings -----------------------------------------------------------------------

    def history_depth(self) -> int:
        with self.vault.read() as conn:
            return self._depth(conn)

    def set_history_depth(self, depth: int) -> None:
        if not isinstance(depth, int) or not 0 <= depth <= 1000:
            raise ValidationError("history depth must be a whole number from 0 to 1000")
        with self.vault.transaction() as tx:
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('history_depth', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (depth,),
            )
            self.vault.audit.record(tx, "settings", "history_depth", detail={"value": depth})

    # -- writing ------------------------------------------------------------------------

    def put(
        self,
        name: str,
        fields: Iterable[FieldValue],
        *,
        template: str,
        tags: Iterable[str] | None = None,
        notes: str | None = None,
        expires: float | None = None,
        favourite: bool | None = None,
        expected_version: int | None = None,
        audit_action: str = "write",
        clear_expiry: bool = False,
    ) -> SecretSummary:
        """Create or replace a secret; the replaced version goes to history.

        ``expected_version`` makes the write check-and-set: 0 means "must not exist yet", any
        other number must equal the current version. Tags, notes and expiry left as None keep
        their current values on update; ``clear_expiry`` removes the expiry date.
        """
        with self.vault.transaction() as tx:
            return self.put_in(
                tx,
                name,
                fields,
                template=template,
                tags=tags,
                notes=notes,
                expires=expires,
                favourite=favourite,
                expected_version=expected_version,
                audit_action=audit_action,
                clear_expiry=clear_expiry,
            )

    def put_many(self, entries: Iterable[Mapping[str, Any]]) -> list[SecretSummary]:
        """Write many secrets in one transaction: all or none, and one commit to pay for.

        Each entry holds :meth:`put`'s arguments by name (``name``, ``fields``, ``template``
        and the optional ones). Per-secret commits dominate bulk loads on SQLCipher, where each
        commit encrypts and authenticates every page it writes.
        """
        with self.vault.transaction() as tx:
            depth = self._depth(tx)
            return [self.put_in(tx, **dict(entry), _depth=depth) for entry in entries]

    def _depth(self, conn: Any) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key = 'history_depth'").fetchone()
        return int(row[0]) if row else DEFAULT_HISTORY_DEPTH

    def put_in(
        self,
        tx: Any,
        name: str,
        fields: Iterable[FieldValue],
        *,
        template: str,
        tags: Iterable[str] | None = None,
        notes: str | None = None,
        expires: float | None = None,
        favourite: bool | None = None,
        expected_version: int | None = None,
        audit_action: str = "write",
        clear_expiry: bool = False,
        _depth: int | None = None,
    ) -> SecretSummary:
        """:meth:`put` inside the caller's transaction."""
        name = normalize_name(name)
        checked = _check_fields(fields)
        tag_tuple = normalize_tags(tags) if tags is not None else None
        if notes is not None and len(notes) > MAX_NOTES_LENGTH:
            raise ValidationError("notes are longer than 1 MiB")
        now = time.time()
        depth = self._depth(tx) if _depth is None else _depth

        row = tx.execute(
            f"SELECT {_SUMMARY_COLUMNS}, s.notes FROM secrets s"
            " WHERE s.name_key = ? AND s.deleted IS NULL",
            (name_key(name),),
        ).fetchone()
        current = _summary(row[:10]) if row else None
        if expected_version is not None:
            have = current.version if current else 0
            if have != expected_version:
                raise VersionConflict(
                    f"{name} is at version {have}, not {expected_version}; reload and retry"
                )
        if current is None:
            final_tags = tag_tuple or ()
            cur = tx.execute(
                "INSERT INTO secrets (name, name_key, template, tags, notes, created, updated,"
                " expires, version, favourite) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                (
                    name, name_key(name), template, json.dumps(final_tags), notes or "",
                    now, now, expires, int(bool(favourite)),
                ),
            )  # fmt: skip
            secret_id, version = cur.lastrowid, 1
            created = now
        else:
            secret_id, version = current.id, current.version + 1
            self._archive(tx, current, row[10], depth)
            final_tags = tag_tuple if tag_tuple is not None else current.tags
            tx.execute(
                "UPDATE secrets SET name = ?, name_key = ?, template = ?, tags = ?, notes = ?,"
                " updated = ?, expires = ?, version = ?, favourite = ? WHERE id = ?",
                (
                    name, name_key(name), template, json.dumps(final_tags),
                    row[10] if notes is None else notes, now,
                    None if clear_expiry else (current.expires if expires is None else expires),
                    version,
                    int(current.favourite if favourite is None else favourite), secret_id,
                ),
            )  # fmt: skip
            tx.execute("DELETE FROM secret_fields WHERE secret_id = ?", (secret_id,))
            created = current.created
        self._write_fields(tx, secret_id, version, checked)
        self._write_tags(tx, secret_id, final_tags)
        self._index(tx, secret_id)
        primary = next((f for f in checked if f.secret), checked[0])
        self.vault.audit.record(
            tx,
            audit_action,
            name,
            detail={"version": version, "fields": [f.name for f in checked]},
            value=primary.value,
        )

        return SecretSummary(
            secret_id, name, template, tuple(final_tags), created, now,
            None if clear_expiry else (
                expires if expires is not None or current is None else current.expires
            ),
            version, bool(favourite) if favourite is not None else bool(current and
            current.favourite),
        )  # fmt: skip

    def _write_fields(self, tx: Any, secret_id: int, version: int, fields: Iterable[FieldValue]):
        rows = []
        for position, item in enumerate(fields):
            data = _encode(item.value)
            if item.secret:
                data = self.vault.seal(data, field_aad(secret_id, version, item.name))
            rows.append(
                (secret_id, position, item.name, int(item.secret), int(item.is_binary), data)
            )
        tx.executemany(
            "INSERT INTO secret_fields (secret_id, position, name, is_secret, is_binary, value)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    @staticmethod
    def _write_tags(tx: Any, secret_id: int, tags: Iterable[str]) -> None:
        tx.execute("DELETE FROM secret_tags WHERE secret_id = ?", (secret_id,))
        tx.executemany(
            "INSERT OR IGNORE INTO secret_tags (tag, secret_id) VALUES (?, ?)",
            [(tag, secret_id) for tag in tags],
        )

    @staticmethod
    def _index(tx: Any, secret_id: int) -> None:
        """Refresh the search row from metadata and plain fields only."""
        name, tags, notes, template = tx.execute(
            "SELECT name, tags, notes, template FROM secrets WHERE id = ?", (secret_id,)
        ).fetchone()
        plain = [
            f"{fname} {bytes(value).decode('utf-8', 'replace')}"
            for fname, value in tx.execute(
                "SELECT name, value FROM secret_fields WHERE secret_id = ? AND is_secret = 0"
                " AND is_binary = 0 ORDER BY position",
                (secret_id,),
            )
        ]
        tx.execute("DELETE FROM secrets_fts WHERE rowid = ?", (secret_id,))
        tx.execute(
            "INSERT INTO secrets_fts (rowid, name, tags, notes, fields, type)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (secret_id, name, " ".join(json.loads(tags)), notes, "\n".join(plain), template),
        )

    def _archive(self, tx: Any, current: SecretSummary, notes: str, depth: int) -> None:
        if depth <= 0:
            tx.execute("DELETE FROM secret_history WHERE secret_id = ?", (current.id,))
            return
        fields = self._read_fields(tx, current.id, current.version)
        payload = json.dumps(
            [
                {
                    "name": f.name,
                    "secret": f.secret,
                    "binary": f.is_binary,
                    "value": base64.b64encode(_encode(f.value)).decode("ascii"),
                }
                for f in fields
            ]
        ).encode("utf-8")
        tx.execute(
            "INSERT OR REPLACE INTO secret_history (secret_id, version, saved, template, tags,"
            " notes, expires, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                current.id, current.version, current.updated, current.template,
                json.dumps(current.tags), notes, current.expires,
                self.vault.seal(payload, history_aad(current.id, current.version)),
            ),
        )  # fmt: skip
        tx.execute(
            "DELETE FROM secret_history WHERE secret_id = ? AND version NOT IN"
            " (SELECT version FROM secret_history WHERE secret_id = ?"
            " ORDER BY version DESC LIMIT ?)",
            (current.id, current.id, depth),
        )

    # -- reading ------------------------------------------------------------------------

    def _read_fields(self, conn: Any, secret_id: int, version: int) -> tuple[FieldValue, ...]:
        result = []
        for fname, is_secret, is_binary, value in conn.execute(
            "SELECT name, is_secret, is_binary, value FROM secret_fields WHERE secret_id = ?"
            " ORDER BY position",
            (secret_id,),
        ):
            data = bytes(value)
            if is_secret:
                data = self.vault.open_sealed(data, field_aad(secret_id, version, fname))
            result.append(
                FieldValue(fname, data if is_binary else data.decode("utf-8"), bool(is_secret))
            )
        return tuple(result)

    def _find(self, conn: Any, name: str, *, deleted: bool = False) -> tuple[Any, ...]:
        name = normalize_name(name)
        state = "s.deleted IS NOT NULL" if deleted else "s.deleted IS NULL"
        row = conn.execute(
            f"SELECT {_SUMMARY_COLUMNS}, s.notes FROM secrets s"
            f" WHERE s.name_key = ? AND {state} ORDER BY s.deleted DESC LIMIT 1",
            (name_key(name),),
        ).fetchone()
        if row is None:
            where = "in the trash" if deleted else "in the vault"
            raise SecretNotFound(f"no secret named {name!r} {where}")
        return row

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Any]:
        """A consistent read-only view across several statements, without the write lock.

        Inside a write transaction of this connection (grouped operations) that transaction
        already is one.
        """
        with self.vault.read() as conn:
            if conn.in_transaction:
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("ROLLBACK")

    def summary(self, name: str) -> SecretSummary:
        with self.vault.read() as conn:
            return _summary(self._find(conn, name)[:10])

    def get(
        self,
        name: str,
        *,
        action: str = "read",
        field: str | None = None,
        audit: bool = True,
        primary: Mapping[str, str] | None = None,
        allow: Callable[[str], None] | None = None,
    ) -> Secret:
        """Decrypt a secret; the read is audited first, so an unrecordable read returns nothing.

        The audit row identifies ``field``, or else the template's primary field (``primary``
        maps template ids to it), or else the first secret field. Unaudited reads (backups,
        checks) take a read snapshot and leave the write lock to others. ``allow`` sees the
        stored name before the read is recorded and may raise to refuse it (the REST API checks
        permissions on the stored spelling there); it must not use the vault.
        """
        with self.vault.transaction() if audit else self.snapshot() as tx:
            secret, chosen = self._read(tx, name, field, primary, allow)
            if audit:
                self.vault.audit.record(
                    tx,
                    action,
                    secret.summary.name,
                    detail={"field": chosen.name if chosen else None},
                    value=chosen.value if chosen else None,
                )
        return secret

    def _read(
        self,
        conn: Any,
        name: str,
        field: str | None,
        primary: Mapping[str, str] | None,
        allow: Callable[[str], None] | None,
    ) -> tuple[Secret, FieldValue | None]:
        row = self._find(conn, name)
        summary = _summary(row[:10])
        if allow is not None:
            allow(summary.name)
        fields = self._read_fields(conn, summary.id, summary.version)
        secret = Secret(summary, row[10], fields)
        if field is None:
            return secret, primary_field(secret, primary)
        try:
            return secret, secret.field(field)
        except KeyError:
            raise SecretNotFound(f"secret {summary.name!r} has no field {field!r}") from None

    def history(self, name: str) -> list[HistoryEntry]:
        with self.vault.transaction() as tx:
            row = self._find(tx, name)
            entries = [
                self._history_entry(sid_version[0], row[0], sid_version)
                for sid_version in tx.execute(
                    "SELECT version, saved, template, tags, notes, expires, payload"
                    " FROM secret_history WHERE secret_id = ? ORDER BY version DESC",
                    (row[0],),
                )
            ]
            self.vault.audit.record(tx, "history", row[1], detail={"versions": len(entries)})
        return entries

    def _history_entry(self, version: int, secret_id: int, row: Any) -> HistoryEntry:
        _, saved, template, tags, notes, expires, payload = row
        items = json.loads(self.vault.open_sealed(bytes(payload), history_aad(secret_id, version)))
        fields = []
        for item in items:
            data = base64.b64decode(item["value"])
            fields.append(
                FieldValue(item["name"], data if item["binary"] else data.decode(), item["secret"])
            )
        return HistoryEntry(
            version, saved, template, tuple(json.loads(tags)), notes, expires, tuple(fields)
        )

    def restore_version(self, name: str, version: int) -> SecretSummary:
        """Make an old version current again; what was current goes to history."""
        entry = next((e for e in self.history(name) if e.version == version), None)
        if entry is None:
            raise SecretNotFound(f"{name!r} has no version {version} in its history")
        current = self.summary(name)
        return self.put(
            current.name,
            entry.fields,
            template=entry.template,
            tags=entry.tags,
            notes=entry.notes,
            expires=entry.expires,
            expected_version=current.version,
            audit_action="restore-version",
        )

    # -- listing and search -------------------------------------------------------------

    def names(self, *, tag: str | None = None, prefix: str | None = None) -> list[str]:
        sql = "SELECT s.name FROM secrets s WHERE s.deleted IS NULL"
        args: list[object] = []
        if tag is not None:
            sql += " AND s.id IN (SELECT secret_id FROM secret_tags WHERE tag = ?)"
            args.append(tag)
        if prefix:
            sql += " AND s.name LIKE ? ESCAPE '\\'"
            args.append(prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        sql += " ORDER BY s.name COLLATE NOCASE"
        with self.vault.read() as conn:
            return [row[0] for row in conn.execute(sql, args)]

    def summaries(
        self,
        query: str = "",
        *,
        tag: str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[SecretSummary]:
        """Summaries in name order; ``after`` + ``limit`` read them page by page (keyset)."""
        sql, args = _matching_sql(_SUMMARY_COLUMNS, query, tag, after, limit)
        with self.vault.read() as conn, _search_errors():
            return [_summary(row) for row in conn.execute(sql, args)]

    def matching_ids(
        self,
        query: str = "",
        *,
        tag: str | None = None,
        after: str | None = None,
        conn: Any = None,
    ) -> list[int]:
        """Ids of the matching live secrets, in name order.

        With :meth:`summaries_by_id`, a reader loads a large result in small pieces after one
        search, where keyset pages would run the whole search (and its sort) again per page.
        ``conn`` searches a connection the caller already holds (an export's snapshot).
        """
        sql, args = _matching_sql("s.id", query, tag, after, None)
        with contextlib.ExitStack() as held:
            if conn is None:
                conn = held.enter_context(self.vault.read())
            with _search_errors():
                return [row[0] for row in conn.execute(sql, args)]

    def summaries_by_id(self, ids: Sequence[int]) -> list[SecretSummary]:
        """Summaries of ``ids`` in the order given; ids no longer live are left out."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        sql = f"SELECT {_SUMMARY_COLUMNS} FROM secrets s"
        sql += f" WHERE s.deleted IS NULL AND s.id IN ({marks})"
        with self.vault.read() as conn:
            found = {row[0]: _summary(row) for row in conn.execute(sql, list(ids))}
        return [found[i] for i in ids if i in found]

    def expiring(self, within_seconds: float = 3 * 24 * 3600) -> list[SecretSummary]:
        limit = time.time() + within_seconds
        with self.vault.read() as conn:
            return [
                _summary(row)
                for row in conn.execute(
                    f"SELECT {_SUMMARY_COLUMNS} FROM secrets s WHERE s.deleted IS NULL"
                    " AND s.expires IS NOT NULL AND s.expires <= ? ORDER BY s.expires",
                    (limit,),
                )
            ]

    def tags(self) -> list[tuple[str, int]]:
        with self.vault.read() as conn:
            return list(
                conn.execute(
                    "SELECT t.tag, count(*) FROM secret_tags t JOIN secrets s ON s.id = t.secret_id"
                    " WHERE s.deleted IS NULL GROUP BY t.tag ORDER BY t.tag"
                )
            )

    def count(self) -> int:
        with self.vault.read() as conn:
            return conn.execute("SELECT count(*) FROM secrets WHERE deleted IS NULL").fetchone()[0]

    # -- trash --------------------------------------------------------------------------

    def trash(self, name: str) -> SecretSummary:
        with self.vault.transaction() as tx:
            row = self._find(tx, name)
            tx.execute("UPDATE secrets SET deleted = ? WHERE id = ?", (time.time(), row[0]))
            self.vault.audit.record(tx, "delete", row[1], detail={"to": "trash"})
        return _summary(row[:10])

    def trashed(self) -> list[SecretSummary]:
        with self.vault.read() as conn:
            return [
                _summary(row)
                for row in conn.execute(
                    f"SELECT {_SUMMARY_COLUMNS} FROM secrets s WHERE s.deleted IS NOT NULL"
                    " ORDER BY s.deleted DESC"
                )
            ]

    def restore(self, name: str) -> SecretSummary:
        with self.vault.transaction() as tx:
            row = self._find(tx, name, deleted=True)
            clash = tx.execute(
                "SELECT 1 FROM secrets WHERE name_key = ? AND deleted IS NULL",
                (name_key(row[1]),),
            ).fetchone()
            if clash:
                raise Conflict(f"a live secret named {row[1]!r} exists; rename it first")
            tx.execute("UPDATE secrets SET deleted = NULL WHERE id = ?", (row[0],))
            self.vault.audit.record(tx, "restore", row[1])
        return _summary(row[:10])

    def empty_trash(self, name: str | None = None) -> int:
        """Delete trashed secrets for good (secure_delete overwrites their pages)."""
        with self.vault.transaction() as tx:
            if name is None:
                ids = [r[0] for r in tx.execute("SELECT id FROM secrets WHERE deleted IS NOT NULL")]
            else:
                ids = [self._find(tx, name, deleted=True)[0]]
            for sid in ids:
                tx.execute("DELETE FROM secrets_fts WHERE rowid = ?", (sid,))
                tx.execute("DELETE FROM secrets WHERE id = ?", (sid,))
            self.vault.audit.record(tx, "empty-trash", name, detail={"count": len(ids)})
        return len(ids)

    def set_favourite(self, name: str, favourite: bool) -> None:
        with self.vault.transaction() as tx:
            row = self._find(tx, name)
            tx.execute("UPDATE secrets SET favourite = ? WHERE id = ?", (int(favourite), row[0]))
            self.vault.audit.record(tx, "favourite", row[1], detail={"value": favourite})

    def rename(self, old: str, new: str) -> None:
        new = normalize_name(new)
        with self.vault.transaction() as tx:
            row = self._find(tx, old)
            clash = tx.execute(
                "SELECT id FROM secrets WHERE name_key = ? AND deleted IS NULL",
                (name_key(new),),
            ).fetchone()
            if clash and clash[0] != row[0]:
                raise Conflict(f"a secret named {new!r} already exists")
            tx.execute(
                "UPDATE secrets SET name = ?, name_key = ? WHERE id = ?",
                (new, name_key(new), row[0]),
            )
            self._index(tx, row[0])
            self.vault.audit.record(tx, "rename", row[1], detail={"to": new})

    # -- bulk access for backups and imports -------------------------------------------------
    # These run inside a caller's read() or transaction() so that exporting or importing many
    # secrets takes one transaction and one audit event per secret, not one transaction each.

    def read_fields(self, conn: Any, secret_id: int, version: int) -> tuple[FieldValue, ...]:
        """Decrypt the current fields of one secret, without auditing (the caller audits)."""
        return self._read_fields(conn, secret_id, version)

    def read_history(self, conn: Any, secret_id: int) -> list[HistoryEntry]:
        """Every stored history entry of one secret, oldest first, without auditing."""
        return [
            self._history_entry(row[0], secret_id, row)
            for row in conn.execute(
                "SELECT version, saved, template, tags, notes, expires, payload"
                " FROM secret_history WHERE secret_id = ? ORDER BY version",
                (secret_id,),
            )
        ]

    def write_fields(
        self, tx: Any, secret_id: int, version: int, fields: Iterable[FieldValue]
    ) -> None:
        """Seal and insert fields as :meth:`put` does (the caller deletes old rows first)."""
        self._write_fields(tx, secret_id, version, _check_fields(fields))

    def write_tags(self, tx: Any, secret_id: int, tags: Iterable[str]) -> None:
        self._write_tags(tx, secret_id, tags)

    def reindex(self, tx: Any, secret_id: int) -> None:
        """Refresh the search row after writing a secret's row, fields and tags directly."""
        self._index(tx, secret_id)

    def write_history(self, tx: Any, secret_id: int, entry: HistoryEntry) -> None:
        """Insert one history row, sealed exactly as :meth:`put` archives a replaced version."""
        payload = json.dumps(
            [
                {
                    "name": f.name,
                    "secret": f.secret,
                    "binary": f.is_binary,
                    "value": base64.b64encode(_encode(f.value)).decode("ascii"),
                }
                for f in _check_fields(entry.fields)
            ]
        ).encode("utf-8")
        tx.execute(
            "INSERT OR REPLACE INTO secret_history (secret_id, version, saved, template, tags,"
            " notes, expires, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                secret_id, entry.version, entry.saved, entry.template,
                json.dumps(list(entry.tags)), entry.notes, entry.expires,
                self.vault.seal(payload, history_aad(secret_id, entry.version)),
            ),
        )  # fmt: skip


def primary_field(secret: Secret, primary: Mapping[str, str] | None) -> FieldValue | None:
    """The field "copy secret" means: the template's primary one, else the first secret one."""
    wanted = primary.get(secret.summary.template) if primary is not None else None
    fields = secret.fields
    chosen = next((f for f in fields if f.name == wanted), None) if wanted else None
    return chosen or next((f for f in fields if f.secret), fields[0] if fields else None)


def fields_from_mapping(values: Mapping[str, Any], secret_names: Iterable[str]) -> list[FieldValue]:
    secret_set = set(secret_names)
    return [FieldValue(k, v, k in secret_set) for k, v in values.items()]
