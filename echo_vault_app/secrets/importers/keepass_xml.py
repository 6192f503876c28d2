"""Import KeePassXC and KeePass 2 XML exports (the unencrypted KDBX XML payload).

Mapped: group path (name prefix and a tag), Title, UserName, Password, URL, Notes, Tags, custom
strings (``ProtectInMemory``/``Protected`` → secret), TOTP (``otp``, or KeePassXC's legacy
``TOTP Seed`` + ``TOTP Settings`` turned into an ``otpauth://`` URI), creation, modification
and expiry times, history, and attachments that are small UTF-8 text (as secret fields named
after the file). Listed as unmapped: binary or large attachments, attachments whose data the
export does not contain, auto-type settings that differ from the default, entry custom data
(browser-integration keys and the like), override URLs, and entries in the recycle bin.
Ignored by design: UUIDs, icons, colours, usage counts and access times.

XML with a DTD or entity declarations is refused before parsing, which rules out entity
expansion and external entities without a new dependency.
"""

from __future__ import annotations

import base64
import binascii
import struct
import xml.etree.ElementTree as ET
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from echo_vault_app.errors import ValidationError
from echo_vault_app.secrets.importers.model import (
    ImportedEntry,
    ImportedField,
    ImportedVersion,
    ImportReport,
    decode_text,
    entry_name,
    guess_template,
    parse_iso,
    read_limited,
)

MAX_XML_BYTES = 128 * 1024 * 1024
MAX_GROUP_DEPTH = 64
MAX_TEXT_ATTACHMENT = 64 * 1024
_STANDARD = {"Title", "UserName", "Password", "URL", "Notes"}
_TOTP_LEGACY = {"TOTP Seed", "TOTP Settings"}
_KEEPASS_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


def parse(path: Path, fmt: str = "keepassxc-xml") -> ImportReport:
    """Parse an XML export; see the module docstring for what maps where."""
    text = decode_text(read_limited(path, MAX_XML_BYTES), "KeePass XML export")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ValidationError("KeePass XML export contains a DTD or entities; refusing it")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValidationError(f"KeePass XML export is malformed (line {exc.position[0]})") from None
    if root.tag != "KeePassFile" or root.find("Root/Group") is None:
        raise ValidationError("not a KeePass XML export (no KeePassFile/Root/Group)")

    report = ImportReport(format=fmt)
    binaries = _binaries(root)
    recycle_bin = (root.findtext("Meta/RecycleBinUUID") or "").strip()
    recycle_on = (root.findtext("Meta/RecycleBinEnabled") or "True").strip() == "True"

    # Iterative walk: group depth is bounded and never recursed.
    stack: list[tuple[ET.Element, list[str], bool]] = [(root.find("Root/Group"), [], False)]
    while stack:
        group, path_parts, in_bin = stack.pop()
        if len(path_parts) > MAX_GROUP_DEPTH:
            raise ValidationError(f"KeePass groups are nested deeper than {MAX_GROUP_DEPTH}")
        for element in group.findall("Entry"):
            _entry(element, path_parts, in_bin, binaries, report)
        for child in reversed(group.findall("Group")):
            uuid = (child.findtext("UUID") or "").strip()
            child_bin = in_bin or (recycle_on and bool(uuid) and uuid == recycle_bin)
            stack.append((child, [*path_parts, child.findtext("Name") or "group"], child_bin))
            if (child.findtext("Notes") or "").strip():
                report.warnings.append(
                    f"group {'/'.join([*path_parts, child.findtext('Name') or ''])!r} has notes; "
                    "group notes are not imported"
                )
    return report


def _entry(
    element: ET.Element,
    groups: list[str],
    in_bin: bool,
    binaries: dict[str, bytes | None],
    report: ImportReport,
) -> None:
    strings = _strings(element)
    title = strings.get("Title", ("", False))[0]
    name = entry_name(groups, title)
    if in_bin:
        report.skip(name, "(entire entry)", "in the recycle bin; not imported")
        return

    fields, notes = _fields(strings, title)
    entry = ImportedEntry(name=name, template="note", notes=notes)
    for field in fields:
        entry.add_field(field.name, field.value, secret=field.secret)
    entry.url = strings.get("URL", ("", False))[0] or None
    entry.tags = _tags(element.findtext("Tags"), groups)
    entry.created = _time(element.findtext("Times/CreationTime"))
    entry.modified = _time(element.findtext("Times/LastModificationTime"))
    if (element.findtext("Times/Expires") or "").strip() == "True":
        entry.expires = _time(element.findtext("Times/ExpiryTime"))

    label = report.add(entry).name
    _attachments(element, entry, binaries, report, label)
    _leftovers(element, report, label)
    for old in element.findall("History/Entry"):
        old_fields, old_notes = _fields(_strings(old), title)
        if old_notes:
            old_fields.append(ImportedField("notes", old_notes, False))
        modified = _time(old.findtext("Times/LastModificationTime"))
        entry.history.append(ImportedVersion(old_fields, modified))
        if old.findall("Binary"):
            report.skip(label, "attachments in history", "attachments of old versions are not kept")
    entry.template = guess_template(entry.fields, entry.notes)


def _strings(element: ET.Element) -> dict[str, tuple[str, bool]]:
    result: dict[str, tuple[str, bool]] = {}
    for string in element.findall("String"):
        key = string.findtext("Key") or ""
        value_el = string.find("Value")
        value = (value_el.text or "") if value_el is not None else ""
        protected = value_el is not None and (
            value_el.get("ProtectInMemory") == "True" or value_el.get("Protected") == "True"
        )
        result[key] = (value, protected)
    return result


def _fields(strings: dict[str, tuple[str, bool]], title: str) -> tuple[list[ImportedField], str]:
    fields: list[ImportedField] = []
    if strings.get("UserName", ("", False))[0]:
        fields.append(ImportedField("username", strings["UserName"][0], False))
    if strings.get("Password", ("", False))[0]:
        fields.append(ImportedField("password", strings["Password"][0], True))
    if strings.get("URL", ("", False))[0]:
        fields.append(ImportedField("url", strings["URL"][0], False))
    totp = _totp(strings, title)
    if totp:
        fields.append(ImportedField("totp", totp, True))
    taken = {f.name for f in fields}
    for key, (value, protected) in strings.items():
        if key in _STANDARD or key == "otp" or (key in _TOTP_LEGACY and totp):
            continue
        name = key if key not in taken else f"{key} (custom)"
        taken.add(name)
        fields.append(ImportedField(name, value, protected))
    return fields, strings.get("Notes", ("", False))[0]


def _totp(strings: dict[str, tuple[str, bool]], title: str) -> str:
    if strings.get("otp", ("", False))[0]:
        return strings["otp"][0]
    seed = strings.get("TOTP Seed", ("", False))[0].strip()
    if not seed:
        return ""
    settings = strings.get("TOTP Settings", ("30;6", False))[0].split(";")
    period = settings[0] if settings and settings[0].isdigit() else "30"
    digits = settings[1] if len(settings) > 1 and settings[1].isdigit() else "6"
    label = quote(title or "entry", safe="")
    return f"otpauth://totp/{label}?secret={quote(seed, safe='')}&period={period}&digits={digits}"


def _tags(text: str | None, groups: list[str]) -> list[str]:
    tags = [t.strip() for t in (text or "").replace(",", ";").split(";") if t.strip()]
    if groups:
        tags.append("/".join(groups))
    return list(dict.fromkeys(tags))


def _time(text: str | None) -> datetime | None:
    """Read ISO times (KDBX 3.1 XML) or base64 seconds since year 1 (KDBX 4 XML)."""
    if not text or not text.strip():
        return None
    parsed = parse_iso(text)
    if parsed is not None:
        return parsed
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        (seconds,) = struct.unpack("<q", raw)
        return _KEEPASS_EPOCH + timedelta(seconds=seconds)
    except (binascii.Error, ValueError, struct.error, OverflowError):
        return None


def _binaries(root: ET.Element) -> dict[str, bytes | None]:
    """Map binary IDs in Meta/Binaries to bytes, at most a text attachment's size each."""
    result: dict[str, bytes | None] = {}
    for binary in root.findall("Meta/Binaries/Binary"):
        try:
            data = base64.b64decode(binary.text or "", validate=True)
            if binary.get("Compressed") == "True":
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                data = inflater.decompress(data, MAX_TEXT_ATTACHMENT + 1)
        except (binascii.Error, ValueError, zlib.error):
            data = None
        result[binary.get("ID", "")] = data
    return result


def _attachments(
    element: ET.Element,
    entry: ImportedEntry,
    binaries: dict[str, bytes | None],
    report: ImportReport,
    label: str,
) -> None:
    for binary in element.findall("Binary"):
        file_name = binary.findtext("Key") or "attachment"
        value = binary.find("Value")
        ref = value.get("Ref") if value is not None else None
        data = binaries.get(ref or "") if ref is not None else _inline(value)
        if data is None:
            report.skip(label, file_name, "attachment data is not in the export")
            continue
        text = _small_text(data)
        if text is None:
            report.skip(
                label, file_name, "binary or large attachment; Echo Vault stores text values only"
            )
            continue
        entry.add_field(file_name, text, secret=True)
        report.warnings.append(f"{label}: attachment {file_name!r} imported as a secret field")


def _inline(value: ET.Element | None) -> bytes | None:
    if value is None or not value.text:
        return None
    try:
        return base64.b64decode(value.text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _small_text(data: bytes) -> str | None:
    if len(data) > MAX_TEXT_ATTACHMENT or b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _leftovers(element: ET.Element, report: ImportReport, label: str) -> None:
    auto = element.find("AutoType")
    if auto is not None and (
        (auto.findtext("DefaultSequence") or "").strip() or auto.findall("Association")
    ):
        report.skip(label, "auto-type", "auto-type sequences and window associations")
    for item in element.findall("CustomData/Item"):
        report.skip(label, f"custom data {item.findtext('Key') or ''}".strip(), "plugin data")
    if (element.findtext("OverrideURL") or "").strip():
        report.skip(label, "override URL", "URL override commands are not supported")
