"""Unlocking with bad secrets and bad key files: typed one-line errors, nothing written."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from base64 import b64decode, b64encode
from pathlib import Path

import pytest

from echo_vault_app.core import slots, throttle
from echo_vault_app.core.keyfile import KEYFILE_NAME
from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import (
    KeyFileDamaged,
    UnlockThrottled,
    VaultLocked,
    VaultNotFound,
    WrongPassphrase,
    WrongRecoveryKey,
)

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="module")
def template_vault(tmp_path_factory) -> tuple[Path, str]:
    """One passphrase vault made once (Argon2id at its floor); tests work on copies."""
    folder = tmp_path_factory.mktemp("template") / "vault"
    created = Vault.create(folder, passphrase=PASSPHRASE, use_keyring=False, kdf_seconds=0)
    created.vault.lock()
    return folder, created.recovery_key


@pytest.fixture
def vault_copy(template_vault, vault_dir) -> tuple[Path, str]:
    folder, recovery = template_vault
    shutil.copytree(folder, vault_dir)
    return vault_dir, recovery


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file, to prove a refused open wrote nothing."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert text and "\n" not in text
    return text


def test_wrong_passphrase_is_refused_and_nothing_changes(vault_copy) -> None:
    folder, _ = vault_copy
    before = snapshot(folder)

    with pytest.raises(WrongPassphrase) as caught:
        Vault.open(folder, passphrase="not the passphrase", use_keyring=False)

    assert one_line(caught.value) == "wrong passphrase"
    after = snapshot(folder)
    assert after.pop(throttle.STATE_NAME, None) is not None  # the failure is counted
    assert after == before


def test_passphrase_is_nfc_normalised(vault_dir, make_vault) -> None:
    make_vault("cafe\u0301 passphrase").vault.lock()  # NFD form

    vault = Vault.open(vault_dir, passphrase="caf\u00e9 passphrase", use_keyring=False)

    assert vault.unlock_method == "passphrase"
    vault.lock()


def test_no_secret_given_is_locked_not_crashed(vault_copy) -> None:
    folder, _ = vault_copy

    with pytest.raises(VaultLocked) as caught:
        Vault.open(folder, use_keyring=False)

    one_line(caught.value)


def test_missing_folder_is_vault_not_found(tmp_path) -> None:
    with pytest.raises(VaultNotFound):
        Vault.open(tmp_path / "nowhere", passphrase=PASSPHRASE, use_keyring=False)

    assert not (tmp_path / "nowhere").exists()


def test_recovery_key_opens_in_any_spacing_and_case(vault_copy) -> None:
    folder, recovery = vault_copy
    sloppy = " " + recovery.lower().replace("-", " ") + "\n"

    vault = Vault.open(folder, recovery_key=sloppy, use_keyring=False)

    assert vault.unlock_method == "recovery-key"
    vault.lock()


def test_wrong_recovery_key_is_refused(vault_copy) -> None:
    folder, _ = vault_copy
    other, _ = slots.new_recovery_key()  # well formed, belongs to no slot here
    before = snapshot(folder)

    with pytest.raises(WrongRecoveryKey) as caught:
        Vault.open(folder, recovery_key=other, use_keyring=False)

    assert one_line(caught.value) == "wrong recovery key"
    after = snapshot(folder)
    after.pop(throttle.STATE_NAME)
    assert after == before


@pytest.mark.parametrize(
    "text", ["", "hello", "EVRK-ABC", "EVRK-" + "1" * 54, "EVRK-" + "A" * 60, "ÄÖÜ" * 20]
)
def test_malformed_recovery_key_is_refused_without_counting(vault_copy, text) -> None:
    folder, _ = vault_copy

    with pytest.raises(WrongRecoveryKey) as caught:
        Vault.open(folder, recovery_key=text, use_keyring=False)

    assert "not an Echo Vault recovery key" in one_line(caught.value)
    assert not (folder / throttle.STATE_NAME).exists()


def test_recovery_key_typo_in_check_letters_is_detected(vault_copy) -> None:
    folder, recovery = vault_copy
    last = recovery[-1]
    typo = recovery[:-1] + ("A" if last != "A" else "B")

    with pytest.raises(WrongRecoveryKey) as caught:
        Vault.open(folder, recovery_key=typo, use_keyring=False)

    assert "typo" in one_line(caught.value)


def test_recovery_key_typo_in_body_is_refused(vault_copy) -> None:
    folder, recovery = vault_copy
    position = 7  # inside the first group after "EVRK-"
    swapped = "B" if recovery[position] != "B" else "C"
    typo = recovery[:position] + swapped + recovery[position + 1 :]

    with pytest.raises(WrongRecoveryKey) as caught:
        Vault.open(folder, recovery_key=typo, use_keyring=False)

    # The two check letters catch all but 1 in 1024 single typos; the slot catches the rest.
    assert "typo" in one_line(caught.value) or str(caught.value) == "wrong recovery key"


def test_throttle_after_repeated_failures_then_recovers(vault_copy) -> None:
    folder, _ = vault_copy
    for _ in range(throttle.FREE_ATTEMPTS):
        with pytest.raises(WrongPassphrase):
            Vault.open(folder, passphrase="wrong guess", use_keyring=False)

    started = time.monotonic()
    with pytest.raises(UnlockThrottled) as caught:
        Vault.open(folder, passphrase=PASSPHRASE, use_keyring=False)  # even the right one waits
    refused_in = time.monotonic() - started

    assert 0 < caught.value.retry_after <= 1.0
    assert "try again" in one_line(caught.value)
    assert refused_in < 0.1  # refused before any Argon2id work
    time.sleep(caught.value.retry_after + 0.05)
    vault = Vault.open(folder, passphrase=PASSPHRASE, use_keyring=False)
    try:
        with vault.read() as conn:
            failed = vault.audit.events(conn, action="unlock")
        outcomes = [(e.outcome, e.detail.get("method")) for e in failed]
        assert outcomes.count(("failed", "passphrase")) == throttle.FREE_ATTEMPTS
        assert outcomes[-1] == ("ok", "passphrase")
    finally:
        vault.lock()
    assert not (folder / throttle.STATE_NAME).exists()


def test_damaged_throttle_state_does_not_lift_the_delay(vault_copy) -> None:
    folder, _ = vault_copy
    (folder / throttle.STATE_NAME).write_text("{not json")

    with pytest.raises(UnlockThrottled):
        Vault.open(folder, passphrase=PASSPHRASE, use_keyring=False)


# -- vault.keys damage -------------------------------------------------------------------------


def test_missing_keyfile_is_reported_and_database_untouched(vault_copy) -> None:
    folder, _ = vault_copy
    (folder / KEYFILE_NAME).unlink()
    before = snapshot(folder)

    with pytest.raises(KeyFileDamaged) as caught:
        Vault.open(folder, passphrase=PASSPHRASE, use_keyring=False)

    assert "vault.keys is missing" in one_line(caught.value)
    assert snapshot(folder) == before


def _keyfile_doc(folder: Path) -> dict:
    return json.loads((folder / KEYFILE_NAME).read_text())


def _corruptions(doc: dict) -> dict[str, bytes]:
    def variant(change) -> bytes:
        copy = json.loads(json.dumps(doc))
        change(copy)
        return json.dumps(copy).encode()

    raw = json.dumps(doc).encode()
    return {
        "random bytes": bytes(range(256)) * 8,
        "empty": b"",
        "truncated json": raw[: len(raw) // 2],
        "json list": b"[1, 2, 3]",
        "deep nesting": b"[" * 100_000 + b"]" * 100_000,
        "too large": b" " * (65 * 1024) + raw,
        "wrong format": variant(lambda d: d.update(format="keepass")),
        "future version": variant(lambda d: d.update(version=99)),
        "vault id number": variant(lambda d: d.update(vault_id=12345678)),
        "slots list": variant(lambda d: d.update(slots=[])),
        "no slots": variant(lambda d: d.update(slots={})),
        "unknown slot": variant(lambda d: d["slots"].update(fido={"wrapped": "AAAA"})),
        "slot is string": variant(lambda d: d["slots"].update(passphrase="x")),
        "wrapped not base64": variant(lambda d: d["slots"]["passphrase"].update(wrapped="!!")),
        "wrapped number": variant(lambda d: d["slots"]["passphrase"].update(wrapped=7)),
        "salt number": variant(lambda d: d["slots"]["passphrase"].update(salt=7)),
        "salt short": variant(lambda d: d["slots"]["passphrase"].update(salt="AAAA")),
        "kdf missing": variant(lambda d: d["slots"]["passphrase"].pop("kdf")),
        "kdf scrypt": variant(lambda d: d["slots"]["passphrase"]["kdf"].update(name="scrypt")),
        "memory text": variant(
            lambda d: d["slots"]["passphrase"]["kdf"].update(memory_kib="65536")
        ),
        "memory float": variant(
            lambda d: d["slots"]["passphrase"]["kdf"].update(memory_kib=65536.0)
        ),
        "data key missing": variant(lambda d: d.pop("data_key")),
        "data key version text": variant(lambda d: d["data_key"].update(version="1")),
        "data key version bool": variant(lambda d: d["data_key"].update(version=True)),
    }


def test_corrupted_keyfiles_are_refused_with_one_line(vault_copy) -> None:
    folder, _ = vault_copy
    doc = _keyfile_doc(folder)
    for label, content in _corruptions(doc).items():
        (folder / KEYFILE_NAME).write_bytes(content)
        before = snapshot(folder)

        with pytest.raises(KeyFileDamaged) as caught:
            Vault.open(folder, passphrase=PASSPHRASE, use_keyring=False)

        message = one_line(caught.value)
        assert message.startswith("vault.keys"), label
        assert snapshot(folder) == before, label


@pytest.mark.parametrize(
    "kdf",
    [
        {"memory_kib": 2**40, "iterations": 3, "lanes": 4},
        {"memory_kib": 4 * 1024 * 1024 + 1, "iterations": 3, "lanes": 4},
        {"memory_kib": 65536, "iterations": 2**31, "lanes": 4},
        {"memory_kib": 65536, "iterations": 3, "lanes": 2**24},
        # Below the floor is a downgrade, refused as well.
        {"memory_kib": 1024, "iterations": 3, "lanes": 4},
        {"memory_kib": 65536, "iterations": 1, "lanes": 4},
    ],
)
def test_out_of_bounds_argon2_params_are_refused_before_allocation(vault_copy, kdf) -> None:
    folder, _ = vault_copy
    doc = _keyfile_doc(folder)
    doc["slots"]["passphrase"]["kdf"].update(kdf)
    (folder / KEYFILE_NAME).write_text(json.dumps(doc))

    started = time.monotonic()
    with pytest.raises(KeyFileDamaged) as caught:
        Vault.open(folder, passphrase=PASSPHRASE, use_keyring=False)

    assert time.monotonic() - started < 0.5
    assert "Argon2id" in one_line(caught.value)


def test_damaged_wrapped_data_key_is_keyfile_damage(vault_copy) -> None:
    folder, _ = vault_copy
    doc = _keyfile_doc(folder)
    wrapped = bytearray(b64decode(doc["data_key"]["wrapped"]))
    wrapped[0] ^= 0x01  # always a change, whatever the first byte was
    doc["data_key"]["wrapped"] = b64encode(bytes(wrapped)).decode("ascii")
    (folder / KEYFILE_NAME).write_text(json.dumps(doc))

    with pytest.raises(KeyFileDamaged) as caught:
        Vault.open(folder, passphrase=PASSPHRASE, use_keyring=False)

    assert "data key" in one_line(caught.value)


def test_slot_copied_from_another_vault_does_not_open(vault_copy, tmp_path) -> None:
    folder, _ = vault_copy
    other = Vault.create(
        tmp_path / "other", passphrase=PASSPHRASE, use_keyring=False, kdf_seconds=0
    )
    other.vault.lock()
    doc = _keyfile_doc(folder)
    doc["slots"]["passphrase"] = _keyfile_doc(tmp_path / "other")["slots"]["passphrase"]
    (folder / KEYFILE_NAME).write_text(json.dumps(doc))

    with pytest.raises(WrongPassphrase):
        Vault.open(folder, passphrase=PASSPHRASE, use_keyring=False)
