"""SecretsManager: the library's front door to the vault's secrets.

It keeps the calls of the original specification working as written (``store_secret``,
``get_secret``, ``export_secrets`` …) on top of the typed store, and adds the calls the desktop
app, the CLI and the REST API need. ``SecretsManager()`` with no arguments opens the default
vault through the unlock order, creating it on first use.
"""

from __future__ import annotations

import getpass
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from echo_vault_app import config
from echo_vault_app.core.audit import AuditEvent, AuditVerification
from echo_vault_app.core.vault import Vault, vault_exists
from echo_vault_app.errors import KeyringError, SecretNotFound, UsageError, VaultLocked
from echo_vault_app.secrets.model import FieldValue, HistoryEntry, Secret, SecretSummary, Value
from echo_vault_app.secrets.store import SecretStore, primary_field
from echo_vault_app.secrets.templates import (
    Template,
    TemplateRegistry,
    load_builtin,
    load_templates,
)

if TYPE_CHECKING:  # rotation and backups are imported when used: the CLI's `get` needs neither
    from echo_vault_app.core.rotation import RotationResult
    from echo_vault_app.secrets.backup_merge import ImportPreview, ImportResult

log = logging.getLogger(__name__)

GENERIC_TEMPLATE = "generic"


def _announce_recovery_key(folder: Path, recovery_key: str) -> None:
    print(
        f"Echo Vault created a new vault in {folder}.\n"
        f"Recovery key (shown once; store it somewhere safe, it opens the vault if every other"
        f" way fails):\n  {recovery_key}",
        file=sys.stderr,
    )


def _timestamp(value: float | datetime | None) -> float | None:
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.timestamp()
    raise UsageError("expiry must be a datetime or a POSIX timestamp")


class SecretsManager:
    """Named secrets in one vault.

    Args:
        path: vault folder; default ``ECHO_VAULT_PATH`` or the user data folder.
        vault: an already unlocked :class:`Vault` to use instead of opening one.
        passphrase, recovery_key, master_key: unlock secrets, tried in the unlock order after
            ``ECHO_VAULT_MASTER_KEY`` and the keyring.
        create: create the vault when the folder has none (the recovery key is handed to
            ``on_created``, which prints it once to stderr by default).
        prompt: ask for a passphrase on the terminal when nothing else unlocks.

    Raises:
        VaultLocked, WrongPassphrase, VaultDamaged, … from :mod:`echo_vault_app.errors`.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        vault: Vault | None = None,
        passphrase: str | None = None,
        recovery_key: str | None = None,
        master_key: str | None = None,
        use_keyring: bool = True,
        create: bool = True,
        prompt: bool | None = None,
        on_created: Callable[[Path, str], None] | None = _announce_recovery_key,
    ) -> None:
        if vault is None:
            vault = self._unlock(
                Path(path) if path else config.default_vault_path(),
                passphrase=passphrase,
                recovery_key=recovery_key,
                master_key=master_key,
                use_keyring=use_keyring,
                create=create,
                prompt=sys.stdin.isatty() if prompt is None else prompt,
                on_created=on_created,
            )
        self.vault = vault
        self.store = SecretStore(vault)
        self._templates: TemplateRegistry | None = None
        self._primaries: _PrimaryFields | None = None

    @staticmethod
    def _unlock(folder: Path, *, prompt: bool, create: bool, on_created: Any, **keys: Any) -> Vault:
        if not vault_exists(folder):
            if not create:
                return Vault.open(folder)  # raises VaultNotFound with the right message
            passphrase = keys["passphrase"]
            try:
                created = Vault.create(
                    folder,
                    passphrase=passphrase,
                    master_key=keys["master_key"],
                    use_keyring=keys["use_keyring"],
                )
            except UsageError:
                if not prompt:
                    raise
                passphrase = getpass.getpass("New Echo Vault passphrase: ")
                created = Vault.create(folder, passphrase=passphrase, use_keyring=False)
            if on_created:
                on_created(folder, created.recovery_key)
            return created.vault
        try:
            return Vault.open(folder, **keys)
        except (VaultLocked, KeyringError):
            if not prompt:
                raise
            keys["passphrase"] = getpass.getpass("Echo Vault passphrase: ")
            return Vault.open(folder, **keys)

    # -- templates ----------------------------------------------------------------------

    @property
    def templates(self) -> TemplateRegistry:
        if self._templates is None:
            self._templates = load_templates(self.vault.folder / "templates")
            for problem in self._templates.problems:
                log.warning("skipped template %s: %s", problem.path, problem.message)
        return self._templates

    def reload_templates(self) -> TemplateRegistry:
        self._templates = self._primaries = None
        return self.templates

    def template_for(self, secret: Secret | SecretSummary) -> Template | None:
        summary = secret.summary if isinstance(secret, Secret) else secret
        try:
            return self.templates.get(summary.template)
        except Exception:
            return None

    # -- writing ------------------------------------------------------------------------

    def store_secret(
        self,
        name: str,
        value: Value | None = None,
        *,
        fields: Mapping[str, Value] | None = None,
        template: str | None = None,
        tags: Iterable[str] | None = None,
        notes: str | None = None,
        expires: float | datetime | None = None,
        favourite: bool | None = None,
        expected_version: int | None = None,
        clear_expiry: bool = False,
    ) -> SecretSummary:
        """Store a single value (``store_secret(name, value)``) or a template's fields.

        Fields are checked against the template and sealed one by one; the version replaced
        goes to history. ``expected_version`` makes it a check-and-set write.
        """
        if (value is None) == (fields is None):
            raise UsageError("give either a value or fields")
        template_id = template or GENERIC_TEMPLATE
        values: Mapping[str, Value] = {"value": value} if fields is None else fields  # type: ignore[dict-item]
        if template is None and fields is not None:
            template_id = GENERIC_TEMPLATE
        spec = self.templates.get(template_id)
        clean = self.templates.validate(template_id, values)
        items = [FieldValue(k, v, spec.is_secret(k)) for k, v in clean.items()]
        return self.store.put(
            name,
            items,
            template=template_id,
            tags=tags,
            notes=notes,
            expires=_timestamp(expires),
            favourite=favourite,
            expected_version=expected_version,
            clear_expiry=clear_expiry,
        )

    def delete_secret(self, name: str) -> bool:
        """Move a secret to the trash; False when there was none of that name."""
        try:
            self.store.trash(name)
        except SecretNotFound:
            return False
        return True

    # -- reading ------------------------------------------------------------------------

    def get(self, name: str) -> Secret:
        """The whole secret with decrypted fields (audited as a read); raises SecretNotFound."""
        return self.store.get(name)

    def get_secret(self, name: str, field: str | None = None, default: Any = None) -> Any:
        """The value of ``field`` (or the template's primary field), or ``default``."""
        try:
            return self.reveal(name, field, action="read")
        except (SecretNotFound, KeyError):
            return default

    def reveal(self, name: str, field: str | None = None, *, action: str = "reveal") -> Value:
        """A value shown or copied by a person; audited under ``action`` (reveal, copy)."""
        primaries = self._primary_fields()
        secret = self.store.get(name, action=action, field=field, primary=primaries)
        if field is not None:
            return secret.field(field).value
        chosen = primary_field(secret, primaries)
        if chosen is None:
            raise SecretNotFound(f"secret {secret.name!r} has no fields")
        return chosen.value

    def _primary_fields(self) -> Mapping[str, str]:
        if self._primaries is None:
            self._primaries = _PrimaryFields(self)
        return self._primaries

    def username_of(self, secret: Secret) -> Value | None:
        template = self.template_for(secret)
        if template is None or template.username_field is None:
            return None
        try:
            return secret.field(template.username_field).value
        except KeyError:
            return None

    def list_secrets(self, tag: str | None = None, prefix: str | None = None) -> list[str]:
        return self.store.names(tag=tag, prefix=prefix)

    def search(self, query: str, *, limit: int | None = None) -> list[SecretSummary]:
        return self.store.summaries(query, limit=limit)

    def summaries(self, *, tag: str | None = None) -> list[SecretSummary]:
        return self.store.summaries("", tag=tag)

    def expiring(self, within_days: float = 3) -> list[SecretSummary]:
        return self.store.expiring(within_days * 24 * 3600)

    def history(self, name: str) -> list[HistoryEntry]:
        return self.store.history(name)

    def restore_version(self, name: str, version: int) -> SecretSummary:
        return self.store.restore_version(name, version)

    def trash(self) -> list[SecretSummary]:
        return self.store.trashed()

    def restore_from_trash(self, name: str) -> SecretSummary:
        return self.store.restore(name)

    def empty_trash(self, name: str | None = None) -> int:
        return self.store.empty_trash(name)

    # -- audit --------------------------------------------------------------------------

    def audit_verify(self) -> AuditVerification:
        with self.vault.read() as conn:
            return self.vault.audit.verify(conn)

    def audit_events(self, **filters: Any) -> list[AuditEvent]:
        with self.vault.read() as conn:
            return self.vault.audit.events(conn, **filters)

    def audit_find_value(self, value: Value) -> list[AuditEvent]:
        """Events that wrote or read this exact value, found by its keyed hash."""
        return self.audit_events(value_hash=self.vault.audit.value_hash(value))

    def rotate_master_key(self, progress: Any = None) -> RotationResult:
        """Replace the data key (see :mod:`echo_vault_app.core.rotation`); unlocking is unchanged.

        Every way of unlocking keeps working, values are re-sealed under the new key, and a
        crash at any step leaves a vault that opens with everything committed.
        """
        from echo_vault_app.core.rotation import rotate_data_key

        return rotate_data_key(self.vault, progress)

    def record_event(self, action: str, target: str | None = None, **detail: Any) -> None:
        """Audit an action taken outside the store (a clipboard clear, a CLI run …)."""
        with self.vault.transaction() as tx:
            self.vault.audit.record(tx, action, target, detail=detail or None)

    # -- lifecycle ----------------------------------------------------------------------

    def lock(self) -> None:
        self.vault.lock()

    close = lock

    def __enter__(self) -> SecretsManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock()

    # -- backups ------------------------------------------------------------------------

    def export_secrets(
        self,
        path: str | Path,
        password: str,
        *,
        names: Iterable[str] | None = None,
        tags: Iterable[str] | None = None,
        query: str | None = None,
        force: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> int:
        """Write an encrypted backup (all live secrets, or those chosen); returns the count.

        Raises:
            WeakPassword, Conflict (file exists without ``force``), BackupError, SecretNotFound.
        """
        from echo_vault_app.secrets.backup import export_backup

        return export_backup(
            self.vault, Path(path), password, names=names, tags=tags, query=query, force=force,
            progress=progress,
        )  # fmt: skip

    def import_secrets(
        self,
        path: str | Path,
        password: str,
        *,
        mode: str = "merge",
        progress: Callable[[str, int, int], None] | None = None,
    ) -> ImportResult:
        """Restore a backup under ``mode`` (merge, skip or replace-all); all or nothing.

        Raises:
            BackupWrongPassword, BackupCorrupted, BackupVersionUnsupported, BackupError.
        """
        from echo_vault_app.secrets.backup import import_backup

        known = {t.id for t in self.templates.all()}
        return import_backup(
            self.vault, Path(path), password, mode, known_templates=known, progress=progress
        )

    def preview_import(self, path: str | Path, password: str, mode: str = "merge") -> ImportPreview:
        """What :meth:`import_secrets` would do, without writing anything."""
        from echo_vault_app.secrets.backup import preview_import

        known = {t.id for t in self.templates.all()}
        return preview_import(self.vault, Path(path), password, mode, known_templates=known)


class _PrimaryFields(Mapping[str, str]):
    """Template id → primary field, reading no more templates than a lookup needs.

    A built-in's entry comes from its own file (:func:`load_builtin`); any other id, and
    iterating, load the whole registry once, as reveal did for every call before.
    """

    def __init__(self, manager: SecretsManager) -> None:
        self._manager = manager
        self._fields: dict[str, str] = {}
        self._complete = False

    def __getitem__(self, template_id: str) -> str:
        if template_id not in self._fields and not self._complete:
            builtin = load_builtin(template_id) if self._manager._templates is None else None
            if builtin is not None:
                self._fields[template_id] = builtin.primary_field
            else:
                self._load_all()
        return self._fields[template_id]

    def __iter__(self) -> Iterator[str]:
        self._load_all()
        return iter(self._fields)

    def __len__(self) -> int:
        self._load_all()
        return len(self._fields)

    def _load_all(self) -> None:
        if not self._complete:
            self._fields = {t.id: t.primary_field for t in self._manager.templates.all()}
            self._complete = True
