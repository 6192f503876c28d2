"""The backup container refuses every damaged, truncated, reordered or hostile file.

Argon2id costs about 0.3 s per run at the 64 MiB / 3 / 4 floor, so only a few tests run it end
to end; the rest go through the module's ``derive`` seam with one key derived once, which
leaves the container code under test unchanged.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from echo_vault_app.errors import (
    BackupCorrupted,
    BackupError,
    BackupVersionUnsupported,
    BackupWrongPassword,
    Conflict,
    UsageError,
    WeakPassword,
)
from echo_vault_app.secrets import backup_format as bf

PASSWORD = "tangerine-Orbit-41-lighthouse"
PAYLOAD = {
    "format": 1,
    "secrets": [
        {"name": f"svc/{i}", "value": f"sk_test_{i:04d}" + "x" * 40, "tags": ["a", "b"]}
        for i in range(12)
    ],
    "api_keys": [{"id": 1, "hash": "00" * 16}],
    "settings": {"lock_after": 240, "ünïcode": "ok"},
}
SMALL_CHUNK = 256


@pytest.fixture(scope="module")
def master() -> bytes:
    return bf.derive_master_key(PASSWORD.encode(), bf.KdfParams(), b"\x00" * bf.SALT_BYTES)


def fixed(master: bytes):
    return lambda password, kdf, salt: master


def write_fast(path: Path, master: bytes, payload=PAYLOAD, chunk_size=SMALL_CHUNK, force=False):
    bf._write(path, b"unused", payload, force, bf.KdfParams(), None, chunk_size, fixed(master))


def read_fast(path: Path, master: bytes):
    return bf._read(path, b"unused", fixed(master), None)


def craft(path: Path, master: bytes, plaintext: bytes, counts_from=None) -> None:
    """Write a correctly sealed file around arbitrary plaintext, bypassing the writer's checks."""
    check = bf._subkey(master, bf._CHECK_INFO)
    header = bf._new_header(counts_from or {}, bf.KdfParams(), b"\x00" * 16, 4096, check)
    aead = AESGCM(bf._subkey(master, bf._PAYLOAD_INFO))
    plaintext_chunks = [plaintext[i : i + 4096] for i in range(0, len(plaintext), 4096)]
    body = bytearray(header.raw)
    for index, chunk in enumerate(plaintext_chunks):
        last = index == len(plaintext_chunks) - 1
        body += aead.encrypt(bf._nonce(header.nonce_prefix, index, last), chunk, header.raw)
    path.write_bytes(bytes(body))


def split(data: bytes) -> tuple[bytes, list[bytes]]:
    """Cut a small-chunk backup into its header and sealed chunks."""
    _, _, length = bf.PREFIX.unpack_from(data)
    head = bf.PREFIX.size + length
    size = SMALL_CHUNK + bf.TAG_BYTES
    return data[:head], [data[i : i + size] for i in range(head, len(data), size)]


# End to end, with the real KDF.


def test_round_trip_with_real_kdf_and_header_without_password(tmp_path: Path) -> None:
    path = tmp_path / "vault.evbak"
    bf.write_backup(path, PASSWORD, PAYLOAD)

    assert bf.read_backup(path, PASSWORD) == PAYLOAD
    header = bf.read_backup_header(path)
    assert header.format_version == bf.FORMAT_VERSION
    assert header.counts == {"secrets": 12, "api_keys": 1}
    assert header.kdf == bf.KdfParams(65536, 3, 4)
    assert abs(time.time() - header.created.timestamp()) < 60
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PASSWORD not in repr(header)


def test_wrong_password_with_real_kdf(tmp_path: Path) -> None:
    path = tmp_path / "vault.evbak"
    bf.write_backup(path, PASSWORD, {"secrets": []})

    with pytest.raises(BackupWrongPassword) as info:
        bf.read_backup(path, "a-different-password-entirely")
    assert "a-different-password" not in str(info.value)


def test_password_is_nfc_normalised(tmp_path: Path) -> None:
    path = tmp_path / "vault.evbak"
    composed = "caf\u00e9-Orbit-41-lighthouse"
    decomposed = "cafe\u0301-Orbit-41-lighthouse"
    bf.write_backup(path, composed, {"secrets": []})

    assert bf.read_backup(path, decomposed) == {"secrets": []}


# The password rule.


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short-Pw1!", "at least 12"), ("password1234", "easy to guess"), ("a" * 20, "guess")],
)
def test_weak_passwords_are_refused_with_reason(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword, match=reason) as info:
        bf.check_backup_password(password)
    assert password not in str(info.value)


def test_strong_password_passes_and_weak_one_writes_nothing(tmp_path: Path) -> None:
    bf.check_backup_password(PASSWORD)
    with pytest.raises(WeakPassword):
        bf.write_backup(tmp_path / "b", "password1234", PAYLOAD)
    assert list(tmp_path.iterdir()) == []


def test_kdf_below_floor_is_refused_on_write(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="KDF"):
        bf.write_backup(tmp_path / "b", PASSWORD, PAYLOAD, kdf=bf.KdfParams(32768, 3, 4))
    with pytest.raises(UsageError, match="KDF"):
        bf.write_backup(tmp_path / "b", PASSWORD, PAYLOAD, kdf=bf.KdfParams(65536, 2, 4))


# Container integrity, through the derive seam.


def test_fast_round_trip_many_chunks_and_progress(tmp_path: Path, master: bytes) -> None:
    path = tmp_path / "big.evbak"
    payload = {"format": 1, "secrets": [{"v": os.urandom(600).hex()} for _ in range(3000)]}
    written: list[tuple[int, int]] = []
    bf._write(
        path,
        b"",
        payload,
        False,
        bf.KdfParams(),
        lambda d, t: written.append((d, t)),
        bf.DEFAULT_CHUNK_SIZE,
        fixed(master),
    )
    assert written[-1] == (3000, 3000)

    read: list[tuple[int, int]] = []
    assert bf._read(path, b"", fixed(master), lambda d, t: read.append((d, t))) == payload
    size = path.stat().st_size
    assert read[-1] == (size, size)
    assert len(read) == 4  # 3.6 MB of JSON in 1 MiB chunks
    assert [d for d, _ in read] == sorted(d for d, _ in read)


def test_every_single_byte_flip_is_refused(tmp_path: Path, master: bytes) -> None:
    path = tmp_path / "small.evbak"
    write_fast(path, master)
    original = path.read_bytes()
    assert read_fast(path, master) == PAYLOAD
    assert len(split(original)[1]) >= 4

    damaged = tmp_path / "damaged.evbak"
    for offset in range(len(original)):
        for mask in (0x01, 0x80):
            data = bytearray(original)
            data[offset] ^= mask
            damaged.write_bytes(bytes(data))
            with pytest.raises(BackupError):
                read_fast(damaged, master)


def test_truncation_at_every_offset_is_refused(tmp_path: Path, master: bytes) -> None:
    path = tmp_path / "small.evbak"
    write_fast(path, master)
    original = path.read_bytes()

    cut = tmp_path / "cut.evbak"
    for length in range(len(original)):
        cut.write_bytes(original[:length])
        with pytest.raises(BackupError):
            read_fast(cut, master)


def test_removed_reordered_duplicated_and_appended_chunks_are_refused(
    tmp_path: Path, master: bytes
) -> None:
    path = tmp_path / "small.evbak"
    write_fast(path, master)
    head, chunks = split(path.read_bytes())
    variants = {
        "first removed": chunks[1:],
        "middle removed": chunks[:1] + chunks[2:],
        "last removed": chunks[:-1],
        "swapped": [chunks[1], chunks[0], *chunks[2:]],
        "duplicated": [chunks[0], *chunks],
        "last duplicated": [*chunks, chunks[-1]],
        "appended garbage": [*chunks, b"\x00" * 40],
    }

    for name, body in variants.items():
        path.write_bytes(head + b"".join(body))
        with pytest.raises(BackupCorrupted, match="chunk|truncated"):
            read_fast(path, master)
        assert name


def test_chunks_from_another_backup_are_refused(tmp_path: Path, master: bytes) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write_fast(one, master)
    write_fast(two, master)
    head_one, _ = split(one.read_bytes())
    _, chunks_two = split(two.read_bytes())
    one.write_bytes(head_one + b"".join(chunks_two))

    with pytest.raises(BackupCorrupted):
        read_fast(one, master)


def test_wrong_password_is_found_before_any_chunk_is_decrypted(
    tmp_path: Path, master: bytes
) -> None:
    path = tmp_path / "small.evbak"
    write_fast(path, master)
    head, chunks = split(path.read_bytes())
    path.write_bytes(head + os.urandom(sum(map(len, chunks))))

    with pytest.raises(BackupWrongPassword):
        bf._read(path, b"", fixed(bytes(32)), None)
    with pytest.raises(BackupCorrupted, match="chunk 0"):
        read_fast(path, master)


def test_newer_format_version_is_unsupported(tmp_path: Path, master: bytes) -> None:
    path = tmp_path / "small.evbak"
    write_fast(path, master)
    data = bytearray(path.read_bytes())
    struct.pack_into(">H", data, 8, bf.FORMAT_VERSION + 1)
    path.write_bytes(bytes(data))

    with pytest.raises(BackupVersionUnsupported, match="newer"):
        read_fast(path, master)
    with pytest.raises(BackupVersionUnsupported):
        bf.read_backup_header(path)


@pytest.mark.parametrize(
    "content", [b"", b"\x89EV", os.urandom(4096), b'{"secrets": []}', bf.MAGIC + b"\x00"]
)
def test_files_that_are_not_backups(tmp_path: Path, content: bytes, master: bytes) -> None:
    path = tmp_path / "x"
    path.write_bytes(content)

    with pytest.raises(BackupCorrupted, match="not an Echo Vault backup|truncated"):
        read_fast(path, master)


def test_missing_file_and_fifo_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="does not exist"):
        bf.read_backup_header(tmp_path / "nope")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(BackupError, match="not a regular file"):
        bf.read_backup_header(fifo)


def _header_with(master: bytes, **kdf_changes) -> bytes:
    check = bf._subkey(master, bf._CHECK_INFO)
    raw = bf._new_header({}, bf.KdfParams(), b"\x00" * 16, 4096, check).raw
    text = raw[bf.PREFIX.size :].decode()
    for key, value in kdf_changes.items():
        text = text.replace(
            f'"{key}":{getattr(bf.KdfParams(), key)}', f'"{key}":{json.dumps(value)}'
        )
    body = text.encode()
    return bf.PREFIX.pack(bf.MAGIC, 1, len(body)) + body


@pytest.mark.parametrize(
    "changes",
    [
        {"memory_kib": 2**31},
        {"memory_kib": 2**64},
        {"iterations": 10**9},
        {"lanes": 2**24},
        {"memory_kib": 1024},
        {"iterations": 1},
        {"lanes": 1},
        {"memory_kib": "65536"},
        {"iterations": 3.0},
    ],
)
def test_kdf_parameters_are_bounds_checked_before_derivation(
    tmp_path: Path, master: bytes, changes: dict
) -> None:
    path = tmp_path / "evil.evbak"
    path.write_bytes(_header_with(master, **changes) + b"\x00" * 64)

    def must_not_run(*args):
        raise AssertionError("KDF ran on out-of-bounds parameters")

    started = time.monotonic()
    with pytest.raises(BackupCorrupted, match="KDF"):
        bf._read(path, b"", must_not_run, None)
    assert time.monotonic() - started < 0.5


def test_oversized_header_length_is_refused(tmp_path: Path, master: bytes) -> None:
    path = tmp_path / "evil.evbak"
    path.write_bytes(bf.PREFIX.pack(bf.MAGIC, 1, 2**32 - 1) + b"{}")

    with pytest.raises(BackupCorrupted, match="length"):
        read_fast(path, master)


def test_deep_nesting_in_authenticated_payload_is_refused(tmp_path: Path, master: bytes) -> None:
    path = tmp_path / "deep.evbak"
    depth = 100_000
    craft(path, master, b'{"a":' + b"[" * depth + b"]" * depth + b"}")

    with pytest.raises(BackupCorrupted, match="nested deeper"):
        read_fast(path, master)


@pytest.mark.parametrize(
    ("plaintext", "reason"),
    [
        (b'{"a":1,"a":2}', "duplicate key"),
        (b'{"a":NaN}', "NaN"),
        (b'{"a":Infinity}', "Infinity"),
        (b"[1,2]", "not a JSON object"),
        (b'{"a":', "malformed"),
        (b'{"a":"\xff"}', "UTF-8"),
        (b'{"a":' + b"9" * 5000 + b"}", "refused"),
    ],
)
def test_invalid_authenticated_payloads_are_refused(
    tmp_path: Path, master: bytes, plaintext: bytes, reason: str
) -> None:
    path = tmp_path / "bad.evbak"
    craft(path, master, plaintext)

    with pytest.raises(BackupCorrupted, match=reason):
        read_fast(path, master)


def test_counts_in_header_must_match_payload(tmp_path: Path, master: bytes) -> None:
    path = tmp_path / "counts.evbak"
    craft(path, master, b'{"secrets":[1,2]}', counts_from={"secrets": [1, 2, 3]})

    with pytest.raises(BackupCorrupted, match="counts"):
        read_fast(path, master)


def test_writer_refuses_payloads_the_reader_would_refuse(tmp_path: Path, master: bytes) -> None:
    deep: list = []
    for _ in range(40):
        deep = [deep]
    for payload, reason in [
        ({"secrets": [deep]}, "nested deeper"),
        ({"secrets": [{"v": b"raw bytes"}]}, "JSON-serialisable"),
        ({"v": float("nan")}, "JSON-serialisable"),
        ({1: "x"}, "text keys"),
        (["not", "a", "mapping"], "mapping"),
    ]:
        with pytest.raises(UsageError, match=reason):
            write_fast(tmp_path / "out.evbak", master, payload=payload)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_needs_force_and_symlink_is_never_followed(
    tmp_path: Path, master: bytes
) -> None:
    path = tmp_path / "vault.evbak"
    path.write_bytes(b"precious")
    with pytest.raises(Conflict, match="already exists"):
        write_fast(path, master)
    assert path.read_bytes() == b"precious"

    write_fast(path, master, force=True)
    assert read_fast(path, master) == PAYLOAD
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    target = tmp_path / "target"
    target.write_bytes(b"keep me")
    link = tmp_path / "link.evbak"
    link.symlink_to(target)
    for force in (False, True):
        with pytest.raises(BackupError, match="symbolic link"):
            write_fast(link, master, force=force)
    assert target.read_bytes() == b"keep me"
    assert link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.evbak", "target", "vault.evbak"]


def test_folder_instead_of_file_is_refused(tmp_path: Path, master: bytes) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(BackupError, match="not a regular file"):
        write_fast(tmp_path / "dir", master, force=True)


# -- reading and writing one item at a time ----------------------------------------------------


def test_reader_hands_out_lists_item_by_item_and_reads_twice(tmp_path: Path, master) -> None:
    path = tmp_path / "stream.evbak"
    write_fast(path, master)

    with bf.BackupReader(path, b"unused", derive=fixed(master)) as reader:
        for _ in range(2):
            seen = []
            for key, value in reader.members():
                if isinstance(value, bf.Items):
                    assert len(value) == len(PAYLOAD[key])
                    seen.append((key, [item for item in value]))
                else:
                    seen.append((key, value))
            assert seen == list(PAYLOAD.items())


def test_text_split_anywhere_across_chunks_reads_back(tmp_path: Path, master) -> None:
    # With 256-byte chunks, multi-byte characters, escapes and one value of many chunks are cut
    # at every kind of place: inside a character, a number, a string, between items.
    payload = {
        "pad": "x" * 229,  # puts the next member's number across the first chunk boundary
        "exported": 1700000000.125,
        "format": 1,
        "secrets": [{"n": i, "v": 'ü€😀\\"' * (i % 50), "x": 1.5e-7 * i} for i in range(300)],
        "numbers": list(range(10**12, 10**12 + 400)),
        "long": ["é" * 100_000],
    }
    path = tmp_path / "split.evbak"
    write_fast(path, master, payload)

    assert read_fast(path, master) == payload


def test_white_space_between_tokens_is_accepted(tmp_path: Path, master) -> None:
    payload = {"secrets": [{"a": 1}, {"b": [1, 2]}], "format": 1}
    text = json.dumps(payload, indent=4).encode()
    path = tmp_path / "pretty.evbak"
    craft(path, master, b"\n " + text + b"\n\n", counts_from=payload)

    assert read_fast(path, master) == payload


def test_items_are_provisional_until_the_end_is_reached(tmp_path: Path, master) -> None:
    path = tmp_path / "late.evbak"
    write_fast(path, master)
    head, chunks = split(path.read_bytes())
    path.write_bytes(head + b"".join(chunks[:-1]))  # cut at a chunk boundary: the end is missing

    handed_out = []
    reader = bf.BackupReader(path, b"unused", derive=fixed(master))
    with reader, pytest.raises(BackupCorrupted, match="chunk"):
        for _, value in reader.members():
            for item in value if isinstance(value, bf.Items) else [value]:
                handed_out.append(item)
    assert handed_out, "items before the cut were handed out, and the reading still failed"


@pytest.mark.parametrize(
    ("plaintext", "counts", "reason"),
    [
        (b'{"secrets":[1,2,3]}', {"secrets": [1, 2]}, "item counts"),
        (b'{"secrets":[1]} {}', {"secrets": [1]}, "data after"),
        (b'{"secrets":[1] "x":2}', {"secrets": [1]}, "malformed"),
        (b'{"secrets":[1 2]}', {"secrets": [1, 2]}, "malformed"),
        (b'{"secrets":[1],"secrets":[2]}', {"secrets": [1]}, "duplicate key"),
        (b'{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}', {"a": [1]},
         "nested deeper"),
    ],
)  # fmt: skip
def test_streamed_payload_errors(tmp_path: Path, master, plaintext, counts, reason) -> None:
    path = tmp_path / "bad.evbak"
    craft(path, master, plaintext, counts_from=counts)

    with pytest.raises(BackupCorrupted, match=reason):
        read_fast(path, master)


def test_more_items_than_the_header_says_fail_before_the_end(tmp_path: Path, master) -> None:
    path = tmp_path / "more.evbak"
    items = ",".join(str(i) for i in range(5000)).encode()
    craft(path, master, b'{"secrets":[' + items + b"]}", counts_from={"secrets": [1]})

    got = []
    reader = bf.BackupReader(path, b"unused", derive=fixed(master))
    with reader, pytest.raises(BackupCorrupted, match="item counts"):
        for _, value in reader.members():
            for item in value:
                got.append(item)
    assert got == [0]


def test_items_written_lazily_and_their_count_is_checked(tmp_path: Path, master) -> None:
    produced = []

    def items(count):
        for i in range(count):
            produced.append(i)
            yield {"name": f"svc/{i}"}

    path = tmp_path / "lazy.evbak"
    write_fast(path, master, {"format": 1, "secrets": bf.Items(40, items(40))})
    assert read_fast(path, master)["secrets"] == [{"name": f"svc/{i}"} for i in range(40)]
    assert bf.read_backup_header(path).counts == {"secrets": 40}

    liar = tmp_path / "liar.evbak"
    with pytest.raises(UsageError, match="produced 39 items, not 40"):
        write_fast(liar, master, {"secrets": bf.Items(40, items(39))})
    assert not liar.exists() and not list(tmp_path.glob(".liar*"))
