"""VaultService: the one object widgets talk to for anything that touches the vault.

It owns the unlocked :class:`Vault` and its :class:`SecretsManager`, runs the slow steps
(Argon2 unlock, creation) through :mod:`.worker`, and announces state changes by signal.
Widgets get typed results from :mod:`.service_types` and never see a library object that can
decrypt; values leave the service only through ``reveal``/``copy_value``/``values_for_edit``,
each audited by the library.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from echo_vault_app import config
from echo_vault_app.core import keyring_slot
from echo_vault_app.core.folder import inspect
from echo_vault_app.errors import (
    KeyringError,
    ReadInterrupted,
    UnlockThrottled,
    VaultLocked,
    WrongPassphrase,
    WrongRecoveryKey,
)
from echo_vault_app.gui import worker
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.service_types import UnlockFailure, VaultStatus
from echo_vault_app.gui.signals import emit

if TYPE_CHECKING:
    # The vault core and the secrets package are imported when a vault is first opened or
    # created, off the GUI thread: the unlock window is painted before SQLCipher and the
    # cryptography bindings are loaded.
    from echo_vault_app.core.audit import AuditEvent, AuditVerification
    from echo_vault_app.core.vault import CreatedVault, Vault
    from echo_vault_app.gui.browser_types import Filter, Groups, SecretDetails
    from echo_vault_app.secrets.manager import SecretsManager
    from echo_vault_app.secrets.model import HistoryEntry, SecretSummary
    from echo_vault_app.secrets.templates import Template, TemplateRegistry

log = logging.getLogger(__name__)

RECENT_LIMIT = 8
LOAD_PAGE = 1000
PAGE_CACHE_MIB = 13
"""The browser keeps every summary; searches stay as fast with this much page cache.

Measured at 100,000 secrets (``benchmarks/bench_gui.py``): 13 MiB keeps peak memory at 148 MiB
(16 MiB gave 151 once summaries became named tuples, 16 bytes larger each) with keystroke
timings unchanged.
"""


class VaultService(QObject):
    """The unlocked vault (or none) behind the GUI.

    Args:
        folder: vault folder; default ``ECHO_VAULT_PATH`` or the user data folder.
        use_keyring: try and offer the OS keyring (``ECHO_VAULT_NO_KEYRING`` also turns it off).
        kdf_seconds: Argon2 tuning target when creating a vault (0 keeps the 64 MiB floor).
    """

    vault_unlocked = Signal()
    vault_locked = Signal()
    vault_created = Signal(str)  # the recovery key, to be shown once
    unlock_failed = Signal(object)  # UnlockFailure
    secrets_changed = Signal()
    templates_changed = Signal()

    def __init__(
        self, folder: Path | None = None, *, use_keyring: bool = True, kdf_seconds: float = 0.5
    ) -> None:
        super().__init__()
        self.folder = Path(folder) if folder else config.default_vault_path()
        self.use_keyring = use_keyring and not config.env_flag(config.ENV_NO_KEYRING, False)
        self.kdf_seconds = kdf_seconds
        self.notices: list[str] = []
        self._vault: Vault | None = None
        self._manager: SecretsManager | None = None
        self._recent: deque[str] = deque(maxlen=RECENT_LIMIT)
        self._busy = False
        self._lock_when_idle = False

    # -- state --------------------------------------------------------------------------

    @property
    def is_unlocked(self) -> bool:
        return self._manager is not None

    @property
    def is_busy(self) -> bool:
        return self._busy

    def set_busy(self, busy: bool) -> None:
        """Mark a long job (rotation) as running; a lock asked for meanwhile waits for its end.

        Locking would pull the keys from under the job's worker thread, so :meth:`lock` only
        notes the request while busy and carries it out when the job calls ``set_busy(False)``.
        """
        self._busy = busy
        if not busy and self._lock_when_idle:
            self._lock_when_idle = False
            self.lock()

    @property
    def manager(self) -> SecretsManager:
        if self._manager is None:
            raise VaultLocked("the vault is locked")
        return self._manager

    def status(self) -> VaultStatus:
        info = inspect(self.folder)
        return VaultStatus(
            self.folder,
            info.exists,
            "keyring" in info.slots,
            "env" in info.slots and bool(os.environ.get(config.ENV_MASTER_KEY)),
            "passphrase" in info.slots,
            info.retry_after,
        )

    # -- create, unlock, lock -----------------------------------------------------------

    def create(self, passphrase: str, *, use_keyring: bool) -> worker.Task:
        """Create the vault off the GUI thread; ``vault_created`` then carries the recovery key."""

        def work() -> CreatedVault:
            from echo_vault_app.core.vault import Vault

            return Vault.create(
                self.folder,
                passphrase=passphrase,
                use_keyring=use_keyring and self.use_keyring,
                kdf_seconds=self.kdf_seconds,
            )

        self._busy = True
        return worker.run_in_background(
            work, on_result=self._on_created, on_error=self._on_unlock_error, name="create"
        )

    def _on_created(self, created: CreatedVault) -> None:
        self._busy = False
        self._adopt(created.vault)
        emit(self.vault_created, created.recovery_key)
        emit(self.vault_unlocked)

    def unlock(
        self, *, passphrase: str | None = None, recovery_key: str | None = None
    ) -> worker.Task:
        """Unlock off the GUI thread; without a passphrase or key only the keyring is tried."""

        def work() -> Vault:
            from echo_vault_app.core.vault import Vault

            return Vault.open(
                self.folder,
                passphrase=passphrase,
                recovery_key=recovery_key,
                use_keyring=self.use_keyring,
            )

        self._busy = True
        return worker.run_in_background(
            work, on_result=self._on_opened, on_error=self._on_unlock_error, name="unlock"
        )

    def _on_opened(self, vault: Vault) -> None:
        self._busy = False
        self._adopt(vault)
        emit(self.vault_unlocked)

    def _adopt(self, vault: Vault) -> None:
        from echo_vault_app.secrets.manager import SecretsManager

        self._vault = vault
        vault.limit_page_cache(PAGE_CACHE_MIB)
        self._manager = SecretsManager(vault=vault)
        self._manager.vault.audit.actor = self._manager.vault.audit.actor.replace("lib:", "gui:")
        self.notices = list(vault.notices)
        log.info("unlocked vault %s through %s", vault.vault_id, vault.unlock_method)

    def _on_unlock_error(self, exc: BaseException) -> None:
        self._busy = False
        kinds = {
            UnlockThrottled: "throttled",
            WrongPassphrase: "wrong-passphrase",
            WrongRecoveryKey: "wrong-recovery-key",
            VaultLocked: "needs-passphrase",
            KeyringError: "keyring",
        }
        kind = next((k for cls, k in kinds.items() if isinstance(exc, cls)), "error")
        if kind == "error":
            log.error("unlock of %s failed with %s", self.folder, type(exc).__name__)
        retry = exc.retry_after if isinstance(exc, UnlockThrottled) else 0.0
        emit(self.unlock_failed, UnlockFailure(kind, describe(exc), retry))

    def lock(self) -> None:
        """Drop the keys; safe to call when already locked; deferred while a job runs."""
        if self._vault is None:
            return
        if self._busy and self._manager is not None:
            log.info("lock of vault %s deferred until the running job ends", self.folder)
            self._lock_when_idle = True
            return
        self._vault.lock()
        self._vault = self._manager = None
        self._recent.clear()
        emit(self.vault_locked)

    # -- browsing (metadata only) ---------------------------------------------------------

    def search(self, flt: Filter, *, limit: int | None = None) -> list[SecretSummary]:
        """Summaries matching the filter, by name; the FTS index does the matching.

        With ``limit`` only the first rows in name order come back (the vault walks its name
        index, so this stays fast at any size); safe to call from a worker thread.
        """
        query = flt.query.strip()
        if flt.special == "favourites":
            query = f"{query} is:favourite".strip()
        if flt.special == "expiring":
            rows = [s for s in self.manager.expiring() if self._matches_plain(s, flt)]
            rows.sort(key=lambda s: s.name.casefold())
            return rows[:limit] if limit is not None else rows
        if flt.prefix:
            from echo_vault_app.secrets.search import words as search_words

            # The name column narrows the search; the exact prefix test happens here.
            words = " ".join(f"name:{w}" for w in search_words(flt.prefix))
            rows = self.manager.store.summaries(f"{query} {words}".strip(), tag=flt.tag)
            start = flt.prefix.casefold() + "/"
            rows = [s for s in rows if s.name.casefold().startswith(start)]
            return rows[:limit] if limit is not None else rows
        return self.manager.store.summaries(query, tag=flt.tag, limit=limit)

    def search_after(
        self,
        flt: Filter,
        after: str,
        *,
        page: int = LOAD_PAGE,
        cancelled: Callable[[], bool] | None = None,
    ) -> list[SecretSummary]:
        """Every summary after the name ``after`` (in name order), read page by page.

        Meant for a worker thread: each page holds the vault's lock only briefly, so the GUI
        thread's own calls are never queued behind a 100,000-row read. Filters with a group
        prefix or a special view fall back to :meth:`search`.

        The whole vault comes in keyset pages on the name index
        (``SecretStore.summaries(after=…, limit=…)``), each as cheap as the first. A search
        runs once for the ids of its matches in name order, and the rows follow in pages by
        id: paging the search itself would repeat it, and its sort, for every page, holding the
        vault just when the user types the next letter. ``cancelled`` is asked between pages:
        a load that a newer filter superseded stops there, returning what it has, and
        :meth:`cut_background_reads` stops it inside a statement.
        """
        if flt.prefix or flt.special:
            rows = self.search(flt)
            folded = after.casefold()
            return [s for s in rows if s.name.casefold() > folded]
        result: list[SecretSummary] = []
        try:
            with self.manager.vault.yielding():
                self._read_after(flt, after, page, cancelled, result)
        except ReadInterrupted:
            log.debug("stopped loading summaries: a newer filter replaced them")
        return result

    def _read_after(
        self,
        flt: Filter,
        after: str,
        page: int,
        cancelled: Callable[[], bool] | None,
        result: list[SecretSummary],
    ) -> None:
        store = self.manager.store
        query = flt.query.strip()
        if query or flt.tag is not None:
            ids = store.matching_ids(query, tag=flt.tag, after=after)
            for start in range(0, len(ids), page):
                if cancelled is not None and cancelled():
                    return
                result.extend(store.summaries_by_id(ids[start : start + page]))
            return
        while cancelled is None or not cancelled():
            batch = store.summaries(query, tag=flt.tag, after=after, limit=page)
            result.extend(batch)
            if len(batch) < page:
                return
            after = batch[-1].name

    def cut_background_reads(self) -> None:
        """Stop a background load's running statement; the GUI thread's read is next in line."""
        if self._manager is not None:
            self._manager.vault.cut_yielding_reads()

    def _matches_plain(self, summary: SecretSummary, flt: Filter) -> bool:
        return not flt.query or flt.query.casefold() in summary.name.casefold()

    def groups(self) -> Groups:
        """Counts for the sidebar: path prefixes come from names, tags from the tag table."""
        from echo_vault_app.gui.browser_types import Groups

        store = self.manager.store
        prefixes: dict[str, int] = {}
        for name in store.names():
            head, sep, _ = name.partition("/")
            if sep:
                prefixes[head] = prefixes.get(head, 0) + 1
        favourites = len(store.summaries("is:favourite"))
        return Groups(
            store.count(),
            favourites,
            len(self.manager.expiring()),
            sorted(prefixes.items(), key=lambda item: item[0].casefold()),
            store.tags(),
        )

    def expiring(self, within_days: float = 3) -> list[SecretSummary]:
        return self.manager.expiring(within_days)

    def favourites(self) -> list[SecretSummary]:
        return self.manager.search("is:favourite")

    def recent(self) -> list[str]:
        return list(self._recent)

    def template(self, template_id: str) -> Template | None:
        try:
            return self.manager.templates.get(template_id)
        except Exception:
            return None

    def details(self, name: str) -> SecretDetails:
        """Metadata and non-secret field values; secret fields come back without values.

        The record is read with the store's unaudited read because nothing secret leaves this
        method: secret values are dropped here, and showing one goes through :meth:`reveal`,
        which the library audits.
        """
        from echo_vault_app.gui.browser_types import FieldView, SecretDetails

        secret = self.manager.store.get(name, audit=False)
        template = self.template(secret.summary.template)
        views = []
        for item in secret.fields:
            spec = None
            if template is not None:
                try:
                    spec = template.field(item.name)
                except KeyError:
                    spec = None
            plain = None
            if not item.secret:
                plain = item.value if isinstance(item.value, str) else "(binary)"
            views.append(
                FieldView(
                    item.name,
                    spec.label if spec else item.name,
                    item.secret,
                    spec.kind if spec else "text",
                    plain,
                )
            )
        return SecretDetails(
            secret.summary,
            template.name if template else secret.summary.template,
            secret.notes,
            tuple(views),
            template.username_field if template else None,
            template.primary_field if template else None,
        )

    # -- values (audited by the library) --------------------------------------------------

    def reveal(self, name: str, field: str | None = None) -> str:
        value = self.manager.reveal(name, field, action="reveal")
        return value if isinstance(value, str) else value.decode("utf-8", "replace")

    def copy_value(self, name: str, field: str | None = None) -> str:
        """The value to put on the clipboard, audited as a copy."""
        value = self.manager.reveal(name, field, action="copy")
        self._remember(name)
        return value if isinstance(value, str) else value.decode("utf-8", "replace")

    def copy_username(self, name: str) -> str | None:
        details = self.details(name)
        if details.username_field is None:
            return None
        for item in details.fields:
            if item.name == details.username_field:
                if item.value is not None:
                    self._remember(name)
                    return item.value
                return self.copy_value(name, item.name)
        return None

    def _remember(self, name: str) -> None:
        if name in self._recent:
            self._recent.remove(name)
        self._recent.appendleft(name)

    def values_for_edit(self, name: str) -> tuple[SecretSummary, str, dict[str, str]]:
        """Current values to fill the edit form (audited as a read named ``edit``)."""
        secret = self.manager.store.get(name, action="edit")
        values = {
            f.name: f.value if isinstance(f.value, str) else f.value.decode("utf-8", "replace")
            for f in secret.fields
        }
        return secret.summary, secret.notes, values

    # -- writing --------------------------------------------------------------------------

    def save(
        self,
        name: str,
        *,
        template: str,
        fields: Mapping[str, str],
        tags: Iterable[str] = (),
        notes: str = "",
        expires: float | None = None,
        expected_version: int | None = None,
        original_name: str | None = None,
        clear_expiry: bool = False,
    ) -> SecretSummary:
        """Create or update; a rename of an existing secret happens before the write.

        ``expires=None`` keeps the current expiry; ``clear_expiry`` removes it.
        """
        manager = self.manager
        if original_name and original_name != name:
            manager.store.rename(original_name, name)
        summary = manager.store_secret(
            name,
            fields=dict(fields),
            template=template,
            tags=list(tags),
            notes=notes,
            expires=expires,
            expected_version=expected_version,
            clear_expiry=clear_expiry,
        )
        emit(self.secrets_changed)
        return summary

    def set_favourite(self, name: str, favourite: bool) -> None:
        self.manager.store.set_favourite(name, favourite)
        emit(self.secrets_changed)

    def delete(self, name: str) -> bool:
        deleted = self.manager.delete_secret(name)
        emit(self.secrets_changed)
        return deleted

    def undo_delete(self, name: str) -> SecretSummary:
        summary = self.manager.restore_from_trash(name)
        emit(self.secrets_changed)
        return summary

    def history(self, name: str) -> list[HistoryEntry]:
        return self.manager.history(name)

    def restore_version(self, name: str, version: int) -> SecretSummary:
        summary = self.manager.restore_version(name, version)
        emit(self.secrets_changed)
        return summary

    # -- templates ------------------------------------------------------------------------

    def templates(self) -> TemplateRegistry:
        return self.manager.templates

    def templates_folder(self) -> Path:
        return self.folder / "templates"

    def reload_templates(self) -> TemplateRegistry:
        registry = self.manager.reload_templates()
        emit(self.templates_changed)
        return registry

    # -- audit ----------------------------------------------------------------------------

    def audit_events(self, *, limit: int | None = None) -> list[AuditEvent]:
        return self.manager.audit_events(limit=limit, newest_first=True)

    def audit_verify(self) -> AuditVerification:
        return self.manager.audit_verify()

    def record_event(self, action: str, target: str | None = None, **detail: object) -> None:
        if self._manager is not None:
            self._manager.record_event(action, target, **detail)

    # -- vault settings -------------------------------------------------------------------

    def history_depth(self) -> int:
        return self.manager.store.history_depth()

    def set_history_depth(self, depth: int) -> None:
        self.manager.store.set_history_depth(depth)

    def keyring_available(self) -> tuple[bool, str]:
        """Whether a trusted OS keyring can be used, and if not, why (one line)."""
        if not self.use_keyring:
            return False, "keyring use is switched off"
        try:
            keyring_slot.find_backend()
        except KeyringError as exc:
            return False, str(exc)
        return True, ""

    def keyring_sealed(self) -> bool:
        return self._vault is not None and "keyring" in self._vault.keyfile.slots

    def set_keyring_sealed(self, sealed: bool) -> None:
        """Keep the vault key in the OS keyring, or take it out.

        The library removes the slot before the keyring entry, so a failure to delete the
        entry leaves one that opens nothing rather than a slot without an entry.
        """
        vault = self.manager.vault
        if sealed:
            vault.seal_keyring()
        elif "keyring" in vault.keyfile.slots:
            vault.forget_keyring()
