"""The encrypted backup container: one versioned file that only the password opens.

Layout::

    magic (8) | format version (u16 BE) | header length (u32 BE) | header (JSON, UTF-8)
    | chunk 0 | chunk 1 | ... | chunk n-1

The header names the KDF (Argon2id) with its parameters and salt, the cipher, the chunk size, a
random nonce prefix, a password check value, the creation time and the number of items in each
top-level list of the payload (so a restore dialog can show "120 secrets" before asking for the
password; these counts are visible without the password). The payload is the JSON text of the
vault layer's dict, cut into chunks and sealed with AES-256-GCM in a STREAM construction: the
nonce of chunk *i* is ``prefix (7) | i (u32 BE) | last-chunk flag (1)`` and the associated data
of every chunk is the whole prefix-plus-header, so editing the header, removing, reordering or
duplicating a chunk, or cutting the file at a chunk boundary all fail authentication.

The check value is an HKDF output of the Argon2id key that is independent of the payload key,
so a wrong password is recognised right after the KDF, before any chunk is decrypted.

Neither side holds the whole payload. The writer encodes a top-level list item by item, and a
list may be an :class:`Items` that produces its items on demand (an export of 100,000 secrets
reads them from the vault one at a time). :class:`BackupReader` decrypts chunk by chunk and
hands out the top-level members, a list's items one at a time, as it parses them. Whatever it
hands out is provisional until its iteration ends: only then has every chunk authenticated and
the end of the stream been seen where the writer put it. So a restore writes what it reads
inside one transaction, and commits only once the reading has ended without a fault.

Known limits: the payload is not compressed (JSON of many secrets would shrink several times;
adding it needs a bounded decompressor and a format version bump). :func:`write_private_file`
lives here only until a shared file-helpers module exists; ``dotenv_export`` borrows it.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import hmac
import json
import logging
import os
import re
import stat
import struct
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from echo_vault_app.errors import (
    BackupCorrupted,
    BackupError,
    BackupVersionUnsupported,
    BackupWrongPassword,
    Conflict,
    UsageError,
    ValidationError,
    WeakPassword,
)
from echo_vault_app.secrets import safejson

logger = logging.getLogger(__name__)

MAGIC = b"\x89EVBAK\r\n"
FORMAT_VERSION = 1
PREFIX = struct.Struct(">8sHI")

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
MIN_ZXCVBN_SCORE = 2

MIN_MEMORY_KIB, MAX_MEMORY_KIB = 64 * 1024, 1024 * 1024
MIN_ITERATIONS, MAX_ITERATIONS = 3, 16
MIN_LANES, MAX_LANES = 4, 16

DEFAULT_CHUNK_SIZE = 1024 * 1024
MIN_CHUNK_SIZE, MAX_CHUNK_SIZE = 256, 16 * 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024
MAX_PAYLOAD_BYTES = 512 * 1024 * 1024
MAX_PAYLOAD_DEPTH = 32
TAG_BYTES = 16
SALT_BYTES = 16
NONCE_PREFIX_BYTES = 7
CHECK_BYTES = 32

_CHECK_INFO = b"echo-vault backup v1 password check"
_PAYLOAD_INFO = b"echo-vault backup v1 payload key"
_HEADER_KEYS = {"cipher", "chunk_size", "nonce_prefix", "kdf", "check", "created", "counts"}
_KDF_KEYS = {"name", "memory_kib", "iterations", "lanes", "salt"}

Progress = Callable[[int, int], None]
Derive = Callable[[bytes, "KdfParams", bytes], bytes]


class Items:
    """A top-level list of the payload, passed through one item at a time.

    Writing, it wraps a generator and says in advance how many items it will produce (the
    header records the count before the first chunk is sealed). Reading, it is what
    :meth:`BackupReader.members` hands out for a list: its items in order, each checked
    against the size, depth and duplicate-key limits; it can be iterated once.
    """

    def __init__(self, count: int, items: Iterable[Any]) -> None:
        self.count = count
        self._items = iter(items)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Any]:
        return self._items


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters; the defaults are also the floor."""

    memory_kib: int = MIN_MEMORY_KIB
    iterations: int = MIN_ITERATIONS
    lanes: int = MIN_LANES

    name = "argon2id"

    def within_bounds(self) -> bool:
        return (
            MIN_MEMORY_KIB <= self.memory_kib <= MAX_MEMORY_KIB
            and MIN_ITERATIONS <= self.iterations <= MAX_ITERATIONS
            and MIN_LANES <= self.lanes <= MAX_LANES
        )


@dataclass(frozen=True)
class BackupHeader:
    """What a backup says about itself before the password is known."""

    format_version: int
    created: datetime
    kdf: KdfParams
    chunk_size: int
    counts: dict[str, int]
    salt: bytes = field(repr=False)
    nonce_prefix: bytes = field(repr=False)
    check: bytes = field(repr=False)
    raw: bytes = field(repr=False)


def check_backup_password(password: str) -> None:
    """Refuse a password too weak to protect a file that can be attacked offline.

    Two rules: at least 12 characters (after NFC normalisation), and a zxcvbn score of at least
    2 ("somewhat guessable" or better), which turns away long but common shapes such as
    ``password1234`` or ``aaaaaaaaaaaa``. The GUI and CLI show the estimate before this point.

    Raises:
        WeakPassword: with the reason; the password itself is never in the message.
        UsageError: the password is not a string or is absurdly long.
    """
    if not isinstance(password, str):
        raise UsageError("backup password must be text")

    password = unicodedata.normalize("NFC", password)
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(
            f"backup password is too short: use at least {MIN_PASSWORD_CHARS} characters"
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise UsageError(f"backup password is longer than {MAX_PASSWORD_CHARS} characters")

    from zxcvbn import zxcvbn

    # zxcvbn's matching grows quickly with length; the first 100 characters decide.
    estimate = zxcvbn(password[:100], user_inputs=["echo", "vault", "echo vault", "backup"])
    if estimate["score"] < MIN_ZXCVBN_SCORE:
        warning = estimate["feedback"].get("warning") or "it follows a common pattern"
        raise WeakPassword(f"backup password is too easy to guess: {warning.rstrip('.')}")


def derive_master_key(password: bytes, kdf: KdfParams, salt: bytes) -> bytes:
    """Run Argon2id with (already bounds-checked) parameters."""
    argon = Argon2id(
        salt=salt,
        length=32,
        iterations=kdf.iterations,
        lanes=kdf.lanes,
        memory_cost=kdf.memory_kib,
    )
    return argon.derive(password)


def _subkey(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


def _password_bytes(password: str) -> bytes:
    if not isinstance(password, str):
        raise UsageError("backup password must be text")
    return unicodedata.normalize("NFC", password).encode("utf-8")


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, length: int, what: str) -> bytes:
    try:
        data = base64.b64decode(text, validate=True) if isinstance(text, str) else None
    except ValueError:
        data = None
    if data is None or len(data) != length:
        raise BackupCorrupted(f"backup header has an invalid {what}")
    return data


def _int_in(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def parse_header(prefix_and_header: bytes) -> BackupHeader:
    """Validate a header completely, including KDF bounds, before any key work."""
    magic, version, length = PREFIX.unpack_from(prefix_and_header)
    text = prefix_and_header[PREFIX.size :]
    try:
        doc = safejson.loads(text, max_bytes=MAX_HEADER_BYTES, max_depth=3)
    except ValidationError as exc:
        raise BackupCorrupted(f"backup header is damaged ({exc})") from None
    if not isinstance(doc, dict) or set(doc) != _HEADER_KEYS or doc["cipher"] != "aes-256-gcm":
        raise BackupCorrupted("backup header is damaged (unexpected fields)")

    kdf = doc["kdf"]
    if not isinstance(kdf, dict) or set(kdf) != _KDF_KEYS or kdf["name"] != "argon2id":
        raise BackupCorrupted("backup header names an unknown key derivation")
    params = KdfParams(kdf["memory_kib"], kdf["iterations"], kdf["lanes"])
    if not all(_int_in(v, 1, 2**32) for v in (params.memory_kib, params.iterations, params.lanes)):
        raise BackupCorrupted("backup header has malformed KDF parameters")
    if not params.within_bounds():
        raise BackupCorrupted("backup header has KDF parameters outside the accepted bounds")

    if not _int_in(doc["chunk_size"], MIN_CHUNK_SIZE, MAX_CHUNK_SIZE):
        raise BackupCorrupted("backup header has an invalid chunk size")
    counts = doc["counts"]
    if not isinstance(counts, dict) or len(counts) > 64:
        raise BackupCorrupted("backup header has invalid item counts")
    if not all(len(k) <= 64 and _int_in(v, 0, 2**40) for k, v in counts.items()):
        raise BackupCorrupted("backup header has invalid item counts")
    try:
        created = datetime.fromisoformat(doc["created"])
    except (TypeError, ValueError):
        raise BackupCorrupted("backup header has an invalid creation time") from None

    return BackupHeader(
        format_version=version,
        created=created,
        kdf=params,
        chunk_size=doc["chunk_size"],
        counts=counts,
        salt=_unb64(kdf["salt"], SALT_BYTES, "salt"),
        nonce_prefix=_unb64(doc["nonce_prefix"], NONCE_PREFIX_BYTES, "nonce"),
        check=_unb64(doc["check"], CHECK_BYTES, "check value"),
        raw=bytes(prefix_and_header),
    )


def _read_header(fh: BinaryIO) -> BackupHeader:
    prefix = fh.read(PREFIX.size)
    if len(prefix) < len(MAGIC) or prefix[: len(MAGIC)] != MAGIC:
        raise BackupCorrupted("not an Echo Vault backup")
    if len(prefix) < PREFIX.size:
        raise BackupCorrupted("backup is truncated")

    _, version, length = PREFIX.unpack(prefix)
    if version > FORMAT_VERSION:
        raise BackupVersionUnsupported(
            f"backup format version {version} is newer than this Echo Vault reads "
            f"(up to {FORMAT_VERSION}); update Echo Vault to restore it"
        )
    if version < 1:
        raise BackupCorrupted("backup has an invalid format version")
    if not 2 <= length <= MAX_HEADER_BYTES:
        raise BackupCorrupted("backup header has an invalid length")

    text = fh.read(length)
    if len(text) < length:
        raise BackupCorrupted("backup is truncated")
    return parse_header(prefix + text)


def _open_for_reading(path: Path) -> BinaryIO:
    """Open ``path`` without blocking on a FIFO and insist on a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise BackupError("backup file does not exist") from None
    except OSError as exc:
        raise BackupError(f"cannot open backup file: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BackupError("backup path is not a regular file")
    return os.fdopen(fd, "rb")


def read_backup_header(path: Path) -> BackupHeader:
    """Read and validate the header only; no password is needed.

    Raises:
        BackupCorrupted, BackupVersionUnsupported, BackupError.
    """
    with _open_for_reading(Path(path)) as fh:
        return _read_header(fh)


def read_backup(path: Path, password: str, *, progress: Progress | None = None) -> dict:
    """Decrypt and fully verify a backup, returning its whole payload dict.

    Nothing is returned until every chunk has authenticated, the end of the stream was seen
    where the writer put it, and the JSON passed the size, depth and duplicate-key limits. For a
    large backup, :class:`BackupReader` reads the same file without holding all of it.

    Args:
        path: the backup file.
        password: the backup password (NFC-normalised before the KDF).
        progress: called as ``progress(bytes_read, file_size)`` while chunks are decrypted.

    Raises:
        BackupWrongPassword: the check value does not match (also the case when the salt or
            KDF fields of the header were altered, which cannot be told apart).
        BackupCorrupted: not a backup, truncated, tampered with, or an invalid payload.
        BackupVersionUnsupported: written by a newer format version.
        BackupError: the file cannot be opened.
    """
    return _read(Path(path), _password_bytes(password), derive_master_key, progress)


def _read(path: Path, password: bytes, derive: Derive, progress: Progress | None) -> dict:
    with BackupReader(path, password, derive=derive) as reader:
        return {
            key: list(value) if isinstance(value, Items) else value
            for key, value in reader.members(progress)
        }


class BackupReader:
    """An opened backup whose payload is read member by member.

    Opening reads and validates the header and derives the key (the password is checked right
    after the KDF, before any chunk is decrypted); each call of :meth:`members` decrypts the
    file from its first chunk.
    """

    def __init__(
        self, path: Path, password: bytes | str, *, derive: Derive = derive_master_key
    ) -> None:
        if isinstance(password, str):
            password = _password_bytes(password)
        self._fh = _open_for_reading(Path(path))
        try:
            self._total = os.fstat(self._fh.fileno()).st_size
            if (
                self._total
                > MAX_PAYLOAD_BYTES
                + MAX_HEADER_BYTES
                + (MAX_PAYLOAD_BYTES // MIN_CHUNK_SIZE) * TAG_BYTES
            ):
                raise BackupCorrupted("backup file is larger than any backup Echo Vault writes")
            self.header = _read_header(self._fh)
            self._body = self._fh.tell()
            master = derive(password, self.header.kdf, self.header.salt)
            if not hmac.compare_digest(_subkey(master, _CHECK_INFO), self.header.check):
                raise BackupWrongPassword("wrong backup password (or the backup header is damaged)")
            self._aead = AESGCM(_subkey(master, _PAYLOAD_INFO))
        except BaseException:
            self._fh.close()
            raise

    def __enter__(self) -> BackupReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._fh.close()

    def members(self, progress: Progress | None = None) -> Iterator[tuple[str, Any]]:
        """Yield the payload's top-level members in file order as ``(key, value)``.

        A list arrives as :class:`Items`, to be iterated before asking for the next member
        (whatever is left of it is skipped, still checked). Everything yielded is provisional:
        the file is known to be whole, untampered and consistent with its header only once
        this iteration has ended without raising.

        Raises:
            BackupCorrupted: damaged, truncated, tampered with, or an invalid payload.
            BackupError: the file cannot be read.
        """
        self._fh.seek(self._body)
        text = _PayloadText(self._chunks(progress))
        seen: set[str] = set()
        counts: dict[str, int] = {}
        text.take("{")
        if text.peek() == "}":
            text.pos += 1
        else:
            while True:
                key = text.value(1)
                if not isinstance(key, str):
                    raise BackupCorrupted("backup payload is invalid: malformed JSON")
                if key in seen:
                    raise BackupCorrupted(
                        "backup payload is invalid: JSON object has a duplicate key"
                    )
                seen.add(key)
                text.take(":")
                if text.peek() == "[":
                    text.pos += 1
                    counts[key] = 0
                    expected = self.header.counts.get(key, 0)
                    items = Items(expected, self._items(text, key, expected, counts))
                    yield key, items
                    for _ in items:
                        pass
                else:
                    yield key, text.value(MAX_PAYLOAD_DEPTH - 1)
                if text.ends_with("}"):
                    break
        if text.peek() != "":
            raise BackupCorrupted("backup payload is invalid: data after the JSON document")
        if counts != self.header.counts:
            raise BackupCorrupted("backup payload does not match the item counts in its header")

    def _items(
        self, text: _PayloadText, key: str, expected: int, counts: dict[str, int]
    ) -> Iterator[Any]:
        if text.peek() == "]":
            text.pos += 1
            return
        while True:
            item = text.value(MAX_PAYLOAD_DEPTH - 2)
            counts[key] += 1
            if counts[key] > expected:
                raise BackupCorrupted("backup payload does not match the item counts in its header")
            yield item
            if text.ends_with("]"):
                return

    def _chunks(self, progress: Progress | None) -> Iterator[bytes]:
        """Decrypt the chunks in order; the last one must carry the final flag."""
        header, fh = self.header, self._fh
        sealed_size = header.chunk_size + TAG_BYTES
        current = fh.read(sealed_size)
        if not current:
            raise BackupCorrupted("backup is truncated (no payload)")
        index = size = 0
        while current:
            following = fh.read(sealed_size)
            last = not following
            if len(current) < TAG_BYTES or (not last and len(current) != sealed_size):
                raise BackupCorrupted("backup is truncated")
            if index >= 2**32:
                raise BackupCorrupted("backup has too many chunks")
            nonce = _nonce(header.nonce_prefix, index, last)
            try:
                plain = self._aead.decrypt(nonce, current, header.raw)
            except InvalidTag:
                raise BackupCorrupted(
                    f"backup is damaged, truncated or was tampered with (chunk {index} failed "
                    "authentication)"
                ) from None
            size += len(plain)
            if size > MAX_PAYLOAD_BYTES:
                raise BackupCorrupted("backup payload is larger than Echo Vault accepts")
            if progress is not None:
                progress(fh.tell() - len(following), self._total)
            yield plain
            current = following
            index += 1


_WHITESPACE = re.compile(r"[ \t\n\r]*")


class _PayloadText:
    """The decrypted payload as text, pulled in chunk by chunk as the parser needs it.

    Only the part not yet parsed is kept. A value is parsed with the C decoder once the text
    holds all of it: a value that reaches the end of what has arrived (a number may go on, an
    object may be unfinished) is parsed again after more has arrived, and the amount pulled in
    doubles each time, so a value spanning many chunks costs a few parses, not one per chunk.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.pos = 0
        self.ended = False

    def more(self, at_least: int = 1) -> bool:
        """Pull in at least ``at_least`` more characters; False once the payload has ended."""
        pieces, added = [self.text[self.pos :]], 0
        while added < at_least and not self.ended:
            chunk = next(self._chunks, None)
            try:
                piece = self._utf8.decode(b"" if chunk is None else chunk, final=chunk is None)
            except UnicodeDecodeError:
                raise BackupCorrupted("backup payload is invalid: not valid UTF-8") from None
            self.ended = chunk is None
            pieces.append(piece)
            added += len(piece)
        self.text, self.pos = "".join(pieces), 0
        return added > 0

    def peek(self) -> str:
        """The next character that is not white space, or "" at the end of the payload."""
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def ends_with(self, closing: str) -> bool:
        """Step over the separator after a member or item: True at ``closing``, False at ","."""
        following = self.peek()
        self.pos += 1
        if following not in (closing, ","):
            raise BackupCorrupted("backup payload is invalid: malformed JSON")
        return following == closing

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise BackupCorrupted("backup payload is invalid: not a JSON object")
        self.pos += 1

    def value(self, max_depth: int) -> Any:
        self.peek()
        while True:
            try:
                value, end = safejson.raw_decode(self.text, self.pos, max_depth=max_depth)
            except json.JSONDecodeError:
                if self.ended:
                    raise BackupCorrupted("backup payload is invalid: malformed JSON") from None
            except ValidationError as exc:
                raise BackupCorrupted(f"backup payload is invalid: {exc}") from None
            else:
                if end < len(self.text) or self.ended:
                    self.pos = end
                    return value
            self.more(at_least=max(len(self.text) - self.pos, 1))


def _counts(payload: Mapping[str, Any]) -> dict[str, int]:
    return {k: len(v) for k, v in payload.items() if isinstance(v, list | tuple | Items)}


def write_backup(
    path: Path,
    password: str,
    payload: Mapping,
    *,
    force: bool = False,
    kdf: KdfParams | None = None,
    progress: Progress | None = None,
) -> None:
    """Encrypt ``payload`` into a new backup file, atomically and readable only by the owner.

    The file appears complete or not at all (temporary file, fsync, rename, fsync of the
    folder). A symbolic link at ``path`` is never followed or replaced.

    Args:
        path: where to write.
        password: the backup password; see :func:`check_backup_password`.
        payload: a JSON-able mapping with string keys (the vault layer's backup document);
            a top-level list may be an :class:`Items` that produces its items as they are
            written.
        force: replace an existing regular file.
        kdf: Argon2id cost; never below the defaults.
        progress: called as ``progress(items_done, items_total)`` over the top-level list items.

    Raises:
        WeakPassword: the password fails :func:`check_backup_password`.
        UsageError: KDF parameters out of bounds, a payload that is not JSON-able or would
            exceed what :func:`read_backup` accepts, or an :class:`Items` that produced another
            number of items than it announced (the file is then not written).
        Conflict: the file exists and ``force`` is false.
        BackupError: the path is a symbolic link or not a regular file, or writing failed.
    """
    check_backup_password(password)
    _write(Path(path), _password_bytes(password), payload, force, kdf or KdfParams(), progress)


def _write(
    path: Path,
    password: bytes,
    payload: Mapping,
    force: bool,
    kdf: KdfParams,
    progress: Progress | None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    derive: Derive = derive_master_key,
) -> None:
    if not isinstance(kdf, KdfParams) or not kdf.within_bounds():
        raise UsageError(
            f"backup KDF parameters must be within memory {MIN_MEMORY_KIB}-{MAX_MEMORY_KIB} KiB, "
            f"{MIN_ITERATIONS}-{MAX_ITERATIONS} passes, {MIN_LANES}-{MAX_LANES} lanes"
        )
    if not isinstance(payload, Mapping) or not all(isinstance(k, str) for k in payload):
        raise UsageError("backup payload must be a mapping with text keys")

    salt = os.urandom(SALT_BYTES)
    master = derive(password, kdf, salt)
    header = _new_header(payload, kdf, salt, chunk_size, _subkey(master, _CHECK_INFO))
    aead = AESGCM(_subkey(master, _PAYLOAD_INFO))

    def write_body(fh: BinaryIO) -> None:
        fh.write(header.raw)
        for sealed in _seal_chunks(_encode_payload(payload, progress), header, aead):
            fh.write(sealed)

    write_private_file(path, write_body, force=force, what="backup", error=BackupError)
    logger.info("wrote encrypted backup with %d top-level lists", len(header.counts))


def _new_header(
    payload: Mapping, kdf: KdfParams, salt: bytes, chunk_size: int, check: bytes
) -> BackupHeader:
    doc = {
        "cipher": "aes-256-gcm",
        "chunk_size": chunk_size,
        "nonce_prefix": _b64(os.urandom(NONCE_PREFIX_BYTES)),
        "kdf": {
            "name": kdf.name,
            "memory_kib": kdf.memory_kib,
            "iterations": kdf.iterations,
            "lanes": kdf.lanes,
            "salt": _b64(salt),
        },
        "check": _b64(check),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": _counts(payload),
    }
    text = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    if len(text) > MAX_HEADER_BYTES:
        raise UsageError("backup payload has too many top-level lists")
    return parse_header(PREFIX.pack(MAGIC, FORMAT_VERSION, len(text)) + text)


def _encode_payload(payload: Mapping, progress: Progress | None) -> Iterator[bytes]:
    """Yield the payload's JSON text piece by piece, checked against the reader's limits.

    Each top-level list is encoded item by item with the C encoder, so memory stays near the
    size of the largest item instead of the whole document (and, for an :class:`Items`, of the
    whole list).
    """
    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    total_items = sum(_counts(payload).values())
    done = 0
    size = 0

    def piece(value: Any, depth_above: int) -> bytes:
        nonlocal size
        try:
            text = encoder.encode(value)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"backup payload is not JSON-serialisable: {exc}") from None
        if safejson.nesting_depth(text) + depth_above > MAX_PAYLOAD_DEPTH:
            raise UsageError(f"backup payload is nested deeper than {MAX_PAYLOAD_DEPTH} levels")
        data = text.encode("utf-8")
        size += len(data)
        if size > MAX_PAYLOAD_BYTES:
            raise UsageError(f"backup payload is larger than {MAX_PAYLOAD_BYTES} bytes")
        return data

    yield b"{"
    for position, (key, value) in enumerate(payload.items()):
        yield (b"," if position else b"") + piece(key, 1) + b":"
        if not isinstance(value, list | tuple | Items):
            yield piece(value, 1)
            continue
        yield b"["
        written = 0
        for item in value:
            yield (b"," if written else b"") + piece(item, 2)
            written += 1
            done += 1
            if progress is not None:
                progress(done, total_items)
        if written != len(value):
            raise UsageError(f"backup list {key} produced {written} items, not {len(value)}")
        yield b"]"
    yield b"}"


def _seal_chunks(pieces: Iterable[bytes], header: BackupHeader, aead: AESGCM) -> Iterator[bytes]:
    """Cut the byte stream into chunks and seal each; the last one carries the final flag.

    A chunk is only sealed once more data is known to follow it, so the final chunk is never
    empty and its flag is always right.
    """
    buffer = bytearray()
    index = 0
    for data in pieces:
        buffer += data
        while len(buffer) > header.chunk_size:
            nonce = _nonce(header.nonce_prefix, index, last=False)
            yield aead.encrypt(nonce, bytes(buffer[: header.chunk_size]), header.raw)
            del buffer[: header.chunk_size]
            index += 1
    yield aead.encrypt(_nonce(header.nonce_prefix, index, last=True), bytes(buffer), header.raw)


def write_private_file(
    path: Path,
    write: Callable[[BinaryIO], None],
    *,
    force: bool,
    what: str,
    error: type[Exception] = BackupError,
) -> None:
    """Create ``path`` with mode 0600 so that it appears whole or not at all.

    The content goes to a temporary file in the same folder (created 0600 by ``mkstemp``),
    which is fsynced, then linked (no ``force``: fails if a file appeared meanwhile) or renamed
    (``force``) into place, and the folder is fsynced. A symbolic link at ``path`` is refused,
    never followed; rename would replace the link itself, not its target.

    Raises:
        Conflict: ``path`` exists and ``force`` is false.
        error: ``path`` is a symbolic link or not a regular file, or an OS error occurred.
    """
    path = Path(path)
    try:
        existing = os.lstat(path)
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise error(f"cannot write {what} file: {exc.strerror}") from None
    if existing is not None:
        if stat.S_ISLNK(existing.st_mode):
            raise error(f"refusing to write the {what} file through a symbolic link")
        if not stat.S_ISREG(existing.st_mode):
            raise error(f"the {what} path exists and is not a regular file")
        if not force:
            raise Conflict(f"the {what} file already exists; choose another name or overwrite it")

    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise error(f"cannot write {what} file: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        _move_into_place(tmp, path, force, what)
    except OSError as exc:
        _remove_quietly(tmp)
        raise error(f"cannot write {what} file: {exc.strerror}") from None
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_folder(folder)


def _move_into_place(tmp: str, path: Path, force: bool, what: str) -> None:
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise Conflict(
            f"the {what} file already exists; choose another name or overwrite it"
        ) from None
    except OSError:
        # Some filesystems (FAT, some network mounts) have no hard links; fall back to a
        # rename, leaving only a tiny window in which a file created meanwhile is replaced.
        if os.path.lexists(path):
            raise Conflict(
                f"the {what} file already exists; choose another name or overwrite it"
            ) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _remove_quietly(tmp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        # Not every platform or filesystem can fsync a folder; the file itself is synced.
        pass
    finally:
        os.close(fd)
