"""Bring secrets in from files other tools export, with a report of everything not mapped.

Every parser is pure: it reads one file and returns an :class:`ImportReport` without touching
the vault, so the user can review entries, unmapped items and warnings before anything is
written. Errors are one line and never contain a value from the file.
"""

from __future__ import annotations

from pathlib import Path

from echo_vault_app.errors import UsageError
from echo_vault_app.secrets.importers import bitwarden, dotenv, keepass_csv, keepass_xml
from echo_vault_app.secrets.importers import onepassword as _onepassword
from echo_vault_app.secrets.importers.model import (
    ImportedEntry,
    ImportedField,
    ImportedVersion,
    ImportReport,
    Unmapped,
)

FORMATS: dict[str, str] = {
    "dotenv": ".env file (KEY=value lines)",
    "keepassxc-xml": "KeePassXC XML export",
    "keepass-xml": "KeePass 2 XML export",
    "keepassxc-csv": "KeePassXC CSV export",
    "bitwarden-json": "Bitwarden unencrypted JSON export",
    "1pux": "1Password unencrypted export (.1pux)",
}

__all__ = [
    "FORMATS",
    "ImportReport",
    "ImportedEntry",
    "ImportedField",
    "ImportedVersion",
    "Unmapped",
    "parse_file",
]


def parse_file(
    fmt: str, path: Path, *, name: str | None = None, per_key: bool = False
) -> ImportReport:
    """Parse ``path`` as format ``fmt`` (a key of :data:`FORMATS`).

    Args:
        fmt: the source format.
        path: the exported file.
        name: for ``dotenv`` only, the entry name (default: the file's stem).
        per_key: for ``dotenv`` only, one entry per variable instead of one for the file.

    Raises:
        UsageError: unknown format, or dotenv-only options given for another format.
        ValidationError: the file is missing, too big or malformed (one line, no values).
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown import format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt != "dotenv" and (name is not None or per_key):
        raise UsageError("name and per_key apply to the dotenv format only")

    path = Path(path)
    if fmt == "dotenv":
        return dotenv.parse(path, name=name, per_key=per_key)
    if fmt in ("keepassxc-xml", "keepass-xml"):
        return keepass_xml.parse(path, fmt)
    if fmt == "keepassxc-csv":
        return keepass_csv.parse(path)
    if fmt == "bitwarden-json":
        return bitwarden.parse(path)
    return _onepassword.parse(path)
