"""The vault's side of encrypted backups: what goes into the payload and how it comes back.

The container (header, KDF, chunked AES-GCM) is :mod:`backup_format`'s job; this module turns
live secrets into the payload document and back. The payload::

    {"format": 1, "vault_id": "...", "exported": 1700000000.0,
     "secrets": [{"name", "template", "tags", "notes", "created", "updated", "expires",
                  "favourite", "version",
                  "fields": [{"name", "secret", "binary", "value"}],      # base64 when binary
                  "history": [{"version", "saved", "template", "tags", "notes", "expires",
                               "fields": [...]}]}],                       # oldest first
     "<section>": [...]}                                                  # registered sections

Other packages (API keys, signing keys, state) add top-level lists through
:func:`register_backup_section` without editing this module. An import runs in one
transaction, audited per secret, and writes each secret as soon as it is read and checked; a
fault found anywhere later in the file (a chunk that fails authentication, an invalid secret
or section) rolls the transaction back, so a refused import writes nothing. Neither direction
holds all the secrets at once: an export reads them one at a time from a snapshot of the
vault, an import takes them one at a time from the file, so memory stays near the size of the
largest secret whatever the size of the vault. Trashed secrets are not exported.
"""

from __future__ import annotations

import base64
import binascii
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import (
    BackupCorrupted,
    BackupVersionUnsupported,
    EchoVaultError,
    InvalidName,
    SecretNotFound,
    UsageError,
)
from echo_vault_app.secrets import backup_format, backup_merge
from echo_vault_app.secrets.backup_merge import ImportPreview, ImportResult, SecretRecord
from echo_vault_app.secrets.model import (
    MAX_FIELD_BYTES,
    MAX_NOTES_LENGTH,
    FieldValue,
    HistoryEntry,
    normalize_name,
    normalize_tags,
)
from echo_vault_app.secrets.store import SecretStore

PAYLOAD_FORMAT = 1
CORE_KEYS = ("format", "vault_id", "exported", "secrets")
MAX_TEMPLATE_ID = 64
MAX_HISTORY = 10_000

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stages: "reading" (bytes), "writing" (items)."""


@dataclass(frozen=True)
class BackupSection:
    """A top-level list another package contributes to backups.

    ``export(vault)`` returns JSON-able items; ``import_(vault, tx, items, mode)`` writes them
    inside the import's transaction; ``validate(items)`` raises ``EchoVaultError`` before any
    write when an item is unacceptable.
    """

    name: str
    export: Callable[[Vault], list]
    import_: Callable[[Vault, Any, list, str], None]
    validate: Callable[[list], None] | None = None


_SECTIONS: dict[str, BackupSection] = {}


def register_backup_section(
    name: str,
    export_fn: Callable[[Vault], list],
    import_fn: Callable[[Vault, Any, list, str], None],
    *,
    validate_fn: Callable[[list], None] | None = None,
) -> None:
    """Add a top-level list to every backup from now on (re-registering replaces it)."""
    if name in CORE_KEYS or not name.isidentifier() or len(name) > 64:
        raise UsageError(f"{name!r} cannot be a backup section name")
    _SECTIONS[name] = BackupSection(name, export_fn, import_fn, validate_fn)


def unregister_backup_section(name: str) -> None:
    _SECTIONS.pop(name, None)


def _register_library_sections() -> None:
    """Auth records and state travel with the secrets in every backup, whichever face
    (library, CLI, desktop app, REST API) writes or reads it."""
    from echo_vault_app.auth import backup_section as auth_section
    from echo_vault_app.state import backup_section as state_section

    auth_section.register()
    state_section.register()


# -- export ---------------------------------------------------------------------------------


def select_ids(
    store: SecretStore,
    conn: Any,
    *,
    names: Iterable[str] | None = None,
    tags: Iterable[str] | None = None,
    query: str | None = None,
) -> list[int]:
    """Ids of the live secrets to export: every criterion given must hold (names OR-ed).

    Raises:
        SecretNotFound: a requested name is not in the vault.
    """
    ids = [row[0] for row in conn.execute(
        "SELECT id FROM secrets WHERE deleted IS NULL ORDER BY name COLLATE NOCASE"
    )]  # fmt: skip
    if names is not None:
        by_name = backup_merge.live_ids(conn)
        wanted = set()
        for name in names:
            found = by_name.get(backup_merge.fold(normalize_name(name)))
            if found is None:
                raise SecretNotFound(f"no secret named {name!r} in the vault")
            wanted.add(found)
        ids = [i for i in ids if i in wanted]
    if tags is not None:
        tag_list = list(normalize_tags(list(tags)))
        marks = ",".join("?" * len(tag_list))
        tagged = {row[0] for row in conn.execute(
            f"SELECT secret_id FROM secret_tags WHERE tag IN ({marks})", tag_list
        )}  # fmt: skip
        ids = [i for i in ids if i in tagged]
    if query:
        matched = set(store.matching_ids(query, conn=conn))
        ids = [i for i in ids if i in matched]
    return ids


def _field_doc(item: FieldValue) -> dict[str, Any]:
    binary = isinstance(item.value, bytes)
    value = base64.b64encode(item.value).decode("ascii") if binary else item.value
    return {"name": item.name, "secret": item.secret, "binary": binary, "value": value}


def record_doc(record: SecretRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "template": record.template,
        "tags": list(record.tags),
        "notes": record.notes,
        "created": record.created,
        "updated": record.updated,
        "expires": record.expires,
        "favourite": record.favourite,
        "version": record.version,
        "fields": [_field_doc(f) for f in record.fields],
        "history": [
            {
                "version": h.version,
                "saved": h.saved,
                "template": h.template,
                "tags": list(h.tags),
                "notes": h.notes,
                "expires": h.expires,
                "fields": [_field_doc(f) for f in h.fields],
            }
            for h in record.history
        ],
    }


def build_payload(
    vault: Vault,
    *,
    names: Iterable[str] | None = None,
    tags: Iterable[str] | None = None,
    query: str | None = None,
) -> dict[str, Any]:
    """The whole payload in memory: the chosen secrets and every registered section."""
    sections = _section_exports(vault)
    with vault.snapshot() as conn:
        payload = _payload(vault, conn, sections, names=names, tags=tags, query=query)
        payload["secrets"] = list(payload["secrets"])
    return payload


def _section_exports(vault: Vault) -> dict[str, list]:
    _register_library_sections()
    exported = {}
    for section in _SECTIONS.values():
        items = section.export(vault)
        if not isinstance(items, list):
            raise UsageError(f"backup section {section.name} did not return a list")
        exported[section.name] = items
    return exported


def _payload(
    vault: Vault,
    conn: Any,
    sections: Mapping[str, list],
    *,
    names: Iterable[str] | None,
    tags: Iterable[str] | None,
    query: str | None,
) -> dict[str, Any]:
    """The payload with its secrets as an :class:`~backup_format.Items` read from ``conn``."""
    store = SecretStore(vault)
    ids = select_ids(store, conn, names=names, tags=tags, query=query)
    secrets = (record_doc(backup_merge.load_local(store, conn, i)) for i in ids)
    return {
        "format": PAYLOAD_FORMAT,
        "vault_id": vault.vault_id,
        "exported": time.time(),
        "secrets": backup_format.Items(len(ids), secrets),
        **sections,
    }


def export_backup(
    vault: Vault,
    path: Path,
    password: str,
    *,
    names: Iterable[str] | None = None,
    tags: Iterable[str] | None = None,
    query: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write an encrypted backup of the chosen secrets and return how many it holds.

    The secrets are read one at a time from a snapshot of the vault on a connection of its
    own, so the export is consistent and the rest of the process keeps reading and writing
    meanwhile. The export is audited after the file is in place; if the audit event cannot be
    written the file is removed again, so no export goes unrecorded.

    Raises:
        WeakPassword, Conflict, BackupError, SecretNotFound, UsageError.
    """
    backup_format.check_backup_password(password)
    sections = _section_exports(vault)
    step = None if progress is None else (lambda done, total: progress("writing", done, total))
    with vault.snapshot() as conn:
        payload = _payload(vault, conn, sections, names=names, tags=tags, query=query)
        count = len(payload["secrets"])
        backup_format.write_backup(Path(path), password, payload, force=force, progress=step)
    try:
        with vault.transaction() as tx:
            vault.audit.record(
                tx,
                "export",
                Path(path).name,
                detail={
                    "format": "backup",
                    "secrets": count,
                    "sections": {k: len(v) for k, v in sections.items()},
                },
            )
    except EchoVaultError:
        Path(path).unlink(missing_ok=True)
        raise
    return count


# -- payload checks -------------------------------------------------------------------------


class _Bad(Exception):
    pass


def _need(condition: bool, reason: str) -> None:
    if not condition:
        raise _Bad(reason)


def _text(value: Any, what: str, *, max_len: int, empty: bool = True) -> str:
    _need(isinstance(value, str), f"{what} is not text")
    _need(len(value) <= max_len and (empty or value), f"{what} has an invalid length")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Bad(f"{what} is not valid Unicode") from None
    return value


def _time(value: Any, what: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    _need(
        type(value) in (int, float) and math.isfinite(value) and abs(value) < 1e12,
        f"{what} is not a valid time",
    )
    return float(value)


def _version(value: Any, what: str) -> int:
    _need(type(value) is int and 1 <= value < 2**62, f"{what} is not a valid version number")
    return value


def _tags(value: Any, what: str) -> tuple[str, ...]:
    _need(isinstance(value, list) and len(value) <= 1000, f"{what} is not a list of tags")
    try:
        return normalize_tags(value)
    except InvalidName as exc:
        raise _Bad(f"{what}: {exc}") from None


def _fields(value: Any, what: str) -> tuple[FieldValue, ...]:
    _need(isinstance(value, list) and 0 < len(value) <= 10_000, f"{what} is not a field list")
    result: list[FieldValue] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        where = f"{what}[{index}]"
        _need(isinstance(item, dict), f"{where} is not an object")
        _need(set(item) == {"name", "secret", "binary", "value"}, f"{where} has wrong keys")
        name = _text(item["name"], f"{where} name", max_len=128, empty=False)
        _need(name not in seen, f"{what} has field {name!r} twice")
        _need(type(item["secret"]) is bool and type(item["binary"]) is bool, f"{where} flags")
        raw = _text(item["value"], f"{where} value", max_len=2 * MAX_FIELD_BYTES)
        data: str | bytes = raw
        if item["binary"]:
            try:
                data = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise _Bad(f"{where} value is not base64") from None
        size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8"))
        _need(size <= MAX_FIELD_BYTES, f"{where} value is larger than 64 MiB")
        seen.add(name)
        result.append(FieldValue(name, data, item["secret"]))
    return tuple(result)


_SECRET_KEYS = {
    "name", "template", "tags", "notes", "created", "updated", "expires", "favourite", "version",
    "fields", "history",
}  # fmt: skip
_HISTORY_KEYS = {"version", "saved", "template", "tags", "notes", "expires", "fields"}


def _record(doc: Any, index: int) -> SecretRecord:
    _need(isinstance(doc, dict), f"secret #{index} is not an object")
    _need(set(doc) == _SECRET_KEYS, f"secret #{index} has missing or unknown keys")
    try:
        name = normalize_name(doc["name"])
    except InvalidName as exc:
        raise _Bad(f"secret #{index}: {exc}") from None
    what = f"secret {name!r}"
    version = _version(doc["version"], f"{what} version")
    _need(type(doc["favourite"]) is bool, f"{what} favourite is not true or false")
    history_docs = doc["history"]
    _need(isinstance(history_docs, list) and len(history_docs) <= MAX_HISTORY, f"{what} history")
    history: list[HistoryEntry] = []
    for h_index, h in enumerate(history_docs):
        where = f"{what} history[{h_index}]"
        _need(isinstance(h, dict) and set(h) == _HISTORY_KEYS, f"{where} has wrong keys")
        h_version = _version(h["version"], f"{where} version")
        _need(h_version < version, f"{where} is not older than the current version")
        _need(all(e.version != h_version for e in history), f"{where} repeats a version")
        history.append(
            HistoryEntry(
                h_version,
                _time(h["saved"], f"{where} saved"),  # type: ignore[arg-type]
                _text(h["template"], f"{where} template", max_len=MAX_TEMPLATE_ID, empty=False),
                _tags(h["tags"], f"{where} tags"),
                _text(h["notes"], f"{where} notes", max_len=MAX_NOTES_LENGTH),
                _time(h["expires"], f"{where} expiry", optional=True),
                _fields(h["fields"], f"{where} fields"),
            )
        )
    history.sort(key=lambda e: e.version)
    return SecretRecord(
        name=name,
        template=_text(doc["template"], f"{what} template", max_len=MAX_TEMPLATE_ID, empty=False),
        tags=_tags(doc["tags"], f"{what} tags"),
        notes=_text(doc["notes"], f"{what} notes", max_len=MAX_NOTES_LENGTH),
        created=_time(doc["created"], f"{what} created"),  # type: ignore[arg-type]
        updated=_time(doc["updated"], f"{what} updated"),  # type: ignore[arg-type]
        expires=_time(doc["expires"], f"{what} expiry", optional=True),
        favourite=doc["favourite"],
        version=version,
        fields=_fields(doc["fields"], f"{what} fields"),
        history=tuple(history),
    )


class _Walk:
    """One pass over a payload's members: checks the core, yields secrets, keeps the rest.

    A payload arrives member by member from :class:`~backup_format.BackupReader`; the secrets
    are checked and handed on one at a time, names compared as the vault's unique index
    compares them, and each template counted, while the other top-level members (small:
    sections, and the core's scalars) are kept for after the pass.
    """

    def __init__(self) -> None:
        self.core: dict[str, Any] = {}
        self.others: dict[str, Any] = {}
        self.templates: dict[str, int] = {}
        self._names: set[str] = set()

    def member(self, key: str, value: Any) -> None:
        if key == "format":
            _check_format(value)
        if key in CORE_KEYS:
            self.core[key] = value
        else:
            self.others[key] = list(value) if isinstance(value, backup_format.Items) else value

    def secrets(self, docs: Iterable[Any] | None) -> Iterator[SecretRecord]:
        if "format" in self.core:
            _check_format(self.core["format"])
        self.core["secrets"] = docs is not None
        try:
            _need(docs is not None, "the secrets list is missing")
            for index, doc in enumerate(docs or ()):
                record = _record(doc, index)
                folded = backup_merge.fold(record.name)
                _need(folded not in self._names, f"secret {record.name!r} appears twice")
                self._names.add(folded)
                for template in {record.template, *(h.template for h in record.history)}:
                    self.templates[template] = self.templates.get(template, 0) + 1
                yield record
        except _Bad as exc:
            raise BackupCorrupted(f"backup payload is invalid: {exc}") from None

    def finish(self) -> None:
        """The checks that need the whole pass: every core member present and sound."""
        fmt = self.core.get("format")
        _check_format(fmt)
        try:
            _need(fmt == PAYLOAD_FORMAT and type(fmt) is int, "unknown payload format")
            _need(isinstance(self.core.get("vault_id"), str), "vault id is missing")
            _time(self.core.get("exported"), "export time")
            _need(self.core.get("secrets") is True, "the secrets list is missing")
        except _Bad as exc:
            raise BackupCorrupted(f"backup payload is invalid: {exc}") from None

    def walk(self, members: Iterable[tuple[str, Any]]) -> Iterator[SecretRecord]:
        """Every secret of ``members``; when it ends, the whole payload has been checked."""
        for key, value in members:
            if key != "secrets":
                self.member(key, value)
                continue
            yield from self.secrets(value if isinstance(value, backup_format.Items) else None)
        self.finish()


def _check_format(fmt: Any) -> None:
    if type(fmt) is int and fmt > PAYLOAD_FORMAT:
        raise BackupVersionUnsupported(
            f"backup payload format {fmt} is newer than this Echo Vault reads (up to "
            f"{PAYLOAD_FORMAT}); update Echo Vault to restore it"
        )


def _section_items(payload: Mapping[str, Any], warnings: list[str]) -> dict[str, list]:
    """Registered sections to import, validated; unknown ones become warnings."""
    chosen: dict[str, list] = {}
    for key, value in payload.items():
        if key in CORE_KEYS:
            continue
        section = _SECTIONS.get(key)
        count = len(value) if isinstance(value, list) else 1
        if section is None:
            warnings.append(
                f"the backup holds {count} {key} item(s) this Echo Vault cannot import; "
                "they were left out"
            )
            continue
        if not isinstance(value, list):
            raise BackupCorrupted(f"backup payload is invalid: section {key} is not a list")
        if section.validate is not None:
            section.validate(value)
        chosen[key] = value
    return chosen


def _template_warnings(uses: Mapping[str, int], known: set[str] | None) -> list[str]:
    if known is None:
        return []
    return [
        f"{count} secret(s) use template {tid!r}, which this vault does not have; they were "
        "kept as they are"
        for tid, count in sorted(uses.items())
        if tid not in known
    ]


# -- import ---------------------------------------------------------------------------------


def read_payload(path: Path, password: str, progress: Progress | None = None) -> dict:
    """The whole payload in memory (for small backups and tests; imports stream instead)."""
    _register_library_sections()
    step = None if progress is None else (lambda done, total: progress("reading", done, total))
    return backup_format.read_backup(Path(path), password, progress=step)


def preview_import(
    vault: Vault,
    path: Path,
    password: str,
    mode: str = "merge",
    *,
    known_templates: set[str] | None = None,
) -> ImportPreview:
    """Read and check a backup and say what importing it would do; writes nothing.

    The backup is compared with a snapshot of the vault as it is read, one secret at a time;
    the answer counts only once the whole file has been read and found sound.
    """
    backup_merge.check_mode(mode)
    _register_library_sections()
    store = SecretStore(vault)
    preview = ImportPreview()
    walk = _Walk()
    with backup_format.BackupReader(Path(path), password) as reader, vault.snapshot() as conn:
        records = walk.walk(reader.members())
        for _ in backup_merge.plan_each(store, conn, records, mode, preview):
            pass
    preview.warnings = _template_warnings(walk.templates, known_templates)
    _section_items(walk.others, preview.warnings)
    return preview


def import_records(
    vault: Vault,
    records: Iterable[SecretRecord],
    mode: str,
    *,
    sections: Mapping[str, list] | Callable[[], Mapping[str, list]] | None = None,
    warnings: Sequence[str] = (),
    action: str = "import",
    source: str | None = None,
    total: int | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Write checked records (and section items) in one transaction under ``mode``.

    ``records`` may be a generator: each record is planned and written as it comes, and an
    error it raises (a backup that turns out to be damaged) rolls the whole import back.
    ``sections`` may be a function that gives them once the records are through; it may add
    to ``warnings``. ``total`` is the number of records, for progress, when ``records`` has no
    length.
    """
    backup_merge.check_mode(mode)
    store = SecretStore(vault)
    if total is None:
        total = len(records) if isinstance(records, Sequence) else 0
    with vault.transaction() as tx:
        preview = ImportPreview()
        done = 0

        def counted(steps: Iterable[Any]) -> Iterator[Any]:
            nonlocal done
            for step in steps:
                yield step
                done += 1
                if progress is not None and done % 500 == 0:
                    progress("writing", done, total)

        steps = backup_merge.plan_each(store, tx, records, mode, preview)
        backup_merge.apply(store, tx, counted(steps), action=action)
        chosen = sections() if callable(sections) else sections or {}
        for name, items in chosen.items():
            _SECTIONS[name].import_(vault, tx, items, mode)
        result = ImportResult(**vars(preview))
        result.warnings = list(warnings)
        result.sections = {name: len(items) for name, items in chosen.items()}
        vault.audit.record(
            tx,
            action,
            source,
            detail={
                "mode": mode,
                "added": len(result.added),
                "changed": len(result.changed),
                "skipped": len(result.skipped),
                "unchanged": len(result.unchanged),
                "sections": result.sections,
            },
        )
    if progress is not None:
        progress("writing", done, total)
    return result


def import_backup(
    vault: Vault,
    path: Path,
    password: str,
    mode: str = "merge",
    *,
    known_templates: set[str] | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Restore a backup into the vault in one transaction, reading the file as it writes.

    Each secret is checked and written as it is read; whatever is wrong with the file (a chunk
    that fails authentication, a missing end, an invalid secret or section) is found before
    the transaction commits, and rolls it back. A refused import (wrong password, damaged file,
    invalid payload) thus leaves every secret as it was and records one audit event with
    outcome ``failed`` naming the kind of error.

    Raises:
        BackupWrongPassword, BackupCorrupted, BackupVersionUnsupported, BackupError,
        UsageError (unknown mode), and errors of registered sections' validators.
    """
    backup_merge.check_mode(mode)
    _register_library_sections()
    source = Path(path).name
    try:
        with backup_format.BackupReader(Path(path), password) as reader:
            walk = _Walk()
            warnings: list[str] = []

            def sections() -> dict[str, list]:
                warnings.extend(_template_warnings(walk.templates, known_templates))
                return _section_items(walk.others, warnings)

            # Progress is the file's bytes: reading and writing advance together.
            step = (
                None if progress is None else (lambda done, total: progress("reading", done, total))
            )
            return import_records(
                vault, walk.walk(reader.members(step)), mode, sections=sections, warnings=warnings,
                source=source,
            )  # fmt: skip
    except EchoVaultError as exc:
        _record_failure(vault, source, exc)
        raise


def _record_failure(vault: Vault, source: str, exc: Exception) -> None:
    try:
        with vault.transaction() as tx:
            vault.audit.record(
                tx, "import", source, outcome="failed", detail={"error": type(exc).__name__}
            )
    except EchoVaultError:
        pass  # the import failed anyway; the original error is what the user needs to see
