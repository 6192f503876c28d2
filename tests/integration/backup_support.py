"""Helpers shared by the backup and import tests: real vaults, varied secrets, content digests."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from echo_vault_app.core.vault import Vault
from echo_vault_app.secrets.model import FieldValue
from echo_vault_app.secrets.store import SecretStore

PASSWORD = "tangerine-Orbit-41-lighthouse"
VAULT_PASSPHRASE = "correct horse battery staple"


def new_vault(folder: Path) -> Vault:
    return Vault.create(folder, passphrase=VAULT_PASSPHRASE, use_keyring=False, kdf_seconds=0).vault


def fill(
    vault: Vault, count: int, *, versions: int = 3, seed: int = 7, prefix: str = "svc"
) -> None:
    """Write ``count`` varied secrets through the ordinary store API, each with history."""
    rnd = random.Random(seed)
    store = SecretStore(vault)
    for i in range(count):
        name = f"{prefix}/{i:05d}" if i % 7 else f"{prefix}/ünï €{i}"
        for v in range(1 + (i % versions)):
            fields = [FieldValue("api_key", f"sk_test_{i}_{v}_" + "x" * rnd.randint(0, 40))]
            if i % 3 == 0:
                fields.append(FieldValue("username", f"user{i}@example.com", secret=False))
            if i % 5 == 0:
                fields.append(FieldValue("blob", bytes(rnd.randrange(256) for _ in range(33))))
            if i % 11 == 0:
                fields.append(FieldValue("multi", 'line one\nline "two"\t→ ✓'))
            store.put(
                name,
                fields,
                template=("api_key", "generic", "custom_user_template")[i % 3],
                tags=[f"team{i % 4}", "env-prod" if i % 2 else "env-dev"],
                notes=f"notes {i} v{v}\nsecond line" if i % 2 else "",
                expires=1_900_000_000.5 + i if i % 4 == 0 else None,
                favourite=bool(i % 6 == 0),
            )


def snapshot(vault: Vault) -> list[tuple]:
    """Every secret (live and trashed) with decrypted fields and history, in a stable order."""
    store = SecretStore(vault)
    rows = []
    with vault.read() as conn:
        for (
            sid,
            name,
            template,
            tags,
            notes,
            created,
            updated,
            expires,
            version,
            fav,
            deleted,
        ) in conn.execute(
            "SELECT id, name, template, tags, notes, created, updated, expires, version,"
            " favourite, deleted FROM secrets ORDER BY name, id"
        ).fetchall():
            fields = tuple(
                (f.name, f.value, f.secret) for f in store.read_fields(conn, sid, version)
            )
            history = tuple(
                (h.version, h.saved, h.template, h.tags, h.notes, h.expires,
                 tuple((f.name, f.value, f.secret) for f in h.fields))
                for h in store.read_history(conn, sid)
            )  # fmt: skip
            rows.append(
                (name, template, tuple(json.loads(tags)), notes, created, updated, expires,
                 version, bool(fav), deleted is not None, fields, history)
            )  # fmt: skip
    return rows


def digest(vault: Vault) -> str:
    return hashlib.sha256(repr(snapshot(vault)).encode()).hexdigest()


def audit_events(vault: Vault) -> list:
    with vault.read() as conn:
        return vault.audit.events(conn)


def live(rows: list[tuple]) -> list[tuple]:
    return [r for r in rows if not r[9]]
