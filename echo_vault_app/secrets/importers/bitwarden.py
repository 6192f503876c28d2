"""Import Bitwarden's unencrypted JSON export (personal or organisation).

Logins (username, password, TOTP, every URI), secure notes, cards, identities and SSH keys map
to fields; custom fields keep their kind (hidden → secret, boolean → "true"/"false", text);
password history becomes versions; folders (or an organisation's collections) become the name
prefix and a tag; favourites get a ``favorite`` tag. Linked custom fields, passkeys, items in
the trash and any property this importer does not know are listed as unmapped, never dropped
silently. ``reprompt`` is a Bitwarden UI setting and is ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from echo_vault_app.errors import ValidationError
from echo_vault_app.secrets import safejson
from echo_vault_app.secrets.importers.model import (
    ImportedEntry,
    ImportedField,
    ImportedVersion,
    ImportReport,
    entry_name,
    guess_template,
    parse_iso,
    read_limited,
)

_ITEM_KEYS = {
    "id", "organizationId", "folderId", "type", "reprompt", "name", "notes", "favorite",
    "fields", "login", "secureNote", "card", "identity", "sshKey", "collectionIds",
    "passwordHistory", "revisionDate", "creationDate", "deletedDate", "archivedDate", "key",
}  # fmt: skip
_SECRET_PARTS = {
    "card": {"number", "code"},
    "identity": {"ssn", "passportNumber", "licenseNumber"},
    "sshKey": {"privateKey"},
}
_TEMPLATES = {2: "note", 3: "card", 4: "identity", 5: "ssh_key"}
_PART_FOR_TYPE = {3: "card", 4: "identity", 5: "sshKey"}


def parse(path: Path) -> ImportReport:
    """Parse a Bitwarden JSON export; see the module docstring."""
    try:
        doc = safejson.loads(read_limited(path))
    except ValidationError as exc:
        raise ValidationError(f"Bitwarden export is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ValidationError("not a Bitwarden JSON export (no items list)")
    if doc.get("encrypted") is True:
        raise ValidationError(
            "encrypted Bitwarden exports are not supported; export unencrypted JSON"
        )

    report = ImportReport(format="bitwarden-json")
    groups = {
        g.get("id"): str(g.get("name") or "")
        for g in [*(doc.get("folders") or []), *(doc.get("collections") or [])]
        if isinstance(g, dict)
    }
    for index, item in enumerate(doc["items"]):
        if not isinstance(item, dict):
            raise ValidationError(f"Bitwarden item {index + 1} is not an object")
        _item(item, groups, report)
    return report


def _item(item: dict[str, Any], groups: dict[Any, str], report: ImportReport) -> None:
    folder_ids = [item.get("folderId"), *(item.get("collectionIds") or [])]
    folders = [groups[f] for f in folder_ids if f in groups and groups[f]]
    prefix = folders[0].split("/") if folders else []
    name = entry_name(prefix, str(item.get("name") or ""))
    if item.get("deletedDate"):
        report.skip(name, "(entire entry)", "in the Bitwarden trash; not imported")
        return

    entry = ImportedEntry(name=name, template="note", notes=str(item.get("notes") or ""))
    entry.tags = list(dict.fromkeys([*folders, *(["favorite"] if item.get("favorite") else [])]))
    entry.created = parse_iso(_text(item.get("creationDate")))
    entry.modified = parse_iso(_text(item.get("revisionDate")))
    label = report.add(entry).name

    kind = item.get("type")
    if kind == 1:
        _login(item.get("login") or {}, entry, report, label)
    elif kind in _PART_FOR_TYPE:
        part = _PART_FOR_TYPE[kind]
        _plain_part(item.get(part) or {}, _SECRET_PARTS[part], entry, report, label)
    elif kind != 2:
        report.warnings.append(f"{label}: unknown Bitwarden item type; kept its common fields")
    for field in item.get("fields") or []:
        _custom(field, entry, report, label)
    for old in item.get("passwordHistory") or []:
        if isinstance(old, dict) and old.get("password"):
            version = [ImportedField("password", str(old["password"]), True)]
            entry.history.append(
                ImportedVersion(version, parse_iso(_text(old.get("lastUsedDate"))))
            )
    entry.history.sort(key=lambda v: v.modified.timestamp() if v.modified else 0)
    for key, value in item.items():
        if key not in _ITEM_KEYS and value not in (None, "", [], {}):
            report.skip(label, key, "unknown Bitwarden property")
    entry.template = _TEMPLATES.get(kind) or guess_template(entry.fields, entry.notes)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _login(login: dict[str, Any], entry: ImportedEntry, report: ImportReport, label: str) -> None:
    if login.get("username"):
        entry.add_field("username", str(login["username"]), secret=False)
    if login.get("password"):
        entry.add_field("password", str(login["password"]), secret=True)
    uris = [u.get("uri") for u in login.get("uris") or [] if isinstance(u, dict) and u.get("uri")]
    for number, uri in enumerate(uris, start=1):
        entry.add_field("url" if number == 1 else f"url {number}", str(uri), secret=False)
    entry.url = str(uris[0]) if uris else None
    if login.get("totp"):
        entry.add_field("totp", str(login["totp"]), secret=True)
    if login.get("fido2Credentials"):
        report.skip(label, "passkeys", "passkeys cannot be moved between managers")
    known = {"username", "password", "uris", "totp", "fido2Credentials", "passwordRevisionDate"}
    for key, value in login.items():
        if key not in known and value not in (None, "", [], {}):
            report.skip(label, f"login.{key}", "unknown Bitwarden property")


def _plain_part(
    part: dict[str, Any], secrets: set[str], entry: ImportedEntry, report: ImportReport, label: str
) -> None:
    for key, value in part.items():
        if value in (None, ""):
            continue
        if isinstance(value, dict | list):
            report.skip(label, key, "structured Bitwarden property")
            continue
        entry.add_field(key, str(value), secret=key in secrets)


def _custom(field: Any, entry: ImportedEntry, report: ImportReport, label: str) -> None:
    if not isinstance(field, dict):
        report.skip(label, "custom field", "malformed custom field")
        return
    name = str(field.get("name") or "field")
    kind = field.get("type")
    value = field.get("value")
    if kind == 3:
        report.skip(label, name, "linked field (it points at another field, holds no value)")
        return
    if kind == 2:
        value = "true" if str(value).lower() == "true" else "false"
    elif kind not in (0, 1):
        report.warnings.append(f"{label}: custom field {name!r} has an unknown type; kept hidden")
    entry.add_field(name, "" if value is None else str(value), secret=kind != 0 and kind != 2)
