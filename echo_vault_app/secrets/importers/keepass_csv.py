"""Import KeePassXC CSV exports.

KeePassXC writes ``"Group","Title","Username","Password","URL","Notes","TOTP","Icon",
"Last Modified","Created"``; older versions write fewer columns. Columns are found by header
name, so any subset in any order is read. The first part of the group path is the database's
root group and is dropped. Unknown columns become non-secret fields (and a warning); the Icon
column is ignored by design. CSV carries no history, attachments or custom fields: export XML
to keep those. A single cell is limited to the csv module's default of 128 KiB characters
(the process-wide limit is deliberately left alone); a longer cell is refused with an error.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from echo_vault_app.errors import ValidationError
from echo_vault_app.secrets.importers.model import (
    ImportedEntry,
    ImportReport,
    decode_text,
    entry_name,
    guess_template,
    parse_iso,
    read_limited,
)

_KNOWN = {"Group", "Title", "Username", "Password", "URL", "Notes", "TOTP", "Icon"}
_TIMES = {"Last Modified", "Created"}


def parse(path: Path) -> ImportReport:
    """Parse a KeePassXC CSV export; see the module docstring."""
    text = decode_text(read_limited(path), "KeePassXC CSV export")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ValidationError(f"KeePassXC CSV export is malformed: {exc}") from None
    if not rows or "Title" not in rows[0]:
        raise ValidationError("not a KeePassXC CSV export (no header row with a Title column)")

    header = rows[0]
    if len(set(header)) != len(header):
        raise ValidationError("KeePassXC CSV header repeats a column name")
    report = ImportReport(format="keepassxc-csv")
    extra = [h for h in header if h not in _KNOWN | _TIMES]
    if extra:
        report.warnings.append(f"unknown columns kept as plain fields: {', '.join(extra)}")

    for number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        if len(row) != len(header):
            raise ValidationError(
                f"row {number} of the CSV has {len(row)} columns; the header has {len(header)}"
            )
        _row(dict(zip(header, row, strict=True)), extra, report)
    return report


def _row(row: dict[str, str], extra: list[str], report: ImportReport) -> None:
    groups = [g for g in row.get("Group", "").split("/") if g][1:]
    entry = ImportedEntry(name=entry_name(groups, row.get("Title", "")), template="note")
    if row.get("Username"):
        entry.add_field("username", row["Username"], secret=False)
    if row.get("Password"):
        entry.add_field("password", row["Password"], secret=True)
    if row.get("URL"):
        entry.url = row["URL"]
        entry.add_field("url", row["URL"], secret=False)
    if row.get("TOTP"):
        entry.add_field("totp", row["TOTP"], secret=True)
    for column in extra:
        if row[column]:
            entry.add_field(column, row[column], secret=False)

    entry.notes = row.get("Notes", "")
    entry.tags = ["/".join(groups)] if groups else []
    entry.modified = parse_iso(row.get("Last Modified"))
    entry.created = parse_iso(row.get("Created"))
    entry.template = guess_template(entry.fields, entry.notes)
    report.add(entry)
