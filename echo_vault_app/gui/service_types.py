"""Typed results the service hands to the unlock and create panes: plain data, no Qt.

These two are needed before the unlock window is painted, so they are named tuples: frozen
dataclasses would add the dataclasses module and their generated methods to every start (about
5 ms). What the browser receives is in :mod:`.browser_types`.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


class VaultStatus(NamedTuple):
    """What the unlock and create panes need to know before any key is given."""

    folder: Path
    exists: bool
    has_keyring_slot: bool
    can_unlock_headless: bool
    has_passphrase: bool
    retry_after: float


class UnlockFailure(NamedTuple):
    """Why an unlock did not work: ``kind`` names the failure, ``message`` is for people."""

    kind: str
    message: str
    retry_after: float = 0.0
