"""The open vault: one SQLCipher connection, the keys derived for it, and the audit trail.

Everything above this class (secrets, auth, state, the faces) reaches the database through
``read()`` and ``transaction()``, which serialise access from several threads with one lock, and
seals values through ``seal``/``open_sealed`` under the data key's field sub-key.
"""

import contextlib
import logging
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from echo_vault_app import config
from echo_vault_app.core import keyring_slot, slots, storage, throttle
from echo_vault_app.core.audit import AuditTrail
from echo_vault_app.core.crypto import (
    MINIMUM_ARGON2,
    Argon2Params,
    SealError,
    hkdf,
    open_sealed,
    random_key,
    seal,
    tune_argon2,
)

# Re-exported: callers that open vaults anyway ask here what a folder holds.
from echo_vault_app.core.folder import VaultInfo, inspect, vault_exists  # noqa: F401
from echo_vault_app.core.fsutil import ensure_private_dir, fsync_dir
from echo_vault_app.core.keyfile import KEYFILE_NAME, KeyFile, KeyFileBusy, update_keyfile
from echo_vault_app.core.keysync import KeySync
from echo_vault_app.core.unlock import UnlockRequest, recover_vault_key
from echo_vault_app.errors import (
    DatabaseDamaged,
    KeyringError,
    UsageError,
    VaultExists,
    VaultLocked,
    VaultNotFound,
)

log = logging.getLogger(__name__)

FIELDS_INFO = b"echo-vault/fields/v1"
_SEALED_HEADER = struct.Struct(">BI")


def _connect_any(
    folder: Path, keyfile: KeyFile, vault_key: bytes
) -> tuple[storage.Connection, int, KeyFile]:
    """Open the database with the current data key, or with a pending one a crash left behind.

    When only the pending key opens it, the rekey committed but its promotion did not, so the
    promotion is finished here.
    """
    db_path = folder / storage.DB_NAME
    candidates = [keyfile.data_key]
    if keyfile.pending_data_key is not None:
        candidates.append(keyfile.pending_data_key)
    for wrapped in candidates:
        key = slots.unwrap_data_key(vault_key, keyfile.vault_id, wrapped)
        try:
            conn = storage.connect(db_path, key)
        except storage.WrongDataKey:
            continue
        if wrapped is keyfile.pending_data_key:

            def promote(fresh: KeyFile, pending=wrapped) -> None:
                if fresh.pending_data_key == pending:
                    fresh.data_key, fresh.pending_data_key = pending, None

            try:
                keyfile = update_keyfile(folder, promote, blocking=False)
                log.info("promoted pending data key for vault %s", keyfile.vault_id)
            except KeyFileBusy:
                # A rotation holds vault.keys and will promote the key itself; waiting for it
                # here could deadlock against its exclusive database lock.
                log.info(
                    "left pending data key of vault %s to the running rotation", keyfile.vault_id
                )
        return conn, wrapped.version, keyfile
    raise DatabaseDamaged("vault.db does not decrypt with this vault's key (damaged or replaced)")


class Vault:
    """An unlocked vault. Create with :meth:`create` or :meth:`open`; close with :meth:`lock`."""

    def __init__(
        self,
        folder: Path,
        keyfile: KeyFile,
        vault_key: bytes,
        conn: storage.Connection,
        connected_version: int,
        unlock_method: str,
    ) -> None:
        self.folder = folder
        self.keyfile = keyfile
        self.vault_id = keyfile.vault_id
        self.unlock_method = unlock_method
        self.notices: list[str] = []
        self._vault_key = vault_key
        self._conn: storage.Connection | None = conn
        self._connected_version = connected_version
        self._field_keys: dict[int, bytes] = {}
        self._data_keys: dict[int, bytes] = {}
        self._lock = threading.RLock()
        self._tx_depth = 0
        self._yielding = threading.local()  # .depth: this thread's reads may be cut short
        self._cut_lock = threading.Lock()  # guards _cuttable_reads against cut_yielding_reads
        self._cuttable_reads = 0
        self._sync = KeySync(folder)
        self._learn_keys(keyfile)
        self._stable_root = self._load_stable_root()
        self.audit = AuditTrail(
            self.stable_key("audit-chain"),
            self.stable_key("audit-value"),
            self.vault_id,
            config.audit_enabled(),
        )

    # -- creation and unlock --------------------------------------------------------------

    @classmethod
    def create(
        cls,
        folder: Path | None = None,
        *,
        passphrase: str | None = None,
        master_key: str | None = None,
        use_keyring: bool = True,
        keyring_backend: object | None = None,
        kdf_seconds: float = 0.5,
        actor: str | None = None,
    ) -> "CreatedVault":
        """Create a new vault; the returned recovery key is shown to the user once and dropped."""
        folder = Path(folder) if folder else config.default_vault_path()
        if (folder / KEYFILE_NAME).exists():
            raise VaultExists(f"a vault already exists at {folder}")
        if (folder / storage.DB_NAME).exists():
            raise VaultExists(f"{folder / storage.DB_NAME} exists without vault.keys; move it away")
        if master_key is None:
            master_key = os.environ.get(config.ENV_MASTER_KEY) or None
        notices: list[str] = []
        backend = None
        if use_keyring:
            try:
                backend = keyring_backend or keyring_slot.find_backend()
            except KeyringError as exc:
                notices.append(f"keyring not used: {exc}")
        if not passphrase and master_key is None and backend is None:
            raise UsageError(
                "a new vault needs a passphrase, a system keyring or ECHO_VAULT_MASTER_KEY"
            )
        ensure_private_dir(folder)

        import uuid  # only a new vault needs it; it pulls in `platform`

        vault_id = uuid.uuid4().hex
        vault_key, data_key = random_key(), random_key()
        keyfile = KeyFile(
            vault_id=vault_id,
            created=time.time(),
            data_key=slots.wrap_data_key(vault_key, vault_id, data_key, 1),
        )
        if passphrase:
            params = tune_argon2(kdf_seconds)
            keyfile.slots["passphrase"] = slots.passphrase_slot(
                passphrase, params, vault_key, vault_id
            )
        recovery_text, recovery_raw = slots.new_recovery_key()
        keyfile.slots["recovery"] = slots.recovery_slot(recovery_raw, vault_key, vault_id)
        if master_key is not None:
            keyfile.slots["env"] = slots.env_slot(
                slots.parse_master_key(master_key), vault_key, vault_id
            )
        if backend is not None:
            kek = keyring_slot.new_kek()
            try:
                keyring_slot.store_kek(backend, vault_id, kek)
                keyfile.slots["keyring"] = slots.keyring_slot(kek, vault_key, vault_id)
            except KeyringError as exc:
                if not passphrase and master_key is None:
                    raise
                notices.append(f"keyring not used: {exc}")

        # Build both files under temporary names and move them into place database first, so
        # a crash leaves either nothing called vault.keys or a complete pair.
        staging_db = folder / f".{storage.DB_NAME}.creating"
        for leftover in folder.glob(f".{storage.DB_NAME}.creating*"):
            leftover.unlink()
        conn = storage.connect(staging_db, data_key, create=True)
        try:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('vault_id', ?), ('stable_root', ?)",
                (vault_id, random_key()),
            )
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        os.replace(staging_db, folder / storage.DB_NAME)
        fsync_dir(folder)
        keyfile.save(folder)
        log.info("created vault %s in %s", vault_id, folder)

        vault = cls._open_with(folder, keyfile, vault_key, "create")
        vault.notices.extend(notices)
        if actor:
            vault.audit.actor = actor
        with vault.transaction() as tx:
            vault.audit.record(tx, "create", detail={"slots": sorted(keyfile.slots)})
        return CreatedVault(vault, recovery_text, notices)

    @classmethod
    def open(
        cls,
        folder: Path | None = None,
        *,
        passphrase: str | None = None,
        recovery_key: str | None = None,
        master_key: str | None = None,
        use_keyring: bool = True,
        use_env: bool = True,
        keyring_backend: object | None = None,
        actor: str | None = None,
    ) -> "Vault":
        """Unlock an existing vault through the unlock order; raise a typed error otherwise."""
        folder = Path(folder) if folder else config.default_vault_path()
        if not vault_exists(folder):
            raise VaultNotFound(f"no vault at {folder} (create one with `echo-vault-cli init`)")
        keyfile = KeyFile.load(folder)
        request = UnlockRequest(
            passphrase, recovery_key, master_key, use_keyring, use_env, keyring_backend
        )
        result = recover_vault_key(folder, keyfile, request)
        vault = cls._open_with(folder, keyfile, result.vault_key, result.method)
        vault.notices.extend(result.notices)
        if actor:
            vault.audit.actor = actor
        if result.reseal_keyring and result.keyring_backend is not None:
            try:
                vault.seal_keyring(result.keyring_backend)
                vault.notices.append("re-sealed the vault key in the system keyring")
            except KeyringError as exc:
                vault.notices.append(f"keyring entry not re-sealed: {exc}")

        failures = throttle.clear(folder)
        if not vault.audit.enabled:
            # Nothing to record: opening then takes no write transaction, so it never waits
            # for another process's writer.
            return vault
        with vault.transaction() as tx:
            for ts, method in failures:
                vault.audit.record(tx, "unlock", outcome="failed", detail={"method": method}, ts=ts)
            vault.audit.record(tx, "unlock", detail={"method": result.method})
        return vault

    @classmethod
    def _open_with(cls, folder: Path, keyfile: KeyFile, vault_key: bytes, method: str) -> "Vault":
        conn, version, keyfile = _connect_any(folder, keyfile, vault_key)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone()
        except storage.DatabaseError as exc:
            conn.close()
            raise DatabaseDamaged(f"vault.db is damaged: {exc}") from exc
        if row is None or row[0] != keyfile.vault_id:
            conn.close()
            raise DatabaseDamaged("vault.db belongs to another vault than vault.keys")
        return cls(folder, keyfile, vault_key, conn, version, method)

    def opener(self) -> Callable[[], "Vault"]:
        """A function that opens this vault again with the key it was unlocked with.

        For the API server's worker processes: a SQLite connection and the lock files must not
        be shared across ``fork``, so each worker opens its own, and none of them asks for the
        passphrase again. The function holds the vault key, so it lives no longer than the
        server. Reopening records no unlock: the unlock that produced the key was recorded.
        """
        folder, vault_key = self.folder, self._vault_key
        method, actor = self.unlock_method, self.audit.actor
        if self.is_locked:
            raise VaultLocked("the vault is locked")

        def open_again() -> Vault:
            vault = Vault._open_with(folder, KeyFile.load(folder), vault_key, method)
            vault.audit.actor = actor
            return vault

        return open_again

    # -- database access ------------------------------------------------------------------

    def _load_stable_root(self) -> bytes:
        row = self._require().execute("SELECT value FROM meta WHERE key = 'stable_root'").fetchone()
        if row is None or len(row[0]) != 32:
            raise DatabaseDamaged("vault.db is damaged: its key root is missing")
        return bytes(row[0])

    def _require(self) -> storage.Connection:
        if self._conn is None:
            raise VaultLocked("the vault is locked")
        return self._conn

    @property
    def is_locked(self) -> bool:
        return self._conn is None

    @contextlib.contextmanager
    def read(self) -> Iterator[storage.Connection]:
        """Serialised access for reads (autocommit; SQLite gives each statement a snapshot)."""
        with self._lock:
            self._require()
            with self._sync.shared(self._on_keys_changed), storage.translate_errors():
                conn = self._require()
                if not getattr(self._yielding, "depth", 0) or conn.in_transaction:
                    yield conn
                    return
                with self._cut_lock:
                    self._cuttable_reads += 1
                try:
                    yield conn
                finally:
                    with self._cut_lock:
                        self._cuttable_reads -= 1

    @contextlib.contextmanager
    def snapshot(self, cache_mib: int = 32) -> Iterator[storage.Connection]:
        """One consistent read of the whole vault, on a connection of its own.

        For a read long enough that holding the shared connection would stall everything else
        (an export of every secret): other threads go on reading and writing meanwhile, and
        the snapshot does not see their writes. The data key cannot change while it lasts, so a
        rotation, in this process or another, waits for it to end; code inside must therefore
        not call into this vault's locks (a rotation here would hold them while it waits).

        The page cache is capped at ``cache_mib``; the default stays below the 64 MiB a backup's
        key derivation takes, so an export's peak memory is the KDF's, not the cache's. An
        export reads secrets in name order, not page order: with 4 MiB it decrypted so many
        pages again that a 100,000-secret export took 60 % longer.
        """
        with contextlib.ExitStack() as held:
            with self.read():
                data_key = self._data_keys[self._connected_version]
                held.enter_context(self._sync.pinned())
            with storage.translate_errors():
                conn = storage.connect(self.folder / storage.DB_NAME, data_key)
            held.callback(conn.close)
            with storage.translate_errors():
                conn.execute(f"PRAGMA cache_size = -{int(cache_mib) * 1024}")
                conn.execute("BEGIN")
                conn.execute("SELECT count(*) FROM meta").fetchone()  # the snapshot starts here
            yield conn

    @contextlib.contextmanager
    def yielding(self) -> Iterator[None]:
        """Let :meth:`cut_yielding_reads` cut short the reads this thread makes inside.

        For a background load that a newer request can make pointless. Reads share one
        connection, so the desktop app's next keystroke would otherwise wait for the load's
        statement to end (a broad search sorts tens of thousands of rows) before its own
        could start. A read that is cut short raises :class:`ReadInterrupted`; a write, or a
        read inside a transaction, is never cut.
        """
        self._yielding.depth = getattr(self._yielding, "depth", 0) + 1
        try:
            yield
        finally:
            self._yielding.depth -= 1

    def cut_yielding_reads(self) -> bool:
        """Cut short the statement of a read running under :meth:`yielding`, if there is one.

        Safe from any thread. Only while such a read holds the connection is SQLite told to
        interrupt, so no other statement can be hit; told between two statements of that
        read, SQLite forgets it when the next one starts.
        """
        with self._cut_lock:
            conn = self._conn
            if not self._cuttable_reads or conn is None:
                return False
            conn.interrupt()
            log.debug("cut short a background read of vault %s", self.vault_id)
            return True

    @contextlib.contextmanager
    def transaction(self) -> Iterator[storage.Connection]:
        """A write transaction taken up front, so concurrent writers queue instead of failing.

        Inside another transaction of this vault (operations grouped under one commit, see
        :mod:`echo_vault_app.core.grouped`) it is a savepoint: it still succeeds or fails as a
        whole, and becomes durable with the enclosing commit.
        """
        with self._lock:
            self._require()
            with (
                self._sync.shared(self._on_keys_changed),
                self._sync.writing(),
                storage.translate_errors(),
            ):
                conn = self._require()
                if self._tx_depth and conn.in_transaction:
                    yield from self._savepoint(conn)
                    return
                conn.execute("BEGIN IMMEDIATE")
                self._tx_depth = 1
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                finally:
                    self._tx_depth = 0
                try:
                    conn.execute("COMMIT")
                except BaseException:  # a deferred constraint or a full disk: nothing is kept
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise

    def _savepoint(self, conn: storage.Connection) -> Iterator[storage.Connection]:
        name = f"ev_{self._tx_depth}"
        conn.execute(f"SAVEPOINT {name}")
        self._tx_depth += 1
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            raise
        finally:
            self._tx_depth -= 1
        conn.execute(f"RELEASE {name}")

    @contextlib.contextmanager
    def claim_if_free(self) -> Iterator[bool]:
        """Hold every lock a read or a write takes, if no thread or process holds one now.

        For callers on an event loop: work run inside a True section re-enters locks it
        already holds, so it never waits for another thread or process, and short work can
        run in place instead of paying a hop to a worker thread and back. Yields False,
        holding nothing, when any lock is taken or the vault is locked.
        """
        if not self._lock.acquire(blocking=False):
            yield False
            return
        try:
            if self._conn is None:
                yield False
                return
            with self._sync.uncontended(self._on_keys_changed) as free:
                yield free
        finally:
            self._lock.release()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[storage.Connection]:
        """Keep every process's reads and writes out while the database key changes."""
        with self._lock:
            self._require()
            with self._sync.exclusive(), storage.translate_errors():
                yield self._require()

    def limit_page_cache(self, mib: int) -> None:
        """Cap the page cache, which opening sized to the whole vault (up to 128 MiB).

        For a process that keeps its own copy of what it reads: the desktop app holds every
        summary in its browser, so pages it would cache again mostly cost memory.
        """
        with self.read() as conn:
            size = conn.execute("PRAGMA cache_size").fetchone()[0]
            page_kib = int(conn.execute("PRAGMA page_size").fetchone()[0]) // 1024
            current_kib = -size if size < 0 else size * page_kib
            conn.execute(f"PRAGMA cache_size = -{min(current_kib, int(mib) * 1024)}")

    def ensure_schema(self, component: str, migrations: list[str]) -> None:
        with self.read() as conn:
            storage.ensure_component_schema(conn, component, migrations)

    # -- keys -----------------------------------------------------------------------------

    def _learn_keys(self, keyfile: KeyFile) -> None:
        """Know the field sub-keys of the current and any pending data key."""
        known = {}
        for wrapped in (keyfile.data_key, keyfile.pending_data_key):
            if wrapped is not None:
                known[wrapped.version] = slots.unwrap_data_key(
                    self._vault_key, self.vault_id, wrapped
                )
        self._data_keys = known
        self._field_keys = {v: hkdf(k, FIELDS_INFO) for v, k in known.items()}
        self.keyfile = keyfile

    def _on_keys_changed(self, waited: bool) -> None:
        """Another process rewrote vault.keys or held the database exclusively: catch up."""
        if self._conn is None:
            return
        keyfile = KeyFile.load(self.folder)
        self._learn_keys(keyfile)
        if self._connected_version in self._data_keys and not waited:
            return
        try:
            self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if self._connected_version in self._data_keys:
                return
        except storage.DatabaseError:
            pass
        self._conn.close()
        self._conn = None
        conn, version, keyfile = _connect_any(self.folder, keyfile, self._vault_key)
        self._conn, self._connected_version = conn, version
        self._learn_keys(keyfile)
        log.info("reopened vault %s with data key version %d", self.vault_id, version)

    @property
    def data_key_version(self) -> int:
        return self.keyfile.data_key.version

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """Seal under the newest known data key; the blob names that key's version.

        While a rotation is under way the newest key is the pending one, so a value written
        after the rotation re-sealed everything is already under the key that will survive.
        """
        return self.seal_with(max(self._field_keys), plaintext, aad)

    def seal_with(self, version: int, plaintext: bytes, aad: bytes) -> bytes:
        return _SEALED_HEADER.pack(2, version) + seal(self._field_key(version), plaintext, aad)

    @staticmethod
    def sealed_version(blob: bytes) -> int | None:
        if len(blob) < _SEALED_HEADER.size or blob[0] != 2:
            return None
        return _SEALED_HEADER.unpack_from(blob)[1]

    def open_sealed(self, blob: bytes, aad: bytes) -> bytes:
        version = self.sealed_version(blob)
        if version is None:
            raise DatabaseDamaged("a sealed value in the vault is malformed")
        try:
            return open_sealed(self._field_key(version), blob[_SEALED_HEADER.size :], aad)
        except SealError as exc:
            raise DatabaseDamaged("a sealed value in the vault failed authentication") from exc

    def _field_key(self, version: int) -> bytes:
        if self._conn is None:  # locked while a snapshot was still reading
            raise VaultLocked("the vault is locked")
        key = self._field_keys.get(version)
        if key is None:
            self._learn_keys(KeyFile.load(self.folder))
            key = self._field_keys.get(version)
        if key is None:
            raise DatabaseDamaged(f"a sealed value needs data key version {version}, now gone")
        return key

    def stable_key(self, label: str) -> bytes:
        """A key that survives data-key rotation: API-key hashes and audit MACs must."""
        return hkdf(self._stable_root, b"echo-vault/stable/" + label.encode())

    def _set_slot(self, kind: str, slot: slots.Slot | None, action: str) -> None:
        def change(fresh: KeyFile) -> None:
            if slot is None:
                fresh.slots.pop(kind, None)
            else:
                fresh.slots[kind] = slot

        with self._lock:
            self._require()
            self.keyfile = update_keyfile(self.folder, change)
            with self.transaction() as tx:
                self.audit.record(tx, action, detail={"slot": kind})
        log.info("%s slot updated for vault %s", kind, self.vault_id)

    def seal_keyring(self, backend: object | None = None) -> None:
        """(Re)write the keyring entry and slot so the desktop session unlocks without typing."""
        backend = backend or keyring_slot.find_backend()
        kek = keyring_slot.new_kek()
        keyring_slot.store_kek(backend, self.vault_id, kek)
        self._set_slot(
            "keyring", slots.keyring_slot(kek, self._vault_key, self.vault_id), "keyring-seal"
        )

    def forget_keyring(self) -> None:
        """Remove the keyring slot and entry; refuses when nothing but the recovery key is left."""
        if "keyring" not in self.keyfile.slots:
            raise UsageError("this vault keeps no key in the system keyring")
        if not {"passphrase", "env"} & set(self.keyfile.slots):
            raise UsageError(
                "add a passphrase first: the keyring is this vault's only daily unlock"
            )
        self._set_slot("keyring", None, "keyring-forget")
        try:
            keyring_slot.delete_kek(keyring_slot.find_backend(), self.vault_id)
        except KeyringError:
            log.info("keyring entry of vault %s left in place (keyring unavailable)", self.vault_id)

    def set_passphrase(self, passphrase: str, params: Argon2Params = MINIMUM_ARGON2) -> None:
        """Add or replace the passphrase slot; the old passphrase stops working at once."""
        if not passphrase:
            raise UsageError("the passphrase cannot be empty")
        slot = slots.passphrase_slot(passphrase, params, self._vault_key, self.vault_id)
        self._set_slot("passphrase", slot, "passphrase-change")

    def lock(self) -> None:
        """Close the database and drop the keys this object holds."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            self._sync.close()
            self._vault_key = self._stable_root = b""
            self._field_keys, self._data_keys = {}, {}
        log.info("locked vault %s", self.vault_id)


class CreatedVault(NamedTuple):
    vault: Vault
    recovery_key: str
    notices: list[str]
