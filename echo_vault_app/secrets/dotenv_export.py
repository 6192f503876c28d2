"""Write a chosen set of secrets as a plaintext ``.env`` file.

This file is plaintext by the user's explicit choice, so it is at least created 0600, whole or
not at all, and never through a symbolic link. Values that need no quoting are written bare;
others are single-quoted (literal everywhere: shells, Docker Compose, python-dotenv), and only
values holding a ``'``, a newline, a carriage return or a tab are double-quoted with escapes.
Known limit: tools that expand ``$VAR`` inside double quotes (Docker Compose, shells) will
expand a ``$`` in such a double-quoted value; the importer of this package never does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from echo_vault_app.errors import UsageError, ValidationError
from echo_vault_app.secrets.backup_format import write_private_file
from echo_vault_app.secrets.importers.dotenv import KEY

_BARE = re.compile(r"[A-Za-z0-9_./:@+,=%^~-]*")
_DOUBLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _quote(value: str) -> str:
    if _BARE.fullmatch(value):
        return value
    if not any(c in value for c in "'\n\r\t"):
        return f"'{value}'"
    return '"' + "".join(_DOUBLE_ESCAPES.get(c, c) for c in value) + '"'


def render_dotenv(items: Iterable[tuple[str, str]]) -> str:
    """Render ``(KEY, value)`` pairs as ``.env`` text that the importer reads back unchanged.

    Raises:
        ValidationError: a key is not a valid variable name, is repeated, or a value holds a
            NUL character (environment variables cannot); the value is never quoted back.
    """
    lines: list[str] = []
    seen: set[str] = set()
    for key, value in items:
        if not isinstance(key, str) or not KEY.fullmatch(key):
            raise ValidationError(f"{key!r} is not a valid environment variable name")
        if key in seen:
            raise ValidationError(f"{key} appears twice in the export")
        if not isinstance(value, str) or "\x00" in value:
            raise ValidationError(f"the value of {key} cannot be written to a .env file")
        seen.add(key)
        lines.append(f"{key}={_quote(value)}\n")
    return "".join(lines)


def write_dotenv(path: Path, items: Iterable[tuple[str, str]], *, force: bool = False) -> None:
    """Write ``items`` to ``path`` as a 0600 ``.env`` file, atomically.

    Raises:
        ValidationError: see :func:`render_dotenv`.
        Conflict: the file exists and ``force`` is false.
        UsageError: the path is a symbolic link or not a regular file, or writing failed.
    """
    data = render_dotenv(items).encode("utf-8")
    write_private_file(
        Path(path), lambda fh: fh.write(data), force=force, what=".env", error=UsageError
    )
