"""``vault.keys``: the wrapped data key and the unlock slots, as JSON.

The file holds nothing usable without an unlock secret: the data key is wrapped by the vault
key, and every slot wraps the vault key under a key-encryption key of its own. It is parsed
defensively (size, types, lengths) because a damaged or crafted file must give a clear error,
not a crash or an allocation driven by its content.
"""

import base64
import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, Self

from echo_vault_app.core.fsutil import atomic_write
from echo_vault_app.core.kdfparams import Argon2Params
from echo_vault_app.errors import KeyFileDamaged

KEYFILE_NAME = "vault.keys"
FORMAT = "echo-vault-keys"
FORMAT_VERSION = 1
MAX_KEYFILE_BYTES = 64 * 1024
SLOT_TYPES = ("passphrase", "recovery", "keyring", "env")


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: object, what: str, *, max_len: int = 4096) -> bytes:
    if not isinstance(text, str) or len(text) > max_len:
        raise KeyFileDamaged(f"vault.keys is damaged: {what} is malformed")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise KeyFileDamaged(f"vault.keys is damaged: {what} is malformed") from exc


class WrappedDataKey(NamedTuple):
    version: int
    wrapped: bytes


class Slot(NamedTuple):
    kind: str
    wrapped: bytes
    salt: bytes = b""
    argon2: Argon2Params | None = None
    created: float = 0.0


class KeyFile:
    """The contents of ``vault.keys``; rotation and re-sealing change it in place, then save."""

    __slots__ = ("vault_id", "created", "data_key", "pending_data_key", "slots")

    def __init__(
        self,
        vault_id: str,
        created: float,
        data_key: WrappedDataKey,
        pending_data_key: WrappedDataKey | None = None,
        slots: dict[str, Slot] | None = None,
    ) -> None:
        self.vault_id = vault_id
        self.created = created
        self.data_key = data_key
        self.pending_data_key = pending_data_key
        self.slots: dict[str, Slot] = {} if slots is None else slots

    def to_json(self) -> bytes:
        doc: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "vault_id": self.vault_id,
            "created": self.created,
            "data_key": _dk_to_dict(self.data_key),
            "pending_data_key": _dk_to_dict(self.pending_data_key),
            "slots": {name: _slot_to_dict(slot) for name, slot in sorted(self.slots.items())},
        }
        return json.dumps(doc, indent=2).encode("utf-8") + b"\n"

    def save(self, folder: Path) -> None:
        atomic_write(folder / KEYFILE_NAME, self.to_json())

    @classmethod
    def load(cls, folder: Path) -> Self:
        path = folder / KEYFILE_NAME
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_KEYFILE_BYTES + 1)
        except FileNotFoundError as exc:
            raise KeyFileDamaged(f"vault.keys is missing from {folder}") from exc
        except OSError as exc:
            raise KeyFileDamaged(f"vault.keys cannot be read: {exc.strerror}") from exc
        if len(raw) > MAX_KEYFILE_BYTES:
            raise KeyFileDamaged("vault.keys is damaged: file is too large")
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise KeyFileDamaged("vault.keys is damaged: not valid JSON") from exc
        return cls.from_dict(doc)

    @classmethod
    def from_dict(cls, doc: object) -> Self:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise KeyFileDamaged("vault.keys is damaged: not an Echo Vault key file")
        if doc.get("version") != FORMAT_VERSION:
            raise KeyFileDamaged("vault.keys was written by an unsupported Echo Vault version")
        vault_id = doc.get("vault_id")
        if not isinstance(vault_id, str) or not 8 <= len(vault_id) <= 64:
            raise KeyFileDamaged("vault.keys is damaged: vault id is malformed")
        slots_doc = doc.get("slots")
        if not isinstance(slots_doc, dict) or not slots_doc:
            raise KeyFileDamaged("vault.keys is damaged: it has no unlock slots")
        slots = {}
        for name, slot_doc in slots_doc.items():
            if name not in SLOT_TYPES:
                raise KeyFileDamaged(f"vault.keys is damaged: unknown slot type {name[:20]!r}")
            slots[name] = _slot_from_dict(name, slot_doc)
        created = doc.get("created")
        return cls(
            vault_id=vault_id,
            created=float(created) if isinstance(created, int | float) else 0.0,
            data_key=_dk_from_dict(doc.get("data_key"), "data key"),
            pending_data_key=(
                None
                if doc.get("pending_data_key") is None
                else _dk_from_dict(doc.get("pending_data_key"), "pending data key")
            ),
            slots=slots,
        )


def _dk_to_dict(key: WrappedDataKey | None) -> dict[str, Any] | None:
    if key is None:
        return None
    return {"version": key.version, "wrapped": b64e(key.wrapped)}


def _dk_from_dict(doc: object, what: str) -> WrappedDataKey:
    if not isinstance(doc, dict):
        raise KeyFileDamaged(f"vault.keys is damaged: {what} is missing")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version < 2**31:
        raise KeyFileDamaged(f"vault.keys is damaged: {what} version is malformed")
    return WrappedDataKey(version, b64d(doc.get("wrapped"), what))


def _slot_to_dict(slot: Slot) -> dict[str, Any]:
    doc: dict[str, Any] = {"wrapped": b64e(slot.wrapped), "created": slot.created}
    if slot.salt:
        doc["salt"] = b64e(slot.salt)
    if slot.argon2 is not None:
        doc["kdf"] = {"name": "argon2id", **slot.argon2.to_dict()}
    return doc


def _slot_from_dict(kind: str, doc: object) -> Slot:
    if not isinstance(doc, dict):
        raise KeyFileDamaged(f"vault.keys is damaged: {kind} slot is malformed")
    argon2 = None
    if kind == "passphrase":
        kdf = doc.get("kdf")
        if not isinstance(kdf, dict) or kdf.get("name") != "argon2id":
            raise KeyFileDamaged("vault.keys is damaged: passphrase slot has no Argon2id settings")
        try:
            argon2 = Argon2Params.from_dict(kdf)
        except ValueError as exc:
            raise KeyFileDamaged(f"vault.keys is damaged: {exc}") from exc
    created = doc.get("created", 0.0)
    salt = b64d(doc["salt"], f"{kind} salt", max_len=128) if "salt" in doc else b""
    if kind in ("passphrase", "recovery") and len(salt) < 16:
        raise KeyFileDamaged(f"vault.keys is damaged: {kind} slot salt is malformed")
    return Slot(
        kind=kind,
        wrapped=b64d(doc.get("wrapped"), f"{kind} slot"),
        salt=salt,
        argon2=argon2,
        created=float(created) if isinstance(created, int | float) else 0.0,
    )


class KeyFileBusy(Exception):
    """Another process is rewriting vault.keys right now (only with ``blocking=False``)."""


@contextlib.contextmanager
def keyfile_lock(folder: Path, *, blocking: bool = True) -> Iterator[None]:
    """Serialise rewrites of ``vault.keys`` between processes (an flock on a side file)."""
    fd = os.open(folder / ".vault.keys.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            raise KeyFileBusy() from None
        yield
    finally:
        os.close(fd)


def update_keyfile(
    folder: Path, change: Callable[[KeyFile], None], *, blocking: bool = True
) -> KeyFile:
    """Re-read, change and atomically rewrite ``vault.keys`` under the lock, so two processes
    changing different slots at once both keep their change."""
    with keyfile_lock(folder, blocking=blocking):
        keyfile = KeyFile.load(folder)
        change(keyfile)
        keyfile.save(folder)
        return keyfile
