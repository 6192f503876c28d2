"""Where the CLI reads secrets from: a terminal prompt without echo, stdin, or a file.

There is deliberately no way to pass a passphrase or a secret value as a command-line argument:
argv is visible to every user of the machine through ``ps`` and lands in shell history.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from echo_vault_app.errors import UsageError

MAX_VALUE_BYTES = 64 * 1024 * 1024


class Inputs:
    """Reads stdin at most once, so a passphrase line and a value can share it."""

    def __init__(self, passphrase_stdin: bool = False, passphrase_file: str | None = None) -> None:
        self.passphrase_stdin = passphrase_stdin
        self.passphrase_file = passphrase_file
        self._stdin_rest: bytes | None = None
        self._passphrase: str | None = None

    @staticmethod
    def interactive() -> bool:
        return sys.stdin.isatty()

    def passphrase(self, prompt: str = "Passphrase: ") -> str | None:
        """The passphrase given by option, or None when none was given and no TTY is there."""
        if self._passphrase is not None:
            return self._passphrase
        if self.passphrase_file:
            self._passphrase = read_text_file(self.passphrase_file, "passphrase file").rstrip(
                "\r\n"
            )
        elif self.passphrase_stdin:
            data = self._stdin()
            line, _, rest = data.partition(b"\n")
            self._stdin_rest = rest
            self._passphrase = line.rstrip(b"\r").decode("utf-8", "strict")
        elif self.interactive():
            self._passphrase = getpass.getpass(prompt)
        return self._passphrase

    def new_passphrase(self) -> str:
        """A new passphrase: asked twice on a terminal, or taken from the passphrase options."""
        if self.passphrase_file or self.passphrase_stdin:
            value = self.passphrase()
            assert value is not None
        elif self.interactive():
            value = getpass.getpass("New passphrase: ")
            if getpass.getpass("Repeat passphrase: ") != value:
                raise UsageError("the two passphrases differ")
        else:
            raise UsageError("no terminal: give the passphrase with --passphrase-stdin or -file")
        if len(value) < 8:
            raise UsageError("a passphrase needs at least 8 characters")
        return value

    def _stdin(self) -> bytes:
        if self._stdin_rest is not None:
            rest, self._stdin_rest = self._stdin_rest, b""
            return rest
        data = sys.stdin.buffer.read(MAX_VALUE_BYTES + 1)
        if len(data) > MAX_VALUE_BYTES:
            raise UsageError("stdin holds more than 64 MiB")
        self._stdin_rest = b""
        return data

    def value_from_stdin(self) -> str | bytes:
        return decode_value(self._stdin(), strip_newline=True)

    def value_from_prompt(self, label: str) -> str:
        if not self.interactive():
            raise UsageError(f"no terminal to ask for {label}: use stdin or --from-file")
        return getpass.getpass(f"{label}: ")


def decode_value(data: bytes, *, strip_newline: bool) -> str | bytes:
    """Text when the bytes are UTF-8, else the bytes themselves (binary secrets are allowed)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    if strip_newline and text.endswith("\n") and text.count("\n") == 1:
        text = text[:-1].rstrip("\r")
    return text


def read_text_file(path: str, what: str) -> str:
    data = read_file(path, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"the {what} is not UTF-8 text") from exc


def read_file(path: str, what: str) -> bytes:
    target = Path(path)
    try:
        if target.stat().st_size > MAX_VALUE_BYTES:
            raise UsageError(f"the {what} is larger than 64 MiB")
        with target.open("rb") as handle:
            return handle.read(MAX_VALUE_BYTES + 1)
    except FileNotFoundError as exc:
        raise UsageError(f"the {what} {path} does not exist") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"the {what} {path} is a folder") from exc
    except PermissionError as exc:
        raise UsageError(f"the {what} {path} cannot be read (permission denied)") from exc


def stdout_is_terminal() -> bool:
    """Asked of the stream, so an agent answering for another process can say its terminal."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, OSError, ValueError):
        return False
