"""Putting whole secrets, with their history, into a vault under a conflict mode.

Backups and imports from other tools both end here: each incoming secret is a
:class:`SecretRecord` (current state plus history, oldest first), and :func:`plan` decides per
name what happens before :func:`apply` writes everything inside the caller's transaction.

Conflict modes, for a name that exists both in the vault and in the import (names compare the
way the vault's unique index does, ASCII case-insensitively):

- ``merge`` (default): the side with the newer ``updated`` time becomes current (a tie keeps the
  vault's). Every other state of both sides, current or historical, is kept as history,
  deduplicated on (saved time, template, tags, notes, expiry, fields). The merged history is
  renumbered chronologically below the new current version, which is always higher than the
  vault's previous version, so a check-and-set writer holding the old version number fails.
  Merged history is not trimmed to the history depth; the next ordinary write trims it.
- ``skip``: the vault's secret is left untouched.
- ``replace-all``: the vault's secret is moved to the trash (recoverable there, nothing is
  destroyed) and the imported one is written as it is, with its own history and version
  numbers. Secrets that exist only in the vault are never touched by any mode.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from echo_vault_app.errors import UsageError
from echo_vault_app.secrets.model import FieldValue, HistoryEntry, name_key
from echo_vault_app.secrets.store import SecretStore

MODES = ("merge", "skip", "replace-all")


@dataclass(frozen=True)
class SecretRecord:
    """One secret as a backup carries it: metadata, current fields and history (oldest first)."""

    name: str
    template: str
    tags: tuple[str, ...]
    notes: str
    created: float
    updated: float
    expires: float | None
    favourite: bool
    version: int
    fields: tuple[FieldValue, ...]
    history: tuple[HistoryEntry, ...] = ()

    def current(self) -> HistoryEntry:
        return HistoryEntry(
            self.version, self.updated, self.template, self.tags, self.notes, self.expires,
            self.fields,
        )  # fmt: skip


@dataclass
class ImportPreview:
    """What an import would do (and, in :class:`ImportResult`, what it did), by secret name.

    ``conflicts`` lists names present on both sides with different content, whatever the mode
    does with them; ``changed`` lists vault secrets the import rewrites; ``skipped`` lists
    differing names that ``skip`` mode leaves alone.
    """

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportResult(ImportPreview):
    """The outcome of an import; ``sections`` counts items of other registered sections."""

    sections: dict[str, int] = field(default_factory=dict)


@dataclass
class _Step:
    kind: str  # add | merge | replace | skip | unchanged
    record: SecretRecord
    local_id: int | None = None


def fold(name: str) -> str:
    """The key the vault's unique name index compares names by (NFC, full case folding)."""
    return name_key(name)


def _key(state: HistoryEntry) -> tuple[Any, ...]:
    return (
        state.saved, state.template, tuple(state.tags), state.notes, state.expires,
        tuple((f.name, f.value, f.secret) for f in state.fields),
    )  # fmt: skip


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise UsageError(f"unknown conflict mode {mode!r}; choose one of {', '.join(MODES)}")
    return mode


def load_local(store: SecretStore, conn: Any, secret_id: int) -> SecretRecord:
    """Read one live secret with its whole history, without auditing (the caller audits)."""
    row = conn.execute(
        "SELECT name, template, tags, notes, created, updated, expires, favourite, version"
        " FROM secrets WHERE id = ?",
        (secret_id,),
    ).fetchone()
    name, template, tags, notes, created, updated, expires, favourite, version = row
    return SecretRecord(
        name, template, tuple(json.loads(tags)), notes, created, updated, expires,
        bool(favourite), version, store.read_fields(conn, secret_id, version),
        tuple(store.read_history(conn, secret_id)),
    )  # fmt: skip


def live_ids(conn: Any) -> dict[str, int]:
    return {fold(name): sid for sid, name in conn.execute(
        "SELECT id, name FROM secrets WHERE deleted IS NULL"
    )}  # fmt: skip


def plan(
    store: SecretStore, conn: Any, records: Sequence[SecretRecord], mode: str
) -> tuple[list[_Step], ImportPreview]:
    """Decide what happens to each incoming record; reads the vault, writes nothing."""
    preview = ImportPreview()
    return list(plan_each(store, conn, records, mode, preview)), preview


def plan_each(
    store: SecretStore,
    conn: Any,
    records: Iterable[SecretRecord],
    mode: str,
    preview: ImportPreview,
) -> Iterator[_Step]:
    """:func:`plan` one record at a time, noting each decision in ``preview`` as it goes.

    The steps may be applied as they come (an import of a large backup never holds them all):
    which local secret a record meets is decided from the names live when planning began, and
    no two incoming records share a name, so writing one step cannot change another's.
    """
    check_mode(mode)
    ids = live_ids(conn)
    for record in records:
        local_id = ids.get(fold(record.name))
        if local_id is None:
            preview.added.append(record.name)
            yield _Step("add", record)
            continue
        local = load_local(store, conn, local_id)
        step = _decide(local, record, mode)
        step.local_id = local_id
        if step.kind == "unchanged":
            preview.unchanged.append(local.name)
        else:
            if _key(local.current()) != _key(record.current()):
                preview.conflicts.append(local.name)
            (preview.skipped if step.kind == "skip" else preview.changed).append(local.name)
        yield step


def _decide(local: SecretRecord, incoming: SecretRecord, mode: str) -> _Step:
    local_states = [*local.history, local.current()]
    incoming_states = [*incoming.history, incoming.current()]
    known = {_key(s) for s in local_states}
    fresh = [s for s in incoming_states if _key(s) not in known]
    if mode == "replace-all":
        same = not fresh and len({_key(s) for s in incoming_states}) == len(known)
        same = same and _key(local.current()) == _key(incoming.current())
        return _Step("unchanged" if same else "replace", incoming)
    if not fresh:
        return _Step("unchanged", local)
    if mode == "skip":
        return _Step("skip", local)
    return _Step("merge", _merge(local, incoming, local_states + incoming_states))


def _merge(local: SecretRecord, incoming: SecretRecord, states: list[HistoryEntry]) -> SecretRecord:
    winner_record = incoming if incoming.updated > local.updated else local
    winner = winner_record.current()
    unique: dict[tuple[Any, ...], HistoryEntry] = {}
    for state in sorted(states, key=lambda s: (s.saved, s.version)):
        unique.setdefault(_key(state), state)
    unique.pop(_key(winner), None)
    others = list(unique.values())

    version = max(local.version + 1, incoming.version, len(others) + 1)
    first = version - len(others)
    history = tuple(s._replace(version=first + i) for i, s in enumerate(others))
    return replace(
        winner_record,
        created=min(local.created, incoming.created),
        version=version,
        history=history,
    )


def apply(store: SecretStore, tx: Any, steps: Iterable[_Step], *, action: str) -> None:
    """Write the planned steps in the caller's transaction, one audit event per secret."""
    now = time.time()
    for step in steps:
        if step.kind in ("skip", "unchanged"):
            continue
        if step.kind == "replace":
            tx.execute("UPDATE secrets SET deleted = ? WHERE id = ?", (now, step.local_id))
            store.vault.audit.record(
                tx, "delete", _name_of(tx, step.local_id), detail={"to": "trash", "by": action}
            )
        secret_id = _write_row(tx, step.record, step.local_id if step.kind == "merge" else None)
        _write_body(store, tx, secret_id, step.record)
        primary = next((f for f in step.record.fields if f.secret), step.record.fields[0])
        store.vault.audit.record(
            tx,
            action,
            step.record.name,
            detail={
                "version": step.record.version,
                "fields": [f.name for f in step.record.fields],
                "history": len(step.record.history),
                "how": {"add": "added", "merge": "merged", "replace": "replaced"}[step.kind],
            },
            value=primary.value,
        )


def _name_of(tx: Any, secret_id: int | None) -> str:
    return tx.execute("SELECT name FROM secrets WHERE id = ?", (secret_id,)).fetchone()[0]


def _write_row(tx: Any, record: SecretRecord, existing_id: int | None) -> int:
    values = (
        record.name, name_key(record.name), record.template, json.dumps(list(record.tags)),
        record.notes, record.created, record.updated, record.expires, record.version,
        int(record.favourite),
    )  # fmt: skip
    if existing_id is None:
        cur = tx.execute(
            "INSERT INTO secrets (name, name_key, template, tags, notes, created, updated,"
            " expires, version, favourite) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        return cur.lastrowid
    tx.execute(
        "UPDATE secrets SET name = ?, name_key = ?, template = ?, tags = ?, notes = ?,"
        " created = ?, updated = ?, expires = ?, version = ?, favourite = ? WHERE id = ?",
        (*values, existing_id),
    )
    tx.execute("DELETE FROM secret_fields WHERE secret_id = ?", (existing_id,))
    tx.execute("DELETE FROM secret_history WHERE secret_id = ?", (existing_id,))
    return existing_id


def _write_body(store: SecretStore, tx: Any, secret_id: int, record: SecretRecord) -> None:
    store.write_fields(tx, secret_id, record.version, record.fields)
    store.write_tags(tx, secret_id, record.tags)
    for entry in record.history:
        store.write_history(tx, secret_id, entry)
    store.reindex(tx, secret_id)
