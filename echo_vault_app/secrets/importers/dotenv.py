"""Read ``.env`` files the way developers write them.

Supported: ``KEY=value``, an ``export`` prefix, blank lines and ``#`` comments (whole lines, or
after an unquoted value when a space precedes the ``#``), single quotes (literal, may span
lines), double quotes (``\\n \\r \\t \\" \\\\ \\'`` escapes, may span lines), empty values and
duplicate keys (the later value wins, the earlier is reported). ``${VAR}`` references are kept
literally, not expanded, so nothing depends on the importing machine's environment; a warning
names each such key.

The file becomes one entry (template ``dotenv``, one secret field per key), or with
``per_key=True`` one entry per key, named ``<stem>/<KEY>`` with a single field ``value``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from echo_vault_app.errors import ValidationError
from echo_vault_app.secrets.importers.model import (
    ImportedEntry,
    ImportReport,
    decode_text,
    read_limited,
)

KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_EXPORT = re.compile(r"export[ \t]+")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "'": "'"}
MAX_DOTENV_BYTES = 4 * 1024 * 1024


@dataclass
class Assignment:
    key: str
    value: str
    line: int


def parse_dotenv_text(text: str, warnings: list[str] | None = None) -> list[Assignment]:
    """Parse ``.env`` text into assignments in file order, duplicates included.

    Raises:
        ValidationError: an unterminated quote or text after a closing quote; the message
            names the line, never the value.
    """
    text = text.replace("\r\n", "\n")
    warnings = warnings if warnings is not None else []
    result: list[Assignment] = []
    pos, line = 0, 1
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        stripped = text[pos:end].strip()
        if not stripped or stripped.startswith("#"):
            pos, line = end + 1, line + 1
            continue

        start_line = line
        cursor = pos + len(text[pos:end]) - len(text[pos:end].lstrip())
        export = _EXPORT.match(text, cursor)
        if export:
            cursor = export.end()
        key = KEY.match(text, cursor)
        after = key.end() if key else cursor
        while after < end and text[after] in " \t":
            after += 1
        if not key or after >= end or text[after] != "=":
            warnings.append(f"line {start_line} is not a KEY=value assignment; it was skipped")
            pos, line = end + 1, line + 1
            continue

        value, next_pos = _value(text, after + 1, start_line)
        result.append(Assignment(key.group(), value, start_line))
        line += text.count("\n", pos, next_pos)
        pos = next_pos
    return result


def _value(text: str, pos: int, line: int) -> tuple[str, int]:
    """Read a value starting at ``pos``; return it and the offset after its line."""
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    end_of_line = text.find("\n", pos)
    end_of_line = len(text) if end_of_line < 0 else end_of_line
    if pos >= len(text) or text[pos] not in "'\"":
        raw = text[pos:end_of_line]
        comment = re.search(r"[ \t]#", raw)
        if raw.startswith("#"):
            raw = ""
        elif comment:
            raw = raw[: comment.start()]
        return raw.strip(), end_of_line + 1

    quote = text[pos]
    chars: list[str] = []
    cursor = pos + 1
    while True:
        if cursor >= len(text):
            raise ValidationError(f"line {line}: the quoted value is never closed")
        char = text[cursor]
        if char == quote:
            break
        if quote == '"' and char == "\\" and cursor + 1 < len(text):
            following = text[cursor + 1]
            chars.append(_ESCAPES.get(following, "\\" + following))
            cursor += 2
            continue
        chars.append(char)
        cursor += 1

    rest_end = text.find("\n", cursor)
    rest_end = len(text) if rest_end < 0 else rest_end
    rest = text[cursor + 1 : rest_end].strip()
    if rest and not rest.startswith("#"):
        raise ValidationError(f"line {line}: unexpected text after the closing quote")
    return "".join(chars), rest_end + 1


def parse(path: Path, *, name: str | None = None, per_key: bool = False) -> ImportReport:
    """Import a ``.env`` file as one ``dotenv`` entry (or one entry per key)."""
    report = ImportReport(format="dotenv")
    text = decode_text(read_limited(path, MAX_DOTENV_BYTES), ".env file")
    assignments = parse_dotenv_text(text, report.warnings)

    latest: dict[str, Assignment] = {}
    for item in assignments:
        if item.key in latest:
            report.warnings.append(
                f"{item.key} is set on line {latest[item.key].line} and again on line "
                f"{item.line}; the later value is used"
            )
            report.skip(
                name or Path(path).stem,
                f"{item.key} (line {latest[item.key].line})",
                "overridden by a later line with the same key",
            )
        latest[item.key] = item
    for item in latest.values():
        if "${" in item.value or re.search(r"\$[A-Za-z_]", item.value):
            report.warnings.append(f"{item.key} refers to another variable; kept literally")

    title = name or Path(path).stem or "env"
    if per_key:
        for item in latest.values():
            entry = ImportedEntry(name=f"{title}/{item.key}", template="dotenv", tags=["dotenv"])
            entry.add_field("value", item.value, secret=True)
            report.add(entry)
    else:
        entry = ImportedEntry(name=title, template="dotenv", tags=["dotenv"])
        for item in latest.values():
            entry.add_field(item.key, item.value, secret=True)
        report.add(entry)
    return report
