"""The ``auth`` section of encrypted backups: API keys, signing keys, users, roles, clients.

What travels: API-key and OAuth-client records (keyed hashes only, never a key or secret),
users (their Argon2id hashes), role definitions, signing keys, revoked token ids, auth settings
and trusted issuers' key sets. Sessions do not: they are short-lived logins, not configuration.

Signing keys are sealed in the vault under its data key and bound to their kid; that seal
cannot be opened by another vault. Export therefore opens each one and puts the private key in
the item in the clear — the backup file is encrypted as a whole — and import seals it again
under the receiving vault's key. Nothing else is sealed.

API-key, session and client hashes are keyed by a key derived from the vault's own root, so they
verify only in the vault they were made in. Restoring into the same vault (the usual case)
brings everything back; restoring into a different vault leaves API keys and OAuth clients out
(they could never verify there) and logs that it did. The import has no way to hand the user a
warning: ``register_backup_section``'s import hook returns nothing, so the user sees only the
section count, which includes the items left out.

Conflict modes: ``skip`` keeps the vault's record; ``merge`` and ``replace-all`` take the
backup's. A revocation is never undone by an import: an API key revoked on either side stays
revoked, and revoked token ids are only ever added.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

from echo_vault_app.auth.apikeys import ApiKeyRecord
from echo_vault_app.auth.clients import OAuthClient
from echo_vault_app.auth.jwt_keys import SIGNING_ALGORITHMS, _load_private
from echo_vault_app.auth.users import User
from echo_vault_app.auth.vault_store import COMPONENT, MIGRATIONS
from echo_vault_app.errors import ValidationError

log = logging.getLogger(__name__)

SECTION = "auth"
KINDS = (
    "api_keys",
    "signing_keys",
    "users",
    "roles",
    "clients",
    "revoked_jtis",
    "settings",
    "trusted_jwks",
)
_HASH_KEYED = ("api_keys", "clients")


def _aad(kid: str) -> bytes:
    return b"echo-vault auth signing key\0" + kid.encode("utf-8")


def export_items(vault: Any) -> list[dict[str, Any]]:
    vault.ensure_schema(COMPONENT, MIGRATIONS)
    items: list[dict[str, Any]] = [{"type": "origin", "vault_id": vault.vault_id}]
    with vault.read() as conn:
        conn.execute("BEGIN")
        try:
            rows = {
                kind: conn.execute(f"SELECT id, doc FROM auth_{kind} ORDER BY id").fetchall()
                for kind in KINDS
            }
        finally:
            conn.execute("ROLLBACK")
    for kind, found in rows.items():
        for doc_id, text in found:
            doc = json.loads(text)
            if kind == "signing_keys":
                raw = vault.open_sealed(base64.b64decode(doc.pop("sealed")), _aad(doc_id))
                doc["private"] = base64.b64encode(raw).decode("ascii")
            items.append({"type": kind, "id": doc_id, "doc": doc})
    return items


def _check(item: dict[str, Any]) -> None:
    kind, doc = item["type"], item["doc"]
    if kind == "api_keys":
        ApiKeyRecord.from_doc(doc)
    elif kind == "users":
        User.from_doc(doc)
    elif kind == "clients":
        OAuthClient(**{**doc, "scopes": tuple(doc["scopes"])})
    elif kind == "roles":
        if not all(isinstance(p, str) for p in doc["permissions"]):
            raise TypeError("role permissions must be text")
    elif kind == "revoked_jtis":
        float(doc["expires_at"])
    elif kind == "trusted_jwks":
        doc["jwks"]
    elif kind == "signing_keys":
        if doc["alg"] not in SIGNING_ALGORITHMS:
            raise ValueError("unknown algorithm")
        _load_private(doc["alg"], base64.b64decode(doc["private"], validate=True))


def validate_items(items: list) -> None:
    """Refuse the whole import if any item is malformed (before anything is written)."""
    for index, item in enumerate(items):
        where = f"backup auth item {index + 1}"
        if not isinstance(item, dict):
            raise ValidationError(f"{where}: not an object")
        if item.get("type") == "origin":
            if not isinstance(item.get("vault_id"), str):
                raise ValidationError(f"{where}: origin without a vault id")
            continue
        if item.get("type") not in KINDS:
            raise ValidationError(f"{where}: unknown record type {item.get('type')!r}")
        if not isinstance(item.get("id"), str) or not isinstance(item.get("doc"), dict):
            raise ValidationError(f"{where}: needs a text id and an object doc")
        try:
            _check(item)
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise ValidationError(f"{where}: a {item['type']} record is malformed") from None


def import_items(vault: Any, tx: Any, items: list, mode: str) -> None:
    """Write validated items inside the backup import's transaction."""
    from echo_vault_app.state.schema import ensure_in_transaction

    ensure_in_transaction(tx, COMPONENT, MIGRATIONS)
    origins = {i["vault_id"] for i in items if i.get("type") == "origin"}
    foreign = bool(origins) and origins != {vault.vault_id}
    left_out = 0
    for item in items:
        kind = item["type"]
        if kind == "origin":
            continue
        if foreign and kind in _HASH_KEYED:
            left_out += 1
            continue
        doc = dict(item["doc"])
        existing = tx.execute(f"SELECT doc FROM auth_{kind} WHERE id = ?", (item["id"],)).fetchone()
        if existing is not None and (mode == "skip" or kind == "revoked_jtis"):
            continue
        if kind == "signing_keys":
            raw = base64.b64decode(doc.pop("private"))
            doc["sealed"] = base64.b64encode(vault.seal(raw, _aad(item["id"]))).decode("ascii")
        if kind == "api_keys" and existing is not None:
            doc["revoked_at"] = _earliest(json.loads(existing[0]).get("revoked_at"), doc)
        tx.execute(
            f"INSERT OR REPLACE INTO auth_{kind} (id, doc) VALUES (?, ?)",
            (item["id"], json.dumps(doc, sort_keys=True)),
        )
    # Running AuthManagers reload when the change counter moves.
    tx.execute("UPDATE auth_generation SET counter = counter + 1 WHERE id = 1")
    if left_out:
        log.warning(
            "left %d API key and client records out of a backup from another vault", left_out
        )


def _earliest(stored: float | None, doc: dict[str, Any]) -> float | None:
    times = [t for t in (stored, doc.get("revoked_at")) if t is not None]
    return min(times) if times else None


def register() -> None:
    """Add the ``auth`` section to every backup made in this process from now on."""
    from echo_vault_app.secrets.backup import register_backup_section

    register_backup_section(SECTION, export_items, import_items, validate_fn=validate_items)
