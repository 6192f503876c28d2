"""Bring another tool's export into the vault: parsed entries become secrets with history.

The parsers in :mod:`importers` say what a file holds; this module fits each entry to what the
vault accepts and writes them all in one transaction under a conflict mode (see
:mod:`backup_merge`). Whatever has to be adjusted on the way (a name the vault refuses, a tag
with spaces, an overlong field name, a note-only entry) is adjusted and said in a warning; what
cannot come in at all is added to the report's ``unmapped`` list. Nothing is dropped silently.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import InvalidName
from echo_vault_app.secrets.backup import import_records
from echo_vault_app.secrets.backup_merge import ImportResult, SecretRecord, fold
from echo_vault_app.secrets.importers import (
    ImportedEntry,
    ImportedField,
    ImportReport,
    parse_file,
)
from echo_vault_app.secrets.model import (
    MAX_NOTES_LENGTH,
    MAX_TAG_LENGTH,
    FieldValue,
    HistoryEntry,
    normalize_name,
    normalize_tags,
)

MAX_FIELD_NAME = 128


@dataclass
class ForeignImport:
    """The parser's report (entries, unmapped items, warnings) and what the vault did."""

    report: ImportReport
    result: ImportResult

    def as_json(self) -> dict:
        return {
            "format": self.report.format,
            "added": self.result.added,
            "changed": self.result.changed,
            "conflicts": self.result.conflicts,
            "skipped": self.result.skipped,
            "unchanged": self.result.unchanged,
            "unmapped": [
                {"entry": u.entry, "field": u.field, "reason": u.reason}
                for u in self.report.unmapped
            ],
            "warnings": self.report.warnings + self.result.warnings,
        }


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _fix_name(name: str) -> str:
    cleaned = "".join(
        ch for ch in unicodedata.normalize("NFC", name)
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )  # fmt: skip
    parts = [p.strip() for p in cleaned.split("/")]
    parts = [p if p not in (".", "..") else p.replace(".", "_") for p in parts if p]
    return "/".join(parts)[:512].strip() or "untitled"


def _fix_tag(tag: str) -> str:
    text = "".join("-" if ch.isspace() or ch == "," else ch for ch in tag.strip())
    return text[:MAX_TAG_LENGTH]


def _tags(entry: ImportedEntry, warnings: list[str]) -> tuple[str, ...]:
    fixed: list[str] = []
    for tag in entry.tags:
        if not tag or not tag.strip():
            continue
        try:
            fixed.extend(normalize_tags([tag]))
        except InvalidName:
            new = _fix_tag(tag)
            warnings.append(f"{entry.name}: tag {tag!r} became {new!r}")
            fixed.append(new)
    return normalize_tags(fixed)


def _fields(entry_name: str, items: list[ImportedField], warnings: list[str]) -> list[FieldValue]:
    result: list[FieldValue] = []
    taken: set[str] = set()
    for item in items:
        name = item.name[:MAX_FIELD_NAME] or "field"
        number = 2
        while name in taken:
            name = f"{item.name[: MAX_FIELD_NAME - 8]} ({number})"
            number += 1
        if name != item.name:
            warnings.append(f"{entry_name}: field {item.name[:40]!r} became {name!r}")
        value: str | bytes = item.value
        try:
            item.value.encode("utf-8")
        except UnicodeEncodeError:
            value = item.value.encode("utf-8", "surrogatepass")
            warnings.append(f"{entry_name}: field {name!r} is not valid Unicode; kept as bytes")
        taken.add(name)
        result.append(FieldValue(name, value, item.secret))
    return result


def to_record(entry: ImportedEntry, warnings: list[str], now: float) -> SecretRecord:
    """Fit one parsed entry to the vault's rules, saying in ``warnings`` what was adjusted."""
    try:
        name = normalize_name(entry.name)
    except InvalidName:
        name = _fix_name(entry.name)
        warnings.append(f"entry {entry.name[:80]!r} was renamed {name!r} (the vault refused it)")
    tags = _tags(entry, warnings)
    notes = entry.notes or ""
    fields = _fields(name, entry.fields, warnings)
    if len(notes) > MAX_NOTES_LENGTH:
        fields.append(FieldValue("notes (long)", notes, True))
        warnings.append(f"{name}: notes over 1 MiB were kept in the field 'notes (long)'")
        notes = ""
    if not fields:
        fields = [FieldValue("note", notes, True)]
        notes = ""

    updated = _ts(entry.modified) or now
    created = _ts(entry.created) or updated
    history: list[HistoryEntry] = []
    for index, version in enumerate(entry.history):
        old_fields = _fields(f"{name} (history {index + 1})", version.fields, warnings)
        if not old_fields:
            warnings.append(f"{name}: history version {index + 1} had no fields; left out")
            continue
        saved = _ts(version.modified) or min(created, updated)
        history.append(
            HistoryEntry(len(history) + 1, saved, entry.template, tags, "", None, tuple(old_fields))
        )
    return SecretRecord(
        name=name,
        template=entry.template,
        tags=tags,
        notes=notes,
        created=created,
        updated=updated,
        expires=_ts(entry.expires),
        favourite=False,
        version=len(history) + 1,
        fields=tuple(fields),
        history=tuple(history),
    )


def _unique(records: list[SecretRecord], warnings: list[str]) -> list[SecretRecord]:
    """Names that differ only in ASCII case are one name in the vault: number the later ones."""
    seen: set[str] = set()
    result = []
    for record in records:
        name, number = record.name, 2
        while fold(name) in seen:
            name = f"{record.name} ({number})"
            number += 1
        if name != record.name:
            warnings.append(f"entry {record.name!r} became {name!r} (same name in other case)")
            record = SecretRecord(**{**vars(record), "name": name})
        seen.add(fold(name))
        result.append(record)
    return result


def import_report(
    vault: Vault,
    report: ImportReport,
    mode: str = "merge",
    *,
    known_templates: set[str] | None = None,
    source: str | None = None,
) -> ForeignImport:
    """Write a parsed report's entries into the vault in one transaction under ``mode``."""
    warnings: list[str] = []
    now = time.time()
    records = _unique([to_record(e, warnings, now) for e in report.entries], warnings)
    if known_templates is not None:
        for record in records:
            if record.template not in known_templates:
                warnings.append(f"{record.name}: template {record.template!r} is not known here")
    result = import_records(vault, records, mode, warnings=warnings, action="import", source=source)
    return ForeignImport(report, result)


def import_file(
    vault: Vault,
    fmt: str,
    path: Path,
    mode: str = "merge",
    *,
    name: str | None = None,
    per_key: bool = False,
    known_templates: set[str] | None = None,
) -> ForeignImport:
    """Parse ``path`` as ``fmt`` and import it; see :func:`importers.parse_file`."""
    report = parse_file(fmt, Path(path), name=name, per_key=per_key)
    return import_report(
        vault, report, mode, known_templates=known_templates, source=f"{fmt}:{Path(path).name}"
    )
