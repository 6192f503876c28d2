"""Several short operations under one commit (group commit).

Every audited read writes its audit row in a write transaction of its own, and on a busy vault
the commit is the largest part of a read: SQLCipher encrypts and writes each page the
transaction touched. A server answering many clients can instead run the operations waiting at
the same moment inside one transaction and commit once, so that the audit rows of a dozen reads
share their pages and one commit.

Each operation's own transactions become savepoints (see ``Vault.transaction``), so an operation
that fails keeps what it had completed and leaves the others' work alone, exactly as separate
transactions would. No operation's result may reach anyone before the commit: when the commit
fails, every operation of the group fails with its error, as its own commit would have, so a
read is never answered unrecorded and a write is never reported that was not kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import EchoVaultError, StorageError

log = logging.getLogger(__name__)

_NOT_RECORDED = "the vault could not record this operation; nothing was written"


class Outcome(NamedTuple):
    """What one operation returned, or the exception it ends with."""

    value: Any
    error: Exception | None


class _Lost(Exception):
    """SQLite rolled the whole group back on a failure inside one operation."""


def run_grouped(
    vault: Vault, operations: Sequence[Callable[[], Any]], *, wait: bool = True
) -> list[Outcome] | None:
    """Run ``operations`` in order in one write transaction and commit once.

    With ``wait=False`` nothing runs and None is returned when any lock the group needs is
    held by another thread or process right now, so a caller on an event loop never blocks.
    """
    if wait:
        return _run_all(vault, operations)
    with vault.claim_if_free() as free:
        return _run_all(vault, operations) if free else None


def _run_all(vault: Vault, operations: Sequence[Callable[[], Any]]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    while len(outcomes) < len(operations):
        _run_group(vault, operations, outcomes)
    return outcomes


def _run_group(
    vault: Vault, operations: Sequence[Callable[[], Any]], outcomes: list[Outcome]
) -> None:
    """Run the operations not yet run, appending their outcomes, until done or the group is lost.

    A lost group (SQLite rolls back the whole transaction after some failures, disk full among
    them) fails every operation run in it so far; the rest start a new group.
    """
    first = len(outcomes)
    try:
        with vault.transaction() as conn:
            for operation in operations[first:]:
                outcomes.append(outcome_of(operation))
                if not conn.in_transaction:
                    raise _Lost()
    except _Lost:
        lost = Outcome(None, StorageError(_NOT_RECORDED))
        log.warning("grouped commit of %d operations lost to a rollback", len(outcomes) - first)
        last = outcomes[-1] if outcomes[-1].error is not None else lost  # the one that failed
        outcomes[first:] = [lost] * (len(outcomes) - first - 1) + [last]
    except Exception as exc:  # the transaction could not begin or commit
        if not isinstance(exc, EchoVaultError):
            log.error("grouped commit failed with %s", type(exc).__name__)
            exc = StorageError(_NOT_RECORDED)
        log.warning("grouped commit of %d operations failed: %s", len(operations) - first, exc)
        outcomes[first:] = [Outcome(None, exc)] * (len(operations) - first)


def outcome_of(operation: Callable[[], Any]) -> Outcome:
    """Run ``operation``, keeping an exception as its outcome instead of raising it."""
    try:
        return Outcome(operation(), None)
    except Exception as exc:
        return Outcome(None, exc)
