"""Import 1Password's unencrypted ``.1pux`` export (a zip holding ``export.data``).

Vault name and item title form the entry name; the vault name and the item's tags become tags;
archived items get an ``archived`` tag. Login fields (username, password, others by name),
``notesPlain``, every section field (concealed, TOTP and card numbers as secrets; text, e-mail,
phone, URL, dates, menus and addresses as plain fields; SSH private keys as secrets) and the
password history are mapped. Attachments (documents and file fields), references to other
items, items in the trash and unknown field kinds are listed as unmapped.

The archive is bounded before anything is inflated: at most 10,000 members, ``export.data`` at
most 64 MiB uncompressed (checked while reading, not trusted from the zip header).
"""

from __future__ import annotations

import zipfile
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
    from_unix,
    guess_template,
    read_limited,
)

MAX_MEMBERS = 10_000
MAX_DATA_BYTES = 64 * 1024 * 1024
MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024
_CATEGORIES = {"002": "card", "003": "note", "004": "identity", "112": "api_key", "114": "ssh_key"}
_SECRET_KINDS = {"concealed", "totp", "creditCardNumber"}
_PLAIN_KINDS = {"string", "email", "phone", "url", "menu", "gender", "creditCardType"}


def parse(path: Path) -> ImportReport:
    """Parse a ``.1pux`` export; see the module docstring."""
    data = _read_export_data(path)
    try:
        doc = safejson.loads(data, max_bytes=MAX_DATA_BYTES)
    except ValidationError as exc:
        raise ValidationError(f"1Password export.data is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("accounts"), list):
        raise ValidationError("not a 1Password export (export.data has no accounts)")

    report = ImportReport(format="1pux")
    for account in doc["accounts"]:
        for vault in (account or {}).get("vaults") or []:
            vault_name = str(((vault or {}).get("attrs") or {}).get("name") or "vault")
            for wrapped in vault.get("items") or []:
                item = wrapped.get("item", wrapped) if isinstance(wrapped, dict) else None
                if not isinstance(item, dict):
                    raise ValidationError("1Password export holds an item that is not an object")
                _item(item, vault_name, report)
    return report


def _read_export_data(path: Path) -> bytes:
    read_limited(path, MAX_ARCHIVE_BYTES)  # regular file, size bound, clear errors
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise ValidationError(f"1Password export has more than {MAX_MEMBERS} files")
            names = {m.filename for m in members}
            if "export.data" not in names:
                raise ValidationError("not a 1Password export (no export.data in the archive)")
            with archive.open("export.data") as fh:
                data = fh.read(MAX_DATA_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ValidationError(f"1Password export is not a readable zip: {exc}") from None
    if len(data) > MAX_DATA_BYTES:
        raise ValidationError("1Password export.data is larger than 64 MiB")
    return data


def _item(item: dict[str, Any], vault: str, report: ImportReport) -> None:
    overview = item.get("overview") or {}
    details = item.get("details") or {}
    name = entry_name([vault], str(overview.get("title") or ""))
    if item.get("trashed") or item.get("state") == "deleted":
        report.skip(name, "(entire entry)", "in the 1Password trash; not imported")
        return

    entry = ImportedEntry(name=name, template="note", notes=str(details.get("notesPlain") or ""))
    tags = [vault, *[str(t) for t in overview.get("tags") or []]]
    if item.get("state") == "archived":
        tags.append("archived")
    entry.tags = list(dict.fromkeys(tags))
    entry.created = from_unix(item.get("createdAt"))
    entry.modified = from_unix(item.get("updatedAt"))
    label = report.add(entry).name

    for login_field in details.get("loginFields") or []:
        _login_field(login_field, entry)
    if details.get("password"):
        entry.add_field("password", str(details["password"]), secret=True)
    _urls(overview, entry)
    for section in details.get("sections") or []:
        for field in (section or {}).get("fields") or []:
            _section_field(field or {}, entry, report, label)
    if details.get("documentAttributes"):
        file_name = str(details["documentAttributes"].get("fileName") or "document")
        report.skip(label, file_name, "attachment; Echo Vault stores text values only")
    for old in details.get("passwordHistory") or []:
        if isinstance(old, dict) and old.get("value"):
            version = [ImportedField("password", str(old["value"]), True)]
            entry.history.append(ImportedVersion(version, from_unix(old.get("time"))))
    entry.history.sort(key=lambda v: v.modified.timestamp() if v.modified else 0)
    entry.template = _CATEGORIES.get(str(item.get("categoryUuid"))) or guess_template(
        entry.fields, entry.notes
    )


def _login_field(field: Any, entry: ImportedEntry) -> None:
    if not isinstance(field, dict) or field.get("value") in (None, ""):
        return
    designation = field.get("designation")
    if designation in ("username", "password"):
        entry.add_field(designation, str(field["value"]), secret=designation == "password")
        return
    name = str(field.get("name") or field.get("id") or "field")
    entry.add_field(name, str(field["value"]), secret=field.get("fieldType") == "P")


def _urls(overview: dict[str, Any], entry: ImportedEntry) -> None:
    urls = [str(overview["url"])] if overview.get("url") else []
    for extra in overview.get("urls") or []:
        url = (extra or {}).get("url")
        if url and str(url) not in urls:
            urls.append(str(url))
    for number, url in enumerate(urls, start=1):
        entry.add_field("url" if number == 1 else f"url {number}", url, secret=False)
    entry.url = urls[0] if urls else None


def _section_field(field: dict[str, Any], entry: ImportedEntry, report: ImportReport, label: str):
    title = str(field.get("title") or field.get("id") or "field")
    value = field.get("value") or {}
    if not isinstance(value, dict) or len(value) != 1:
        report.skip(label, title, "field value has an unexpected shape")
        return
    ((kind, content),) = value.items()
    if content in (None, ""):
        return
    if kind == "totp":
        entry.add_field("totp", str(content), secret=True)
    elif kind in _SECRET_KINDS:
        entry.add_field(title, str(content), secret=True)
    elif kind in _PLAIN_KINDS:
        entry.add_field(title, str(content), secret=False)
    elif kind == "date" and from_unix(content):
        entry.add_field(title, from_unix(content).date().isoformat(), secret=False)
    elif kind == "monthYear" and type(content) is int:
        entry.add_field(title, f"{content // 100:04d}-{content % 100:02d}", secret=False)
    elif kind == "address" and isinstance(content, dict):
        lines = [str(v) for v in content.values() if v]
        entry.add_field(title, "\n".join(lines), secret=False)
    elif kind == "sshKey" and isinstance(content, dict) and content.get("privateKey"):
        entry.add_field(title, str(content["privateKey"]), secret=True)
    elif kind == "file":
        report.skip(label, title, "attachment; Echo Vault stores text values only")
    elif kind == "reference":
        report.skip(label, title, "reference to another 1Password item")
    else:
        report.skip(label, title, f"unsupported 1Password field kind {kind!r}")
