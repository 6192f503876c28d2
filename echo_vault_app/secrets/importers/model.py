"""The neutral shape every importer produces, and helpers they share.

An import never loses data silently: what lands becomes an :class:`ImportedEntry`; what has no
place in Echo Vault is listed in :attr:`ImportReport.unmapped` with the reason, so the user can
see exactly what did not come across before anything is written to the vault.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from echo_vault_app.errors import ValidationError

MAX_IMPORT_BYTES = 64 * 1024 * 1024
_PRIVATE_KEY_MARKERS = ("-----BEGIN OPENSSH PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----")


@dataclass
class ImportedField:
    """One named value; ``secret`` values are hidden and sealed, others are shown."""

    name: str
    value: str = field(repr=False)
    secret: bool


@dataclass
class ImportedVersion:
    """An earlier state of an entry, oldest first in :attr:`ImportedEntry.history`."""

    fields: list[ImportedField]
    modified: datetime | None = None


@dataclass
class ImportedEntry:
    """One secret to create; ``name`` is path-like (``group/sub/title``) and unique per import."""

    name: str
    template: str
    fields: list[ImportedField] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    notes: str = field(default="", repr=False)
    url: str | None = None
    history: list[ImportedVersion] = field(default_factory=list)
    expires: datetime | None = None
    created: datetime | None = None
    modified: datetime | None = None

    def add_field(self, name: str, value: str, *, secret: bool) -> None:
        """Append a field, renaming it ``name (2)`` etc. when the name is taken."""
        taken = {f.name for f in self.fields}
        self.fields.append(ImportedField(_unique(name or "field", taken), value, secret))


@dataclass
class Unmapped:
    """Something the source held that Echo Vault did not import, and why."""

    entry: str
    field: str
    reason: str


@dataclass
class ImportReport:
    """Everything one file yielded: entries to create, what was left out, and warnings."""

    format: str
    entries: list[ImportedEntry] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, entry: ImportedEntry) -> ImportedEntry:
        """Add ``entry`` under a name no earlier entry uses (``title (2)``, ``title (3)``...)."""
        original = entry.name
        entry.name = _unique(entry.name, {e.name for e in self.entries})
        if entry.name != original:
            self.warnings.append(f"two entries are named {original!r}; one became {entry.name!r}")
        self.entries.append(entry)
        return entry

    def skip(self, entry: str, what: str, reason: str) -> None:
        self.unmapped.append(Unmapped(entry, what, reason))


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name} ({number})" in taken:
        number += 1
    return f"{name} ({number})"


def entry_name(groups: list[str], title: str) -> str:
    """Join a group path and a title; a ``/`` inside one part becomes ``-`` so depth is kept."""
    parts = [p.strip().replace("/", "-") for p in groups if p and p.strip()]
    parts.append((title or "").strip().replace("/", "-") or "untitled")
    return "/".join(parts)


def guess_template(fields: list[ImportedField], notes: str = "") -> str:
    """Pick the closest Echo Vault template from the fields an entry has."""
    names = {f.name for f in fields if f.value}
    if any(any(m in f.value for m in _PRIVATE_KEY_MARKERS) for f in fields if f.secret):
        return "ssh_key"
    if "password" in names:
        return "basic_auth"
    if names == {"totp"}:
        return "totp"
    return "note"


def read_limited(path: Path, max_bytes: int = MAX_IMPORT_BYTES) -> bytes:
    """Read a whole regular file no bigger than ``max_bytes``.

    Raises:
        ValidationError: missing, not a regular file, unreadable or too big.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ValidationError("import file does not exist") from None
    except OSError as exc:
        raise ValidationError(f"cannot open import file: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ValidationError("import path is not a regular file")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationError(f"import file is larger than {max_bytes // (1024 * 1024)} MiB")
    return data


def decode_text(data: bytes, what: str) -> str:
    """Decode UTF-8 (with or without a byte-order mark) or fail with a clear message."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{what} is not UTF-8 text") from None


def parse_iso(text: str | None) -> datetime | None:
    """Parse an ISO 8601 time as the exporters write it; naive times are taken as UTC."""
    if not text or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def from_unix(seconds: object) -> datetime | None:
    """Turn a Unix timestamp (seconds) into an aware datetime, ignoring junk."""
    if type(seconds) not in (int, float) or not 0 < seconds < 2**37:
        return None
    return datetime.fromtimestamp(seconds, UTC)
