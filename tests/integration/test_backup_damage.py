"""A damaged, truncated, foreign or wrongly unlocked backup changes nothing in the vault.

Each refused import records exactly one audit event (action ``import``, outcome ``failed``)
and leaves every secret, field and history entry as it was: the digest covers live and trashed
secrets with decrypted fields and history. The backup is written in 4 KiB chunks so the flips
and cuts land in the header, the first, middle and last chunks and their tags; every import
here runs the real Argon2id, so offsets are sampled rather than exhaustive (the container's
unit tests flip every byte through the KDF seam).
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from echo_vault_app.errors import (
    BackupCorrupted,
    BackupError,
    BackupVersionUnsupported,
    BackupWrongPassword,
)
from echo_vault_app.secrets import SecretsManager, backup_format
from echo_vault_app.secrets.backup import build_payload
from tests.integration.backup_support import (
    PASSWORD,
    audit_events,
    digest,
    fill,
    new_vault,
)

CHUNK = 4096


@pytest.fixture(scope="module")
def good_backup(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("damage")
    vault = new_vault(folder / "source")
    try:
        fill(vault, 60, prefix="shared")
        payload = build_payload(vault)
    finally:
        vault.lock()
    path = folder / "good.evb"
    backup_format._write(
        path, PASSWORD.encode(), payload, False, backup_format.KdfParams(), None, CHUNK
    )
    return path


@pytest.fixture
def target(tmp_path: Path):
    vault = new_vault(tmp_path / "target")
    fill(vault, 10, prefix="shared", seed=99)  # same names as the backup, other values
    yield vault
    vault.lock()


def _refused(target, path: Path, error: type[Exception], password: str = PASSWORD) -> str:
    before, count = digest(target), len(audit_events(target))
    with pytest.raises(error) as info:
        SecretsManager(vault=target).import_secrets(path, password)
    assert digest(target) == before
    events = audit_events(target)
    assert len(events) == count + 1
    assert (events[-1].action, events[-1].outcome) == ("import", "failed")
    message = str(info.value)
    assert "\n" not in message and "sk_test" not in message
    return message


def test_the_good_backup_imports(target, good_backup) -> None:
    # The control case: without damage the same file does change the vault.
    before = digest(target)
    result = SecretsManager(vault=target).import_secrets(good_backup, PASSWORD)
    assert digest(target) != before and len(result.added) == 50 and len(result.changed) == 10


def _offsets(data: bytes) -> list[int]:
    _, _, length = backup_format.PREFIX.unpack_from(data)
    head = backup_format.PREFIX.size + length
    sealed = CHUNK + backup_format.TAG_BYTES
    rnd = random.Random(5)
    picks = {0, 7, 8, 9, 10, 13, head - 1, head, head + 1, len(data) - 1, len(data) - 17}
    picks |= {rnd.randrange(backup_format.PREFIX.size, head) for _ in range(6)}  # header JSON
    picks |= {head + sealed - 1, head + sealed, head + 2 * sealed - 8}  # tags and boundaries
    picks |= {rnd.randrange(head, len(data)) for _ in range(8)}
    return sorted(picks)


def test_any_flipped_byte_is_refused_and_changes_nothing(target, good_backup, tmp_path) -> None:
    data = good_backup.read_bytes()
    assert len(data) > 4 * CHUNK
    for offset in _offsets(data):
        damaged = bytearray(data)
        damaged[offset] ^= 0x01 << (offset % 8)
        path = tmp_path / f"flip{offset}.evb"
        path.write_bytes(bytes(damaged))
        # A flip in the version field may read as a newer format, one in the salt or KDF
        # fields as a wrong password: every outcome must be a refusal.
        _refused(target, path, BackupError)


def test_truncated_backups_are_refused(target, good_backup, tmp_path) -> None:
    data = good_backup.read_bytes()
    _, _, length = backup_format.PREFIX.unpack_from(data)
    head = backup_format.PREFIX.size + length
    sealed = CHUNK + backup_format.TAG_BYTES
    for cut in (0, 5, 12, head - 3, head, head + 100, head + sealed, head + 2 * sealed - 1,
                len(data) - 1):  # fmt: skip
        path = tmp_path / f"cut{cut}.evb"
        path.write_bytes(data[:cut])
        message = _refused(target, path, BackupCorrupted)
        assert "truncated" in message or "damaged" in message or "not an Echo Vault" in message


def test_wrong_password_is_refused(target, good_backup) -> None:
    message = _refused(target, good_backup, BackupWrongPassword, "tangerine-Orbit-41-lighthousE")
    assert "wrong backup password" in message


def test_newer_format_version_is_refused(target, good_backup, tmp_path) -> None:
    data = bytearray(good_backup.read_bytes())
    struct.pack_into(">H", data, len(backup_format.MAGIC), backup_format.FORMAT_VERSION + 1)
    path = tmp_path / "newer.evb"
    path.write_bytes(bytes(data))
    assert "newer" in _refused(target, path, BackupVersionUnsupported)


@pytest.mark.parametrize(
    "content",
    [b"", b'{"format": 1, "secrets": []}', b"PK\x03\x04zipzipzip" * 10, bytes(range(256)) * 8],
    ids=["empty", "json", "zip", "binary"],
)
def test_files_that_are_not_backups(target, tmp_path, content: bytes) -> None:
    path = tmp_path / "not.evb"
    path.write_bytes(content)
    assert "not an Echo Vault backup" in _refused(target, path, BackupCorrupted)


def test_missing_file_and_folder(target, tmp_path) -> None:
    _refused(target, tmp_path / "missing.evb", BackupError)
    _refused(target, tmp_path, BackupError)
