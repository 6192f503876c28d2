"""Growing delay after wrong passphrases or recovery keys, persisted across restarts.

The first few mistakes cost nothing extra (people mistype); after that each failure doubles
the wait, up to fifteen minutes. The state lives in ``unlock.state`` beside the vault so a new
process or a restarted app cannot reset it. Failed attempts are also queued here, because the
audit trail inside the database cannot be written before the vault is open; they are moved into
the trail at the next successful unlock.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from echo_vault_app.core.fsutil import atomic_write

STATE_NAME = "unlock.state"
FREE_ATTEMPTS = 3
MAX_DELAY_SECONDS = 15 * 60
MAX_QUEUED_EVENTS = 200


class ThrottleState:
    """Failures so far, when the last was, and failed attempts not yet in the audit trail."""

    __slots__ = ("failures", "last_failure", "queued")

    def __init__(
        self,
        failures: int = 0,
        last_failure: float = 0.0,
        queued: list[tuple[float, str]] | None = None,
    ) -> None:
        self.failures = failures
        self.last_failure = last_failure
        self.queued: list[tuple[float, str]] = [] if queued is None else queued

    def delay(self) -> float:
        if self.failures < FREE_ATTEMPTS:
            return 0.0
        return float(min(2 ** (self.failures - FREE_ATTEMPTS), MAX_DELAY_SECONDS))

    def retry_after(self, now: float | None = None) -> float:
        now = time.time() if now is None else now
        return max(0.0, self.last_failure + self.delay() - now)


def load(folder: Path) -> ThrottleState:
    try:
        doc = json.loads((folder / STATE_NAME).read_text("utf-8"))
        queued = [(float(ts), str(method)) for ts, method in doc.get("queued", [])]
        return ThrottleState(int(doc["failures"]), float(doc["last_failure"]), queued)
    except FileNotFoundError:
        return ThrottleState()
    except (OSError, ValueError, KeyError, TypeError):
        # A damaged state file must not lock the user out or lift the delay: assume the worst
        # recent history we can defend without it.
        return ThrottleState(FREE_ATTEMPTS + 2, time.time(), [])


def save(folder: Path, state: ThrottleState) -> None:
    doc = {
        "failures": state.failures,
        "last_failure": state.last_failure,
        "queued": state.queued[-MAX_QUEUED_EVENTS:],
    }
    atomic_write(folder / STATE_NAME, json.dumps(doc).encode("utf-8"))


def record_failure(folder: Path, method: str) -> ThrottleState:
    state = load(folder)
    state.failures += 1
    state.last_failure = time.time()
    state.queued.append((state.last_failure, method))
    save(folder, state)
    return state


def clear(folder: Path) -> list[tuple[float, str]]:
    """Reset after a successful unlock and hand back the queued failures for the audit trail."""
    state = load(folder)
    if state.failures == 0 and not state.queued:
        return []
    (folder / STATE_NAME).unlink(missing_ok=True)
    return state.queued
