"""The tamper-evident audit trail: one HMAC chain over every recorded event.

Each row's MAC covers its own fields and the previous row's MAC, and an anchor row keeps the
last sequence number and MAC, so an edited, deleted, reordered, inserted or truncated row breaks
the chain at a place :meth:`AuditTrail.verify` can name. Values never enter the trail; where a
value must be identified, the row holds a keyed hash of it, which only this vault can compute.

The chain key and the value-hash key come from a random root stored inside the encrypted
database (see ``Vault.stable_key``), not from the data key, so rotating the data key neither
breaks the chain nor makes older value hashes unfindable.
"""

import contextlib
import contextvars
import getpass
import json
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from echo_vault_app.errors import AuditError

log = logging.getLogger(__name__)

# Who acts in the current thread or task, when that differs from the vault's own actor: the
# REST API serves many clients from worker threads and must label each one's events.
_SCOPED_ACTOR: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "echo_vault_audit_actor", default=None
)


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Record every audit event written by this thread inside the block under ``actor``."""
    token = _SCOPED_ACTOR.set(actor)
    try:
        yield
    finally:
        _SCOPED_ACTOR.reset(token)


def current_actor() -> str | None:
    return _SCOPED_ACTOR.get()


class AuditEvent(NamedTuple):
    seq: int
    ts: float
    actor: str
    action: str
    target: str | None
    outcome: str
    detail: dict[str, Any]
    value_hash: str | None


class AuditVerification(NamedTuple):
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""

    def message(self) -> str:
        if self.ok:
            return f"audit trail intact: {self.checked} events verified"
        return f"audit trail broken at event {self.first_bad_seq}: {self.reason}"


def default_actor(face: str = "lib") -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name on some containers; the face still says who acted
        user = "unknown"
    return f"{face}:{user}"


class AuditTrail:
    """Writes and checks the chain. ``record`` must run inside the caller's transaction."""

    def __init__(self, chain_key: bytes, value_key: bytes, vault_id: str, enabled: bool) -> None:
        # Imported here, not with the module: the GUI's panes import this module's records
        # and must not load the cryptography bindings before the first window paints.
        from echo_vault_app.core.crypto import hmac_sha256

        self._hmac = hmac_sha256
        self._chain_key = chain_key
        self._value_key = value_key
        self._genesis = hmac_sha256(chain_key, b"genesis:" + vault_id.encode())
        self.enabled = enabled
        self.actor = default_actor()

    def value_hash(self, value: str | bytes) -> str:
        data = value.encode("utf-8") if isinstance(value, str) else value
        return self._hmac(self._value_key, data).hex()

    def _mac(self, prev: bytes, event: AuditEvent) -> bytes:
        body = json.dumps(
            [
                event.seq,
                repr(event.ts),
                event.actor,
                event.action,
                event.target,
                event.outcome,
                event.detail,
                event.value_hash,
            ],
            separators=(",", ":"),
            sort_keys=True,
            ensure_ascii=False,
        ).encode("utf-8")
        return self._hmac(self._chain_key, prev + body)

    def record(
        self,
        conn: Any,
        action: str,
        target: str | None = None,
        outcome: str = "ok",
        *,
        detail: dict[str, Any] | None = None,
        value: str | bytes | None = None,
        actor: str | None = None,
        ts: float | None = None,
    ) -> None:
        """Append one event; raises AuditError so the surrounding write is rolled back."""
        if not self.enabled:
            return
        try:
            anchor = conn.execute("SELECT last_seq, last_mac FROM audit_anchor").fetchone()
            last_seq, prev = (anchor[0], anchor[1]) if anchor else (0, self._genesis)
            event = AuditEvent(
                seq=last_seq + 1,
                ts=time.time() if ts is None else ts,
                actor=actor or _SCOPED_ACTOR.get() or self.actor,
                action=action,
                target=target,
                outcome=outcome,
                detail=detail or {},
                value_hash=self.value_hash(value) if value is not None else None,
            )
            mac = self._mac(prev, event)
            conn.execute(
                "INSERT INTO audit_log (seq, ts, actor, action, target, outcome, detail,"
                " value_hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.seq,
                    event.ts,
                    event.actor,
                    event.action,
                    event.target,
                    event.outcome,
                    json.dumps(event.detail, sort_keys=True),
                    event.value_hash,
                    mac,
                ),
            )
            conn.execute(
                "INSERT INTO audit_anchor (id, last_seq, last_mac) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq,"
                " last_mac = excluded.last_mac",
                (event.seq, mac),
            )
        except AuditError:
            raise
        except Exception as exc:
            raise AuditError(
                f"the audit trail could not be written ({type(exc).__name__})"
            ) from exc

    def verify(self, conn: Any) -> AuditVerification:
        """Walk the whole chain and name the first row that does not fit."""
        from hmac import compare_digest  # kept off the path of every audited call (~2 ms)

        prev = self._genesis
        expected = 1
        for row in conn.execute(
            "SELECT seq, ts, actor, action, target, outcome, detail, value_hash, mac"
            " FROM audit_log ORDER BY seq"
        ):
            event = _event(row)
            if event.seq != expected:
                first = min(event.seq, expected)
                return AuditVerification(False, expected - 1, first, "a row is missing or inserted")
            if not compare_digest(self._mac(prev, event), row[8]):
                return AuditVerification(False, expected - 1, event.seq, "row was altered")
            prev = row[8]
            expected += 1
        anchor = conn.execute("SELECT last_seq, last_mac FROM audit_anchor").fetchone()
        count = expected - 1
        if anchor is None:
            if count:
                return AuditVerification(False, count, 1, "the anchor row is missing")
            return AuditVerification(True, 0)
        if anchor[0] != count or not compare_digest(anchor[1], prev):
            bad = min(anchor[0], count) + 1
            return AuditVerification(False, count, bad, "the trail was truncated or extended")
        return AuditVerification(True, count)

    def events(
        self,
        conn: Any,
        *,
        action: str | None = None,
        target: str | None = None,
        value_hash: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEvent]:
        clauses, args = [], []
        for column, wanted in (("action", action), ("target", target), ("value_hash", value_hash)):
            if wanted is not None:
                clauses.append(f"{column} = ?")
                args.append(wanted)
        sql = "SELECT seq, ts, actor, action, target, outcome, detail, value_hash FROM audit_log"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY seq" + (" DESC" if newest_first else "")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_event(row) for row in conn.execute(sql, args)]


def _event(row: Iterable[Any]) -> AuditEvent:
    seq, ts, actor, action, target, outcome, detail, value_hash = list(row)[:8]
    try:
        parsed = json.loads(detail) if detail else {}
    except (json.JSONDecodeError, TypeError):
        parsed = {"unparseable": True}
    return AuditEvent(seq, ts, actor, action, target, outcome, parsed, value_hash)
