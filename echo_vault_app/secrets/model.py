"""Plain data carried between the secrets store and its callers.

Summaries never hold values: they are what listing, searching and the browser's model see.
Only :class:`Secret` (from get, reveal, copy) carries decrypted fields.

The records are named tuples rather than dataclasses: building a dataclass generates and
compiles its methods when the module is imported (and imports ``inspect``), and the twenty
records on the path of a CLI call, here and in the core, cost every call of ``echo-vault-cli``
10–20 ms that way (``benchmarks/README.md``).
"""

import unicodedata
from datetime import UTC, datetime
from typing import Any, NamedTuple

from echo_vault_app.errors import InvalidName

MAX_NAME_LENGTH = 512
MAX_FIELD_BYTES = 64 * 1024 * 1024
MAX_TAG_LENGTH = 128
MAX_NOTES_LENGTH = 1024 * 1024

Value = str | bytes


class FieldValue(NamedTuple):
    name: str
    value: Value
    secret: bool = True

    @property
    def is_binary(self) -> bool:
        return isinstance(self.value, bytes)

    def __repr__(self) -> str:
        # A secret logged or shown in a traceback by mistake must not carry its value along.
        hidden = f"<{len(self.value)} hidden>"
        return f"FieldValue(name={self.name!r}, value={hidden}, secret={self.secret})"


class SecretSummary(NamedTuple):
    id: int
    name: str
    template: str
    tags: tuple[str, ...]
    created: float
    updated: float
    expires: float | None
    version: int
    favourite: bool
    deleted: float | None = None


class Secret(NamedTuple):
    summary: SecretSummary
    notes: str
    fields: tuple[FieldValue, ...] = ()

    @property
    def name(self) -> str:
        return self.summary.name

    @property
    def version(self) -> int:
        return self.summary.version

    def field(self, name: str) -> FieldValue:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(name)

    def values(self) -> dict[str, Value]:
        return {item.name: item.value for item in self.fields}


class HistoryEntry(NamedTuple):
    version: int
    saved: float
    template: str
    tags: tuple[str, ...]
    notes: str
    expires: float | None
    fields: tuple[FieldValue, ...]


def normalize_name(name: object) -> str:
    """Check a secret name and return its NFC form; names are paths like ``stripe/api_key``.

    >>> normalize_name("stripe/api_key")
    'stripe/api_key'
    """
    if not isinstance(name, str):
        raise InvalidName("a secret name must be text")
    name = unicodedata.normalize("NFC", name)
    if not name:
        raise InvalidName("a secret name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(f"a secret name can have at most {MAX_NAME_LENGTH} characters")
    if name != name.strip():
        raise InvalidName("a secret name cannot start or end with spaces")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        raise InvalidName("a secret name cannot contain control or invisible characters")
    if name.startswith("/") or name.endswith("/") or "//" in name:
        raise InvalidName("a secret name cannot have an empty path part ('/' at an end or '//')")
    if any(part in (".", "..") for part in name.split("/")):
        raise InvalidName("a secret name cannot have '.' or '..' as a path part")
    return name


def name_key(name: str) -> str:
    """What makes two names the same secret: NFC and full Unicode case folding.

    >>> name_key("Äpfel/Key") == name_key("äpfel/key")
    True
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def normalize_tags(tags: object) -> tuple[str, ...]:
    if tags is None:
        return ()
    if isinstance(tags, str):
        tags = [tags]
    result: list[str] = []
    for tag in tags:  # type: ignore[union-attr]
        if not isinstance(tag, str):
            raise InvalidName("tags must be text")
        tag = unicodedata.normalize("NFC", tag).strip()
        if not tag or len(tag) > MAX_TAG_LENGTH or any(ch.isspace() or ch == "," for ch in tag):
            raise InvalidName("a tag must be 1-128 characters without spaces or commas")
        if tag.casefold() not in {t.casefold() for t in result}:
            result.append(tag)
    return tuple(result)


def iso_time(ts: float | None) -> str | None:
    """A POSIX time as ISO 8601 in UTC (``2027-01-31T00:00:00Z``), as the CLI and API print it.

    >>> iso_time(0)
    '1970-01-01T00:00:00Z'
    """
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def summary_json(summary: SecretSummary) -> dict[str, Any]:
    """The JSON shape of a summary shared by ``--json`` output and the REST API."""
    return {
        "name": summary.name,
        "template": summary.template,
        "tags": list(summary.tags),
        "version": summary.version,
        "created": iso_time(summary.created),
        "updated": iso_time(summary.updated),
        "expires": iso_time(summary.expires),
        "favourite": summary.favourite,
    }
