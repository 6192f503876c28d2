"""Encrypted backups of a real vault come back exactly, with history, in another vault."""

from __future__ import annotations

import copy
import json
import os
import stat
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from echo_vault_app.errors import (
    BackupCorrupted,
    BackupVersionUnsupported,
    Conflict,
    SecretNotFound,
    ValidationError,
    WeakPassword,
)
from echo_vault_app.secrets import SecretsManager, backup, backup_format
from tests.integration.backup_support import (
    PASSWORD,
    audit_events,
    digest,
    fill,
    live,
    new_vault,
    snapshot,
)


@pytest.fixture
def source(tmp_path: Path):
    vault = new_vault(tmp_path / "a")
    yield vault
    vault.lock()


@pytest.fixture
def target(tmp_path: Path):
    vault = new_vault(tmp_path / "b")
    yield vault
    vault.lock()


def test_round_trip_of_500_secrets_with_history_is_lossless(source, target, tmp_path) -> None:
    fill(source, 500)
    path = tmp_path / "all.evb"
    assert SecretsManager(vault=source).export_secrets(path, PASSWORD) == 500
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    result = SecretsManager(vault=target).import_secrets(path, PASSWORD)

    before = snapshot(source)
    assert len(before) == 500 and sum(len(r[11]) for r in before) == 500 // 3 * 3 + 1
    assert snapshot(target) == before
    assert len(result.added) == 500 and not (result.changed or result.conflicts)
    assert any("custom_user_template" in w for w in result.warnings)

    # The public reading API sees the same values, binary and Unicode included.
    a, b = SecretsManager(vault=source), SecretsManager(vault=target)
    for name in ("svc/ünï €0", "svc/00005", "svc/00011", "svc/00499"):
        assert b.get(name).fields == a.get(name).fields
        assert b.history(name) == a.history(name)
    assert b.search("team1") and {s.name for s in b.search("team1")} == {
        s.name for s in a.search("team1")
    }


def test_export_and_import_are_audited(source, target, tmp_path) -> None:
    fill(source, 4)
    path = tmp_path / "x.evb"
    SecretsManager(vault=source).export_secrets(path, PASSWORD)
    (event,) = [e for e in audit_events(source) if e.action == "export"]
    assert event.target == "x.evb" and event.detail["secrets"] == 4

    SecretsManager(vault=target).import_secrets(path, PASSWORD)
    imported = [e for e in audit_events(target) if e.action == "import"]
    assert len(imported) == 5  # one per secret, one summary
    assert imported[-1].detail["added"] == 4 and imported[-1].target == "x.evb"
    assert all(e.value_hash for e in imported[:-1])
    assert SecretsManager(vault=target).audit_verify().ok


def test_export_selection_by_name_tag_and_query(source, tmp_path) -> None:
    fill(source, 12)
    manager = SecretsManager(vault=source)

    def names(**selection) -> list[str]:
        path = tmp_path / f"sel{time.monotonic_ns()}.evb"
        manager.export_secrets(path, PASSWORD, **selection)
        return [s["name"] for s in backup_format.read_backup(path, PASSWORD)["secrets"]]

    assert names(names=["svc/00001", "SVC/00002"]) == ["svc/00001", "svc/00002"]
    assert names(tags=["team1"]) == ["svc/00001", "svc/00005", "svc/00009"]
    assert names(tags=["team1", "team2"], query="notes") == ["svc/00001", "svc/00005", "svc/00009"]
    assert names(names=["svc/00002", "svc/00003"], tags=["team3"]) == ["svc/00003"]
    with pytest.raises(SecretNotFound):
        names(names=["svc/none"])


def test_export_refuses_weak_password_and_existing_file(source, tmp_path) -> None:
    fill(source, 2)
    manager = SecretsManager(vault=source)
    with pytest.raises(WeakPassword, match="too short"):
        manager.export_secrets(tmp_path / "w.evb", "short-pw")
    with pytest.raises(WeakPassword, match="too easy to guess"):
        manager.export_secrets(tmp_path / "w.evb", "password1234")
    assert not (tmp_path / "w.evb").exists()

    path = tmp_path / "e.evb"
    path.write_bytes(b"keep me")
    with pytest.raises(Conflict):
        manager.export_secrets(path, PASSWORD)
    assert path.read_bytes() == b"keep me"
    manager.export_secrets(path, PASSWORD, force=True)
    assert backup_format.read_backup_header(path).counts["secrets"] == 2


def _write_payload(path: Path, payload: dict) -> None:
    backup_format.write_backup(path, PASSWORD, payload, force=True)


def _valid_payload(source, tmp_path) -> dict:
    fill(source, 5)
    path = tmp_path / "valid.evb"
    SecretsManager(vault=source).export_secrets(path, PASSWORD)
    return backup_format.read_backup(path, PASSWORD)


BAD_EDITS = [
    ("name", lambda p: p["secrets"][3].update(name="../escape"), "secret #3"),
    ("dup", lambda p: p["secrets"][4].update(name=p["secrets"][0]["name"].upper()), "twice"),
    ("field", lambda p: p["secrets"][2]["fields"][0].update(binary=True, value="@@"), "base64"),
    ("version", lambda p: p["secrets"][1]["history"][0].update(version=99), "not older"),
    ("time", lambda p: p["secrets"][1].update(updated="yesterday"), "not a valid time"),
    ("tags", lambda p: p["secrets"][1].update(tags=["has space"]), "tag"),
    ("keys", lambda p: p["secrets"][0].pop("notes"), "missing or unknown keys"),
    ("fields", lambda p: p["secrets"][0].update(fields=[]), "field list"),
    ("top", lambda p: p.pop("vault_id"), "vault id"),
]


@pytest.mark.parametrize(("label", "edit", "reason"), BAD_EDITS, ids=[b[0] for b in BAD_EDITS])
def test_invalid_payloads_write_nothing(source, target, tmp_path, label, edit, reason) -> None:
    payload = _valid_payload(source, tmp_path)
    SecretsManager(vault=target).store_secret("local", "keep")
    before = digest(target)
    bad = copy.deepcopy(payload)
    edit(bad)
    path = tmp_path / "bad.evb"
    _write_payload(path, bad)

    with pytest.raises(BackupCorrupted, match=reason):
        SecretsManager(vault=target).import_secrets(path, PASSWORD)
    assert digest(target) == before
    assert audit_events(target)[-1].outcome == "failed"


def _write_raw(path: Path, text: bytes, counts: dict) -> None:
    """Seal arbitrary payload text correctly, for content the writer itself refuses."""
    salt = os.urandom(backup_format.SALT_BYTES)
    master = backup_format.derive_master_key(PASSWORD.encode(), backup_format.KdfParams(), salt)
    check = backup_format._subkey(master, backup_format._CHECK_INFO)
    header = backup_format._new_header(counts, backup_format.KdfParams(), salt, 1 << 20, check)
    aead = AESGCM(backup_format._subkey(master, backup_format._PAYLOAD_INFO))
    nonce = backup_format._nonce(header.nonce_prefix, 0, True)
    path.write_bytes(header.raw + aead.encrypt(nonce, text, header.raw))


def test_lone_surrogate_in_authenticated_payload_is_refused(source, target, tmp_path) -> None:
    payload = _valid_payload(source, tmp_path)
    payload["secrets"][2]["notes"] = "MARKER"
    text = json.dumps(payload).replace('"MARKER"', '"\\ud800"').encode()
    path = tmp_path / "surrogate.evb"
    _write_raw(path, text, payload)
    with pytest.raises(BackupCorrupted, match="not valid Unicode"):
        SecretsManager(vault=target).import_secrets(path, PASSWORD)
    assert snapshot(target) == []


def test_newer_payload_format_is_refused(source, target, tmp_path) -> None:
    payload = _valid_payload(source, tmp_path)
    payload["format"] = 2
    path = tmp_path / "new.evb"
    _write_payload(path, payload)
    with pytest.raises(BackupVersionUnsupported, match="newer"):
        SecretsManager(vault=target).import_secrets(path, PASSWORD)
    assert snapshot(target) == []


def test_registered_sections_travel_in_the_same_transaction(source, target, tmp_path) -> None:
    fill(source, 3)
    seen: list = []

    def export_items(vault):
        return [{"id": 1, "label": "ci"}, {"id": 2, "label": "laptop"}]

    def import_items(vault, tx, items, mode):
        tx.execute("INSERT INTO meta (key, value) VALUES ('section_test', ?)", (str(len(items)),))
        seen.append((items, mode))

    def validate(items):
        if any(not isinstance(i.get("id"), int) for i in items):
            raise ValidationError("api key item without id")

    backup.register_backup_section(
        "api_keys_test", export_items, import_items, validate_fn=validate
    )
    try:
        path = tmp_path / "sec.evb"
        SecretsManager(vault=source).export_secrets(path, PASSWORD)
        counts = backup_format.read_backup_header(path).counts
        assert counts["secrets"] == 3 and counts["api_keys_test"] == 2

        payload = backup_format.read_backup(path, PASSWORD)
        payload["api_keys_test"].append({"label": "no id"})
        bad = tmp_path / "bad.evb"
        _write_payload(bad, payload)
        with pytest.raises(ValidationError):
            SecretsManager(vault=target).import_secrets(bad, PASSWORD)
        assert snapshot(target) == [] and not seen

        result = SecretsManager(vault=target).import_secrets(path, PASSWORD, mode="skip")
        assert result.sections["api_keys_test"] == 2 and seen[0][1] == "skip"
        with target.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'section_test'").fetchone()
        assert row[0] == "2"
    finally:
        backup.unregister_backup_section("api_keys_test")


def test_unknown_sections_are_reported_not_dropped_silently(source, target, tmp_path) -> None:
    payload = _valid_payload(source, tmp_path)
    payload["signing_keys"] = [{"kid": "a"}, {"kid": "b"}]
    path = tmp_path / "future.evb"
    _write_payload(path, payload)
    result = SecretsManager(vault=target).import_secrets(path, PASSWORD)
    assert len(result.added) == 5
    assert any("2 signing_keys item(s)" in w and "left out" in w for w in result.warnings)


@pytest.mark.slow
def test_round_trip_of_20000_secrets(source, target, tmp_path) -> None:
    fill(source, 20_000, versions=2)
    path = tmp_path / "big.evb"
    SecretsManager(vault=source).export_secrets(path, PASSWORD)
    SecretsManager(vault=target).import_secrets(path, PASSWORD)
    assert live(snapshot(target)) == live(snapshot(source))


def test_library_backups_carry_auth_records_and_state(tmp_path):
    """Not only the CLI: a backup written through the library holds auth and state too."""
    from echo_vault_app.auth import AuthManager
    from echo_vault_app.core.vault import Vault
    from echo_vault_app.state import StateManager

    source = Vault.create(tmp_path / "a", passphrase="pw-source-vault", use_keyring=False,
                          kdf_seconds=0).vault  # fmt: skip
    auth = AuthManager(vault=source)
    token = auth.create_jwt_token(user_id="u@example.com", permissions=["read"], algorithm="EdDSA")
    StateManager(vault=source).config.set("clipboard_clear_seconds", 25)
    SecretsManager(vault=source).store_secret("svc/key", "value-1")
    path = tmp_path / "full.evb"
    SecretsManager(vault=source).export_secrets(path, PASSWORD)
    counts = backup_format.read_backup_header(path).counts
    assert counts["secrets"] == 1 and counts["auth"] >= 1 and counts["state"] >= 1

    target = Vault.create(tmp_path / "b", passphrase="pw-target-vault", use_keyring=False,
                          kdf_seconds=0).vault  # fmt: skip
    SecretsManager(vault=target).import_secrets(path, PASSWORD)
    assert AuthManager(vault=target).verify_jwt_token(token) is not None
    assert StateManager(vault=target).config.get("clipboard_clear_seconds") == 25
