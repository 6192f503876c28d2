"""Rotating the data key and re-sealing the vault key, so that a crash at any step loses nothing.

Data-key rotation, step by step (DESIGN.md "Rotation without losing anything"):

1. Under the exclusive lock, the new data key is written to ``vault.keys`` as *pending*,
   wrapped by the vault key. From now on every process seals new values under it.
2. Every sealed value listed in ``sealed_columns`` is re-sealed under the new key's field
   sub-key, in batches of a few thousand per transaction (the blob header names the key
   version, so values already under the new key are skipped — which also makes a resumed
   rotation cheap).
3. Under the exclusive lock again: a last re-seal pass for anything written meanwhile,
   ``PRAGMA rekey`` to the new key, then the pending key is promoted in ``vault.keys`` and the
   old one forgotten. The WAL is truncated so no page under the old key stays on disk.

A crash after (1) leaves a pending key that opening the vault keeps in mind and the next
rotation resumes with; a crash after the rekey but before the promotion is finished by the next
open, which finds that only the pending key opens the database. Unlock slots wrap the vault key,
not the data key, so the keyring, the passphrase, the recovery key and ``ECHO_VAULT_MASTER_KEY``
keep working throughout.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from echo_vault_app.core import keyring_slot, slots, storage
from echo_vault_app.core.crypto import MINIMUM_ARGON2, Argon2Params, random_key
from echo_vault_app.core.keyfile import KeyFile, keyfile_lock, update_keyfile
from echo_vault_app.core.vault import _SEALED_HEADER, Vault
from echo_vault_app.errors import KeyringError, UsageError

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
_BATCH = 20_000


@dataclass(frozen=True)
class RotationResult:
    old_version: int
    new_version: int
    resealed: int
    seconds: float
    resumed: bool


def _noop(step: str, done: int, total: int) -> None:
    return None


def rotate_data_key(vault: Vault, progress: Progress | None = None) -> RotationResult:
    """Replace the data key; resumes an interrupted rotation instead of starting another."""
    report = progress or _noop
    started = time.perf_counter()
    folder = vault.folder
    with keyfile_lock(folder):
        keyfile = KeyFile.load(folder)
        old_version = keyfile.data_key.version
        resumed = keyfile.pending_data_key is not None
        if not resumed:
            new_version = old_version + 1
            wrapped = slots.wrap_data_key(
                vault._vault_key, vault.vault_id, random_key(), new_version
            )

            with vault.exclusive():
                keyfile.pending_data_key = wrapped
                keyfile.save(folder)
                vault._learn_keys(keyfile)
        new_version = keyfile.pending_data_key.version  # type: ignore[union-attr]
        new_key = vault._data_keys[new_version]
        report("pending-written", 0, 0)

        resealed = _reseal_all(vault, new_version, report)
        report("resealed", resealed, resealed)

        with vault.exclusive() as conn:
            resealed += _reseal_all(vault, new_version, report)
            storage.rekey(conn, new_key)
            vault._connected_version = new_version
            report("rekeyed", 0, 0)
            keyfile.data_key, keyfile.pending_data_key = keyfile.pending_data_key, None
            keyfile.save(folder)
            vault._learn_keys(keyfile)
            report("promoted", 0, 0)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    with vault.transaction() as tx:
        vault.audit.record(
            tx,
            "rotate",
            "data-key",
            detail={"from": old_version, "to": new_version, "resealed": resealed},
        )
    seconds = time.perf_counter() - started
    log.info("rotated data key for vault %s to version %d", vault.vault_id, new_version)
    report("done", resealed, resealed)
    return RotationResult(old_version, new_version, resealed, seconds, resumed)


def _reseal_all(vault: Vault, version: int, report: Progress) -> int:
    """Re-seal everything not yet under ``version``, a batch per transaction.

    Small transactions keep the vault usable meanwhile (a search typed in the desktop app waits
    for one batch, not for the whole vault). A crash between batches is harmless: every blob
    names its key version and both keys are known while the pending key exists.
    """
    header = _SEALED_HEADER.pack(2, version)
    with vault.read() as conn:
        columns = conn.execute(
            "SELECT tbl, col, key_cols, aad_sql, where_sql, json_key FROM sealed_columns"
            " ORDER BY tbl, col"
        ).fetchall()
        pending = 0
        for table, column, _keys, _aad, where_sql, json_key in columns:
            if json_key is None:
                pending += conn.execute(
                    f"SELECT count(*) FROM {table} WHERE ({where_sql}) AND {column} IS NOT NULL"
                    f" AND substr({column}, 1, {len(header)}) <> ?",
                    (header,),
                ).fetchone()[0]
    total = 0
    for table, column, key_cols, aad_sql, where_sql, json_key in columns:
        keys = [k.strip() for k in key_cols.split(",")]
        sql = (
            f"SELECT {key_cols}, {column}, {aad_sql} FROM {table}"
            f" WHERE ({where_sql}) AND {column} IS NOT NULL"
        )
        where = " AND ".join(f"{k} = ?" for k in keys)
        while True:
            with vault.transaction() as tx:
                if json_key is None:
                    # Only rows not yet under the new key: a resumed rotation skips done work.
                    rows = tx.execute(
                        sql + f" AND substr({column}, 1, {len(header)}) <> ? LIMIT {_BATCH}",
                        (header,),
                    ).fetchall()
                else:
                    rows = tx.execute(sql).fetchall()
                updates = []
                for row in rows:
                    value, aad = row[len(keys)], row[len(keys) + 1].encode("utf-8")
                    new_value = _reseal_value(vault, version, value, aad, json_key)
                    if new_value is not None:
                        updates.append((new_value, *row[: len(keys)]))
                tx.executemany(f"UPDATE {table} SET {column} = ? WHERE {where}", updates)
            total += len(updates)
            report("reseal", total, max(pending, total))
            if json_key is not None or len(rows) < _BATCH:
                break
    return total


def _reseal_value(
    vault: Vault, version: int, value: object, aad: bytes, json_key: str | None
) -> object | None:
    """The value re-sealed under ``version``, or None when it already is."""
    if json_key is None:
        blob = bytes(value)  # type: ignore[arg-type]
        return vault.seal_with(version, vault.open_sealed(blob, aad), aad)
    doc = json.loads(value)  # type: ignore[arg-type]
    blob = base64.b64decode(doc[json_key])
    if vault.sealed_version(blob) == version:
        return None
    resealed = vault.seal_with(version, vault.open_sealed(blob, aad), aad)
    doc[json_key] = base64.b64encode(resealed).decode("ascii")
    return json.dumps(doc, sort_keys=True)


# -- vault key: passphrase, recovery key, re-sealing ----------------------------------------


def reissue_recovery_key(vault: Vault) -> str:
    """A new recovery key; the old one stops working as soon as this returns."""
    text, raw = slots.new_recovery_key()
    slot = slots.recovery_slot(raw, vault._vault_key, vault.vault_id)
    vault._set_slot("recovery", slot, "recovery-key-reissue")
    return text


def reseal_vault_key(
    vault: Vault,
    *,
    passphrase: str | None,
    master_key: str | None = None,
    params: Argon2Params = MINIMUM_ARGON2,
) -> tuple[str, list[str]]:
    """A new vault key with every slot rewritten, for when an unlock secret may have leaked.

    The database is untouched: only the wrapping of the data key changes. Returns the new
    recovery key and notices (for example a keyring that could not be updated).
    """
    had = set(vault.keyfile.slots)
    if "passphrase" in had and not passphrase:
        raise UsageError("re-sealing needs the passphrase (the same or a new one)")
    if master_key is None and "env" in had:
        master_key = os.environ.get("ECHO_VAULT_MASTER_KEY") or None
        if master_key is None:
            raise UsageError("re-sealing a headless vault needs ECHO_VAULT_MASTER_KEY")
    notices: list[str] = []
    new_vault_key = random_key()
    vault_id = vault.vault_id
    recovery_text, recovery_raw = slots.new_recovery_key()

    new_slots = {"recovery": slots.recovery_slot(recovery_raw, new_vault_key, vault_id)}
    if passphrase:
        new_slots["passphrase"] = slots.passphrase_slot(passphrase, params, new_vault_key, vault_id)
    if master_key is not None:
        raw = slots.parse_master_key(master_key)
        new_slots["env"] = slots.env_slot(raw, new_vault_key, vault_id)
    if "keyring" in had:
        kek = keyring_slot.new_kek()
        try:
            keyring_slot.store_kek(keyring_slot.find_backend(), vault_id, kek)
            new_slots["keyring"] = slots.keyring_slot(kek, new_vault_key, vault_id)
        except KeyringError as exc:
            notices.append(f"the keyring entry was dropped: {exc}")

    def change(fresh: KeyFile) -> None:
        data_keys = dict(vault._data_keys)
        fresh.data_key = slots.wrap_data_key(
            new_vault_key, vault_id, data_keys[fresh.data_key.version], fresh.data_key.version
        )
        if fresh.pending_data_key is not None:
            version = fresh.pending_data_key.version
            fresh.pending_data_key = slots.wrap_data_key(
                new_vault_key, vault_id, data_keys[version], version
            )
        fresh.slots = new_slots

    with vault.exclusive():
        vault.keyfile = update_keyfile(vault.folder, change)
        vault._vault_key = new_vault_key
        vault._learn_keys(vault.keyfile)
    with vault.transaction() as tx:
        vault.audit.record(tx, "reseal", "vault-key", detail={"slots": sorted(new_slots)})
    return recovery_text, notices
