"""Checks for credential values: URLs, AWS regions, TOTP seeds, SSH keys, scopes, ``.env``.

Each check takes the value as text and returns it normalised, or raises :class:`Invalid` whose
message is the reason — never the value, because values are secrets. Templates name a check in
their ``validator`` key; :data:`VALIDATORS` maps those names to these functions.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from echo_vault_app.errors import ValidationError
from echo_vault_app.secrets.dburl import parse_database_url


class Invalid(Exception):
    """A value check failed; the text is the reason, never the value."""


# --- value checks -------------------------------------------------------------------------------

_AWS_REGION_RE = re.compile(
    r"[a-z]{2,4}(-[a-z]{2,4})?-"
    r"(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9][0-9]?"
)
_BASE32_RE = re.compile(r"[A-Z2-7]+")
_SCOPE_RE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DOTENV_LINE_RE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")
_PEM_RE = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\n(.*?)\n?-----END ([A-Z0-9 ]+)-----", re.S)
_PRIVATE_PEM_LABELS = frozenset(
    {
        "OPENSSH PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
    }
)
_PUBLIC_KEY_PREFIXES = ("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-", "---- BEGIN SSH2 PUBLIC")


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if not re.fullmatch(r"[a-z][a-z0-9+.\-]*", parts.scheme) or not parts.hostname:
        raise Invalid("must be a URL such as https://host/path")
    if any(ch.isspace() for ch in value):
        raise Invalid("must be a URL without white space (percent-encode it)")
    try:
        parts.port  # noqa: B018 - reading it checks the port
    except ValueError:
        raise Invalid("has a malformed port") from None
    return value


def _check_database_url(value: str) -> str:
    try:
        return parse_database_url(value).to_url()
    except ValidationError as exc:
        raise Invalid(str(exc).removeprefix("database URL ")) from None


def _check_aws_region(value: str) -> str:
    value = value.lower()
    if not _AWS_REGION_RE.fullmatch(value):
        raise Invalid("must be an AWS region such as us-east-1 or eu-central-2")
    return value


def _check_totp_seed(value: str) -> str:
    if value.lower().startswith("otpauth://"):
        return _check_otpauth_uri(value)
    return _normalise_base32(value)


def _normalise_base32(value: str) -> str:
    seed = re.sub(r"[\s\-]", "", value).upper().rstrip("=")
    if not _BASE32_RE.fullmatch(seed):
        raise Invalid("must be a base32 seed (letters A-Z and digits 2-7) or an otpauth:// URI")
    if len(seed) < 16:
        raise Invalid("is too short for a TOTP seed (at least 16 base32 characters, 80 bits)")
    try:
        base64.b32decode(seed + "=" * (-len(seed) % 8))
    except binascii.Error:
        raise Invalid("has a base32 length that cannot be decoded") from None
    return seed


def _check_otpauth_uri(value: str) -> str:
    parts = urlsplit(value)
    if parts.netloc.lower() == "hotp":
        raise Invalid("is an HOTP (counter) URI; only time-based TOTP is supported")
    if parts.netloc.lower() != "totp":
        raise Invalid("must be an otpauth://totp/ URI")

    query = parse_qs(parts.query, keep_blank_values=True)
    secret = query.get("secret", [""])
    if len(secret) != 1 or not secret[0]:
        raise Invalid("otpauth URI must carry exactly one secret parameter")
    _normalise_base32(secret[0])

    algorithm = query.get("algorithm", ["SHA1"])[-1].upper()
    if algorithm not in ("SHA1", "SHA256", "SHA512"):
        raise Invalid("otpauth URI algorithm must be SHA1, SHA256 or SHA512")
    if query.get("digits", ["6"])[-1] not in ("6", "7", "8"):
        raise Invalid("otpauth URI digits must be 6, 7 or 8")
    period = query.get("period", ["30"])[-1]
    if not period.isdigit() or not 0 < int(period) <= 3600:
        raise Invalid("otpauth URI period must be a number of seconds from 1 to 3600")
    return value


def _check_ssh_private_key(value: str) -> str:
    text = value.replace("\r\n", "\n").strip()
    if text.startswith(_PUBLIC_KEY_PREFIXES) or "PUBLIC KEY-----" in text[:64]:
        raise Invalid("holds a public key; paste the private key")
    if text.startswith("PuTTY-User-Key-File"):
        raise Invalid("is a PuTTY key; convert it to OpenSSH format (puttygen -O private-openssh)")

    blocks = list(_PEM_RE.finditer(text))
    if len(blocks) != 1 or blocks[0].span() != (0, len(text)):
        raise Invalid("must be one private key from -----BEGIN ... PRIVATE KEY----- to its END")
    begin, body, end = blocks[0].groups()
    if begin != end or begin not in _PRIVATE_PEM_LABELS:
        raise Invalid("must be an OpenSSH, PKCS#8, RSA, EC or DSA private key")

    # Traditional encrypted PEM carries "Proc-Type:"/"DEK-Info:" lines before a blank line.
    lines = body.split("\n")
    encrypted_pem = any(":" in line for line in lines)
    if encrypted_pem:
        header_end = lines.index("") if "" in lines else len(lines)
        lines = lines[header_end + 1 :]
    try:
        der = base64.b64decode("".join(lines), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("has a key body that is not valid base64") from None

    if begin == "OPENSSH PRIVATE KEY" and not der.startswith(b"openssh-key-v1\x00"):
        raise Invalid("has an OpenSSH header but not an OpenSSH key body")
    if begin != "OPENSSH PRIVATE KEY" and not encrypted_pem and der[:1] != b"\x30":
        raise Invalid("has a PEM header but not a DER key body")
    return text + "\n"


def _check_scopes(value: str) -> str:
    scopes = split_list(value)
    if not all(_SCOPE_RE.fullmatch(scope) for scope in scopes):
        raise Invalid("must be scope names separated by spaces or commas, without quotes")
    return " ".join(scopes)


def _check_email(value: str) -> str:
    if not _EMAIL_RE.fullmatch(value):
        raise Invalid("must be an e-mail style user name such as name@example.com")
    return value


def _check_dotenv(value: str) -> str:
    text = value.replace("\r\n", "\n")
    _parse_dotenv(text)
    return text


VALIDATORS: dict[str, Callable[[str], str]] = {
    "url": _check_url,
    "database_url": _check_database_url,
    "aws_region": _check_aws_region,
    "totp_seed": _check_totp_seed,
    "ssh_private_key": _check_ssh_private_key,
    "scopes": _check_scopes,
    "email": _check_email,
    "dotenv": _check_dotenv,
}


def parse_dotenv(text: str) -> dict[str, str]:
    """Read a ``.env`` bundle: ``KEY=value`` lines, ``#`` comments, optional ``export``.

    Values may be single-quoted (taken literally) or double-quoted (``\\n``, ``\\"`` and
    ``\\\\`` escapes; may span lines). An unquoted value ends at `` #``.

    Raises:
        ValidationError: a line is malformed or a key repeats; the message gives line numbers
            only, never line text.
    """
    try:
        return _parse_dotenv(text)
    except Invalid as exc:
        raise ValidationError(f".env bundle {exc}") from None


def _parse_dotenv(text: str) -> dict[str, str]:
    result: dict[str, str] = {}
    first_line: dict[str, int] = {}
    lines = text.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue

        match = _DOTENV_LINE_RE.fullmatch(line)
        if not match:
            raise Invalid(f"line {number}: expected KEY=value")
        key, raw = match.groups()
        if key in first_line:
            raise Invalid(f"line {number}: key repeats line {first_line[key]}")
        first_line[key] = number

        if raw[:1] in ("'", '"'):
            quote = raw[0]
            while not _closes_quote(raw, quote) and index < len(lines):
                raw += "\n" + lines[index]
                index += 1
            if not _closes_quote(raw, quote):
                raise Invalid(f"line {number}: quoted value is never closed")
            body = raw[1 : _closing_index(raw, quote)]
            rest = raw[_closing_index(raw, quote) + 1 :].strip()
            if rest and not rest.startswith("#"):
                raise Invalid(f"line {number}: text after the closing quote")
            result[key] = body if quote == "'" else _unescape(body)
        else:
            result[key] = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
    return result


def _closing_index(raw: str, quote: str) -> int:
    position = 1
    while position < len(raw):
        if quote == '"' and raw[position] == "\\":
            position += 2
            continue
        if raw[position] == quote:
            return position
        position += 1
    return -1


def _closes_quote(raw: str, quote: str) -> bool:
    return _closing_index(raw, quote) != -1


def _unescape(body: str) -> str:
    table = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}
    return re.sub(r"\\(.)", lambda m: table.get(m.group(1), "\\" + m.group(1)), body)


def split_list(value: str) -> list[str]:
    seen: dict[str, None] = {}
    for item in re.split(r"[\s,]+", value.strip()):
        if item:
            seen.setdefault(item)
    return list(seen)


# --- the registry -------------------------------------------------------------------------------
