"""The SQL trace at DEBUG never carries a key PRAGMA or a bound value."""

from __future__ import annotations

import logging

from echo_vault_app.core.storage import traced_text
from echo_vault_app.core.vault import Vault
from echo_vault_app.secrets import SecretsManager
from tests.conftest import PASSPHRASE


def test_trace_hides_keys_and_values(vault_dir, caplog):
    marker = "trace-marker-7f3a9c"
    with caplog.at_level(logging.DEBUG, logger="echo_vault_app.core.sql"):
        created = Vault.create(vault_dir, passphrase=PASSPHRASE, use_keyring=False, kdf_seconds=0)
        manager = SecretsManager(vault=created.vault)
        manager.store_secret("trace/one", marker, notes=f"notes {marker}")
        manager.store_secret("trace/two", fields={"value": marker}, tags=["t"])
        manager.search(marker)
        manager.rotate_master_key()
        created.vault.lock()
    statements = [r.getMessage() for r in caplog.records if r.name == "echo_vault_app.core.sql"]
    assert any("INSERT INTO secrets" in s for s in statements)
    joined = "\n".join(statements)
    assert marker not in joined
    assert "x'" not in joined.lower()
    assert "rekey" not in joined.lower() and "pragma key" not in joined.lower()


def test_literal_pattern_covers_strings_blobs_and_numbers():
    text = "INSERT INTO t VALUES ('it''s', X'00ff', 42, 3.5e2)"
    assert traced_text(text) == "INSERT INTO t VALUES (?, ?, ?, ?)"


def test_key_statements_are_not_traced():
    for statement in ("PRAGMA key = x'00ff'", "  pragma main.rekey='p'", 'PRAGMA KEY="x"'):
        assert traced_text(statement) is None
    assert traced_text("PRAGMA keyring_note = 1") is not None  # a word that starts with key
