"""What a vault folder holds, learnt without unlocking it and without loading SQLCipher.

The desktop app asks this before its unlock window is painted, so this module stays clear of
the database driver and the cryptography bindings; :mod:`.vault` re-exports it.
"""

from pathlib import Path
from typing import NamedTuple

from echo_vault_app import config
from echo_vault_app.core import throttle
from echo_vault_app.core.keyfile import KEYFILE_NAME, KeyFile

DB_NAME = "vault.db"


class VaultInfo(NamedTuple):
    """What can be learnt about a vault folder without unlocking it."""

    folder: Path
    exists: bool
    vault_id: str | None
    slots: tuple[str, ...]
    retry_after: float


def vault_exists(folder: Path) -> bool:
    return (folder / KEYFILE_NAME).exists() or (folder / DB_NAME).exists()


def inspect(folder: Path | None = None) -> VaultInfo:
    folder = Path(folder) if folder else config.default_vault_path()
    if not vault_exists(folder):
        return VaultInfo(folder, False, None, (), 0.0)
    keyfile = KeyFile.load(folder)
    wait = throttle.load(folder).retry_after()
    return VaultInfo(folder, True, keyfile.vault_id, tuple(sorted(keyfile.slots)), wait)
