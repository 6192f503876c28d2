"""Secret references, environments for child processes, output masking and template filling.

Pure logic with no process or vault handling, so each rule is testable on its own: the CLI's
``run`` and ``inject`` resolve references through the vault and do the I/O.

A reference is ``name``, ``name#field`` or ``echo-vault://name[#field]``; without a field the
secret's primary field is meant. Names are paths (``stripe/api_key``), so
``echo-vault://stripe/api_key`` first means the secret ``stripe/api_key`` and, when there is
none, the field ``api_key`` of the secret ``stripe``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from echo_vault_app.errors import SecretNotFound, UsageError
from echo_vault_app.secrets.model import normalize_name

SCHEME = "echo-vault://"
MASK = b"<concealed by echo-vault>"
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TEMPLATE_REF = re.compile(r"\{\{\s*(echo-vault://[^\s{}]+)\s*\}\}")


@dataclass(frozen=True)
class SecretRef:
    """A parsed reference; ``field`` None means the secret's primary field."""

    name: str
    field: str | None = None

    def __str__(self) -> str:
        return self.name + (f"#{self.field}" if self.field else "")

    def alternatives(self) -> list[SecretRef]:
        """This reference, then ``parent#last`` when the name is a path without a field."""
        found = [self]
        if self.field is None and "/" in self.name:
            parent, _, last = self.name.rpartition("/")
            found.append(SecretRef(parent, last))
        return found


def parse_ref(text: str) -> SecretRef:
    """Parse a reference.

    >>> parse_ref("echo-vault://stripe#api_key")
    SecretRef(name='stripe', field='api_key')

    Raises:
        UsageError: empty parts or a name the vault would refuse.
    """
    body = text[len(SCHEME) :] if text.startswith(SCHEME) else text
    name, sep, field = body.partition("#")
    if sep and not field:
        raise UsageError(f"reference {text!r} has an empty field after '#'")
    try:
        name = normalize_name(name)
    except UsageError as exc:
        raise UsageError(f"reference {text!r}: {exc}") from None
    return SecretRef(name, field or None)


def parse_env_assignment(text: str) -> tuple[str, SecretRef]:
    """Split ``NAME=ref`` as given to ``run --env``."""
    key, sep, ref = text.partition("=")
    if not sep or not ENV_NAME.fullmatch(key):
        raise UsageError(f"--env takes NAME=reference with a valid variable name, not {text!r}")
    return key, parse_ref(ref)


Resolver = Callable[[SecretRef], str]


def build_env(
    base: Mapping[str, str], assignments: Iterable[tuple[str, SecretRef]], resolve: Resolver
) -> tuple[dict[str, str], list[str]]:
    """The child's environment (``base`` plus the resolved values) and the values to mask.

    Raises:
        UsageError: a variable is given twice, or a value holds NUL (the OS cannot pass it).
        SecretNotFound: from ``resolve``.
    """
    env = dict(base)
    values: list[str] = []
    seen: set[str] = set()
    for key, ref in assignments:
        if key in seen:
            raise UsageError(f"--env {key} is given twice")
        seen.add(key)
        value = resolve(ref)
        if "\x00" in value:
            raise UsageError(f"the value of {ref} holds a NUL character; it cannot be in an env")
        env[key] = value
        values.append(value)
    return env, values


def template_refs(text: str) -> list[SecretRef]:
    """Every distinct reference in a template, in order of first appearance."""
    seen: dict[SecretRef, None] = {}
    for match in TEMPLATE_REF.finditer(text):
        seen.setdefault(parse_ref(match.group(1)), None)
    return list(seen)


def render_template(text: str, resolve: Resolver) -> str:
    """Replace every ``{{ echo-vault://name#field }}``; every reference resolves or none does.

    Raises:
        SecretNotFound: a reference names no secret or field (nothing is returned).
    """
    values = {ref: resolve(ref) for ref in template_refs(text)}
    return TEMPLATE_REF.sub(lambda m: values[parse_ref(m.group(1))], text)


def resolve_with_fallback(ref: SecretRef, read: Resolver) -> str:
    """Try the reference, then its ``parent#last`` reading; raise the first miss otherwise."""
    first_error: SecretNotFound | None = None
    for candidate in ref.alternatives():
        try:
            return read(candidate)
        except SecretNotFound as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise SecretNotFound(f"reference {ref} names no secret or field in the vault") from None


class Masker:
    """Replaces every occurrence of the given values in a byte stream with :data:`MASK`.

    Output is held back only as far as needed: the shortest tail of what has been seen that
    could still be the start of a value (never more than the longest value minus one byte), so
    a value split across reads is caught and ordinary output is not delayed. Longer values win
    where values overlap.
    """

    def __init__(self, values: Iterable[str | bytes], mask: bytes = MASK) -> None:
        raw = {v.encode("utf-8") if isinstance(v, str) else v for v in values}
        self._values = sorted((v for v in raw if v), key=len, reverse=True)
        self._mask = mask
        self._pending = b""
        self._pattern = (
            re.compile(b"|".join(re.escape(v) for v in self._values)) if self._values else None
        )
        self._keep = max((len(v) for v in self._values), default=1) - 1

    def feed(self, data: bytes) -> bytes:
        """Take the next bytes; return what can safely be shown now."""
        if self._pattern is None:
            return data
        data = self._pending + data
        cut = len(data) - self._keep
        out = bytearray()
        position = 0
        for match in self._pattern.finditer(data):
            if match.start() >= cut and self._hold_from(data, max(position, cut)) <= match.start():
                break  # an unfinished value may start first: wait for more
            out += data[position : match.start()] + self._mask
            position = match.end()
        hold = self._hold_from(data, max(position, cut))
        out += data[position:hold]
        self._pending = data[hold:]
        return bytes(out)

    def _hold_from(self, data: bytes, start: int) -> int:
        """First index from ``start`` where the rest of ``data`` begins an unfinished value."""
        for index in range(max(start, 0), len(data)):
            tail = data[index:]
            if any(len(v) > len(tail) and v.startswith(tail) for v in self._values):
                return index
        return len(data)

    def flush(self) -> bytes:
        """The end of the stream: return what was held back, masked."""
        data, self._pending = self._pending, b""
        if self._pattern is None:
            return data
        return self._pattern.sub(lambda _match: self._mask, data)
