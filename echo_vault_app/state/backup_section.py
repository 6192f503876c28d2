"""The ``state`` section of encrypted backups: session values, agents and settings.

Import follows the backup's conflict modes: ``skip`` keeps what the vault has; ``merge`` takes
the newer side (by update time, for agents by version); ``replace-all`` takes the backup's. An
agent whose state is overwritten gets a version above both sides' so a compare-and-set writer
still holding the old number fails instead of overwriting the restored document.

``history_depth`` is not carried here: it is the secrets store's setting, not a state row.
"""

from __future__ import annotations

import json
from typing import Any

from echo_vault_app.errors import ValidationError
from echo_vault_app.state.schema import COMPONENT, MIGRATIONS, ensure_in_transaction
from echo_vault_app.state.settings import spec_for
from echo_vault_app.state.values import check_id, check_key

SECTION = "state"


def export_items(vault: Any) -> list[dict[str, Any]]:
    vault.ensure_schema(COMPONENT, MIGRATIONS)
    items: list[dict[str, Any]] = []
    with vault.read() as conn:
        conn.execute("BEGIN")
        try:
            for session_id, key, value, updated in conn.execute(
                "SELECT session_id, key, value, updated FROM state_session_values"
            ):
                items.append(
                    {"type": "session_value", "session_id": session_id, "key": key,
                     "value": json.loads(value), "updated": updated}
                )  # fmt: skip
            for row in conn.execute(
                "SELECT agent_id, kind, meta, status, registered, last_heartbeat, version, state,"
                " state_updated FROM state_agents"
            ):
                items.append(
                    {"type": "agent", "agent_id": row[0], "kind": row[1],
                     "meta": json.loads(row[2]), "status": row[3], "registered": row[4],
                     "last_heartbeat": row[5], "version": row[6], "state": json.loads(row[7]),
                     "state_updated": row[8]}
                )  # fmt: skip
            for name, value, updated in conn.execute(
                "SELECT name, value, updated FROM state_settings"
            ):
                items.append(
                    {"type": "setting", "name": name, "value": json.loads(value),
                     "updated": updated}
                )  # fmt: skip
        finally:
            conn.execute("ROLLBACK")
    return items


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def validate_items(items: list) -> None:
    """Refuse the whole import if any item is malformed (before anything is written)."""
    for index, item in enumerate(items):
        where = f"backup state item {index + 1}"
        try:
            if not isinstance(item, dict):
                raise ValidationError("not an object")
            kind = item.get("type")
            if kind == "session_value":
                check_id(item.get("session_id"), "session id")
                check_key(item.get("key"))
                ok = "value" in item and _number(item.get("updated"))
            elif kind == "agent":
                check_id(item.get("agent_id"), "agent id")
                ok = (
                    all(isinstance(item.get(k), str) for k in ("kind", "status"))
                    and isinstance(item.get("meta"), dict)
                    and "state" in item
                    and isinstance(item.get("version"), int)
                    and all(_number(item.get(k)) for k in ("registered", "last_heartbeat"))
                )
            elif kind == "setting":
                spec_for(item.get("name")).coerce(item.get("value"))
                ok = _number(item.get("updated"))
            else:
                raise ValidationError(f"unknown item type {kind!r}")
            if not ok:
                raise ValidationError("fields are missing or of the wrong type")
        except ValidationError as exc:
            raise ValidationError(f"{where}: {exc}") from None


def import_items(vault: Any, tx: Any, items: list, mode: str) -> None:
    """Write validated items inside the backup import's transaction."""
    ensure_in_transaction(tx, COMPONENT, MIGRATIONS)
    for item in items:
        if item["type"] == "session_value":
            _session_value(tx, item, mode)
        elif item["type"] == "agent":
            _agent(tx, item, mode)
        else:
            _setting(tx, item, mode)


def _wins(mode: str, existing: float | None, incoming: float) -> bool:
    if existing is None or mode == "replace-all":
        return True
    return mode == "merge" and incoming > existing


def _session_value(tx: Any, item: dict[str, Any], mode: str) -> None:
    row = tx.execute(
        "SELECT updated FROM state_session_values WHERE session_id = ? AND key = ?",
        (item["session_id"], item["key"]),
    ).fetchone()
    if _wins(mode, None if row is None else row[0], item["updated"]):
        tx.execute(
            "INSERT OR REPLACE INTO state_session_values (session_id, key, value, updated)"
            " VALUES (?, ?, ?, ?)",
            (item["session_id"], item["key"], json.dumps(item["value"]), item["updated"]),
        )


def _agent(tx: Any, item: dict[str, Any], mode: str) -> None:
    row = tx.execute(
        "SELECT version FROM state_agents WHERE agent_id = ?", (item["agent_id"],)
    ).fetchone()
    if not _wins(mode, None if row is None else row[0], item["version"]):
        return
    version = item["version"] if row is None else max(row[0], item["version"]) + 1
    tx.execute(
        "INSERT OR REPLACE INTO state_agents (agent_id, kind, meta, status, registered,"
        " last_heartbeat, version, state, state_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (item["agent_id"], item["kind"], json.dumps(item["meta"]), item["status"],
         item["registered"], item["last_heartbeat"], version, json.dumps(item["state"]),
         item.get("state_updated")),
    )  # fmt: skip


def _setting(tx: Any, item: dict[str, Any], mode: str) -> None:
    row = tx.execute(
        "SELECT updated FROM state_settings WHERE name = ?", (item["name"],)
    ).fetchone()
    if _wins(mode, None if row is None else row[0], item["updated"]):
        value = spec_for(item["name"]).coerce(item["value"])
        tx.execute(
            "INSERT OR REPLACE INTO state_settings (name, value, updated) VALUES (?, ?, ?)",
            (item["name"], json.dumps(value), item["updated"]),
        )


def register() -> None:
    """Add the ``state`` section to every backup made in this process from now on."""
    from echo_vault_app.secrets.backup import register_backup_section

    register_backup_section(SECTION, export_items, import_items, validate_fn=validate_items)
