"""BackupService: encrypted backups and imports from other tools, for the backup dialogs.

Every call here may take seconds (Argon2 on the backup password, thousands of secrets) and is
meant to run through :mod:`.worker`; ``progress`` callbacks are then called on the worker
thread, so the dialogs relay them to the GUI thread by signal. The backup modules are imported
on first use, not at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from echo_vault_app.gui.service import VaultService
from echo_vault_app.gui.signals import emit

if TYPE_CHECKING:
    from echo_vault_app.secrets.backup_merge import ImportPreview, ImportResult
    from echo_vault_app.secrets.foreign_import import ForeignImport
    from echo_vault_app.secrets.importers import ImportReport

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
MODES = ("merge", "skip", "replace-all")


@dataclass(frozen=True)
class ExportScope:
    """Which secrets go into a backup: everything, or those matching every criterion given."""

    names: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    query: str | None = None

    @property
    def everything(self) -> bool:
        return self.names is None and self.tags is None and not self.query


def foreign_formats() -> dict[str, str]:
    """Format key → description of every importable foreign format."""
    from echo_vault_app.secrets.importers import FORMATS

    return dict(FORMATS)


def guess_format(path: Path) -> str | None:
    """The likely format of an export file from its name, or None when unsure."""
    name = path.name.lower()
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return "dotenv"
    if name.endswith(".1pux"):
        return "1pux"
    if name.endswith(".xml"):
        return "keepassxc-xml"
    if name.endswith(".csv"):
        return "keepassxc-csv"
    if name.endswith(".json"):
        return "bitwarden-json"
    return None


def password_problem(password: str) -> str:
    """The library's reason a backup password is refused, or "" when it is accepted."""
    from echo_vault_app.errors import EchoVaultError
    from echo_vault_app.secrets.backup_format import check_backup_password

    try:
        check_backup_password(password)
    except EchoVaultError as exc:
        text = str(exc)
        return text[:1].upper() + text[1:] + "."
    return ""


class BackupService:
    """Export, preview, import and foreign import on the service's unlocked vault."""

    def __init__(self, service: VaultService) -> None:
        self.service = service

    def tags(self) -> list[str]:
        return [tag for tag, _count in self.service.manager.store.tags()]

    def export(
        self,
        path: Path,
        password: str,
        scope: ExportScope,
        *,
        force: bool = False,
        progress: Progress | None = None,
    ) -> int:
        """Write the backup; returns how many secrets it holds."""
        count = self.service.manager.export_secrets(
            path,
            password,
            names=scope.names,
            tags=scope.tags,
            query=scope.query or None,
            force=force,
            progress=progress,
        )
        log.info("exported backup with %d secrets", count)
        return count

    def preview(self, path: Path, password: str, mode: str) -> ImportPreview:
        return self.service.manager.preview_import(path, password, mode)

    def import_backup(
        self, path: Path, password: str, mode: str, *, progress: Progress | None = None
    ) -> ImportResult:
        return self.service.manager.import_secrets(path, password, mode=mode, progress=progress)

    def parse_foreign(self, fmt: str, path: Path, *, per_key: bool = False) -> ImportReport:
        from echo_vault_app.secrets.importers import parse_file

        return parse_file(fmt, Path(path), per_key=per_key)

    def preview_foreign(self, report: ImportReport, mode: str) -> ImportPreview:
        """What importing ``report`` would add, change or leave; writes nothing.

        Built from the library's public pieces (``to_record`` and the merge planner) inside a
        transaction that is rolled back, as ``preview_import`` does for backups. Entries whose
        names differ only in case are numbered by the real import but not here, so in that rare
        case the preview can name one entry fewer than the import adds.
        """
        import time

        from echo_vault_app.secrets import backup_merge
        from echo_vault_app.secrets.foreign_import import to_record
        from echo_vault_app.secrets.store import SecretStore

        warnings: list[str] = []
        records = [to_record(entry, warnings, time.time()) for entry in report.entries]
        vault = self.service.manager.vault
        with vault.read() as conn:
            conn.execute("BEGIN")
            try:
                _, preview = backup_merge.plan(SecretStore(vault), conn, records, mode)
            finally:
                conn.execute("ROLLBACK")
        preview.warnings = warnings
        return preview

    def import_foreign(self, report: ImportReport, mode: str, source: str) -> ForeignImport:
        from echo_vault_app.secrets.foreign_import import import_report

        manager = self.service.manager
        known = {t.id for t in manager.templates.all()}
        return import_report(manager.vault, report, mode, known_templates=known, source=source)

    def announce_change(self) -> None:
        """Tell the panes the secrets changed (call on the GUI thread after an import)."""
        emit(self.service.secrets_changed)
