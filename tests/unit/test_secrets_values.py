"""Secret values: large and binary values, history, trash and expiry, on a real vault."""

from __future__ import annotations

import os
import time

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import Conflict, SecretNotFound, ValidationError
from echo_vault_app.secrets import SecretsManager

MASTER_KEY = Fernet.generate_key().decode()
TEN_MIB = 10 * 1024 * 1024


@pytest.fixture
def manager(vault_dir):
    created = Vault.create(vault_dir, master_key=MASTER_KEY, use_keyring=False)
    manager = SecretsManager(vault=created.vault)
    yield manager
    manager.lock()


def reopen(manager: SecretsManager, vault_dir) -> SecretsManager:
    manager.lock()
    return SecretsManager(vault=Vault.open(vault_dir, master_key=MASTER_KEY, use_keyring=False))


# -- size and binary ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(("0123456789abcdef" * (TEN_MIB // 16)), id="10MiB-text"),
        pytest.param(os.urandom(TEN_MIB), id="10MiB-bytes"),
    ],
)
def test_ten_mib_value_round_trips_through_store_secret(manager, vault_dir, value) -> None:
    manager.store_secret("big/blob", value)

    again = reopen(manager, vault_dir)
    try:
        got = again.get_secret("big/blob")
        assert type(got) is type(value)
        assert got == value
    finally:
        again.lock()


def test_ten_mib_bytes_round_trip_in_a_note(manager, vault_dir) -> None:
    value = os.urandom(TEN_MIB)

    manager.store_secret("big/note", fields={"note": value}, template="note")

    again = reopen(manager, vault_dir)
    try:
        assert again.get("big/note").field("note").value == value
    finally:
        again.lock()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"\x00", id="nul"),
        pytest.param(b"\x00\x01\x02\xff\xfe\x00", id="nul-and-high"),
        pytest.param(b"a\x00b", id="utf8-with-nul"),
        pytest.param(bytes(range(256)), id="all-bytes"),
    ],
)
def test_binary_values_round_trip_exactly(manager, value) -> None:
    manager.store_secret("bin/value", value)

    got = manager.get_secret("bin/value")

    assert got == value
    assert isinstance(got, bytes)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("line one\nline two\n", id="multi-line"),
        pytest.param("ends with newline\n", id="trailing-newline"),
        pytest.param("  padded  ", id="spaces"),
        pytest.param("tab\tinside", id="tab"),
        pytest.param("nul\x00inside", id="text-nul"),
        pytest.param("😀 ünïcödé ✓", id="unicode"),
    ],
)
def test_text_values_round_trip_exactly(manager, value) -> None:
    manager.store_secret("text/value", value)

    assert manager.get_secret("text/value") == value


def test_over_limit_value_is_refused_and_nothing_stored(manager) -> None:
    with pytest.raises(ValidationError) as caught:
        manager.store_secret(
            "huge", fields={"note": b"x" * (64 * 1024 * 1024 + 1)}, template="note"
        )

    assert "\n" not in str(caught.value)
    assert manager.list_secrets() == []


# -- history -----------------------------------------------------------------------------------


def test_history_keeps_ten_versions_by_default(manager) -> None:
    for number in range(1, 16):
        manager.store_secret("rot/key", f"value-{number}")

    history = manager.history("rot/key")

    assert manager.store.summary("rot/key").version == 15
    assert [e.version for e in history] == list(range(14, 4, -1))
    assert [e.fields[0].value for e in history] == [f"value-{n}" for n in range(14, 4, -1)]


def test_restore_version_brings_back_old_values(manager) -> None:
    for number in range(1, 16):
        manager.store_secret("rot/key", f"value-{number}", tags=[f"t{number}"])

    restored = manager.restore_version("rot/key", 5)

    assert restored.version == 16
    assert manager.get_secret("rot/key") == "value-5"
    assert manager.store.summary("rot/key").tags == ("t5",)
    history = manager.history("rot/key")
    assert len(history) == 10
    assert history[0].fields[0].value == "value-15"
    with pytest.raises(SecretNotFound):
        manager.restore_version("rot/key", 3)  # pruned long ago
    assert manager.get_secret("rot/key") == "value-5"


def test_history_depth_setting(manager) -> None:
    manager.store.set_history_depth(2)
    for number in range(1, 6):
        manager.store_secret("k", str(number))

    assert [e.version for e in manager.history("k")] == [4, 3]

    manager.store.set_history_depth(0)
    manager.store_secret("k", "6")
    assert manager.history("k") == []
    with pytest.raises(ValidationError):
        manager.store.set_history_depth(-1)


def test_history_of_binary_values(manager) -> None:
    manager.store_secret("bin", b"\x00\xff1")
    manager.store_secret("bin", b"\x00\xff2")

    assert manager.history("bin")[0].fields[0].value == b"\x00\xff1"


# -- trash ---------------------------------------------------------------------------------------


def test_trash_restore_and_empty(manager) -> None:
    manager.store_secret("gone/soon", "value")
    manager.store_secret("stays", "value")

    assert manager.delete_secret("gone/soon") is True
    assert manager.delete_secret("gone/soon") is False
    assert manager.list_secrets() == ["stays"]
    assert manager.get_secret("gone/soon") is None
    assert [s.name for s in manager.trash()] == ["gone/soon"]
    assert manager.search("gone") == []

    manager.restore_from_trash("gone/soon")
    assert manager.get_secret("gone/soon") == "value"
    assert manager.trash() == []

    manager.delete_secret("gone/soon")
    assert manager.empty_trash() == 1
    assert manager.trash() == []
    with pytest.raises(SecretNotFound):
        manager.restore_from_trash("gone/soon")
    with manager.vault.read() as conn:
        rows = conn.execute("SELECT count(*) FROM secret_fields").fetchone()[0]
        history = conn.execute("SELECT count(*) FROM secret_history").fetchone()[0]
        fts = conn.execute("SELECT count(*) FROM secrets_fts").fetchone()[0]
    assert (rows, history, fts) == (1, 0, 1)


def test_restore_refuses_to_clobber_a_new_secret_of_that_name(manager) -> None:
    manager.store_secret("name", "old")
    manager.delete_secret("name")
    created = manager.store_secret("Name", "new")

    with pytest.raises(Conflict):
        manager.restore_from_trash("name")

    assert created.version == 1
    assert manager.get_secret("name") == "new"
    assert len(manager.trash()) == 1


def test_empty_one_secret_from_trash(manager) -> None:
    for name in ("a", "b"):
        manager.store_secret(name, "v")
        manager.delete_secret(name)

    assert manager.empty_trash("a") == 1
    assert [s.name for s in manager.trash()] == ["b"]


# -- expiry --------------------------------------------------------------------------------------


def test_expiring_lists_expired_and_soon_expiring(manager) -> None:
    now = time.time()
    manager.store_secret("old", "v", expires=now - 60)
    manager.store_secret("soon", "v", expires=now + 24 * 3600)
    manager.store_secret("later", "v", expires=now + 30 * 24 * 3600)
    manager.store_secret("never", "v")

    assert [s.name for s in manager.expiring()] == ["old", "soon"]
    assert [s.name for s in manager.expiring(within_days=60)] == ["old", "soon", "later"]
    assert [s.name for s in manager.search("is:expired")] == ["old"]
    assert [s.name for s in manager.search("is:expiring")] == ["soon"]
    assert [s.name for s in manager.search("-is:expired")] == ["later", "never", "soon"]


def test_update_keeps_expiry_unless_given(manager) -> None:
    when = time.time() + 3600
    manager.store_secret("k", "1", expires=when)
    manager.store_secret("k", "2")

    assert manager.store.summary("k").expires == pytest.approx(when)


def test_summaries_page_by_name_and_expiry_can_be_cleared(make_vault):
    import time

    from echo_vault_app.secrets import SecretsManager

    manager = SecretsManager(vault=make_vault().vault)
    for i in range(25):
        manager.store_secret(f"page/{i:02d}", f"v{i}")
    pages, after = [], None
    while True:
        batch = manager.store.summaries(after=after, limit=10)
        pages.append([s.name for s in batch])
        if len(batch) < 10:
            break
        after = batch[-1].name
    assert [len(p) for p in pages] == [10, 10, 5]
    assert sum(pages, []) == [f"page/{i:02d}" for i in range(25)]

    manager.store_secret("page/00", "again", expires=time.time() + 3600)
    assert manager.store.summary("page/00").expires is not None
    manager.store_secret("page/00", "again")
    assert manager.store.summary("page/00").expires is not None
    manager.store_secret("page/00", "again", clear_expiry=True)
    assert manager.store.summary("page/00").expires is None


def test_put_many_writes_all_or_nothing(make_vault):
    from echo_vault_app.errors import InvalidName
    from echo_vault_app.secrets import SecretsManager
    from echo_vault_app.secrets.model import FieldValue

    manager = SecretsManager(vault=make_vault().vault)
    entries = [
        {"name": f"bulk/{i}", "fields": [FieldValue("value", f"v{i}")], "template": "generic"}
        for i in range(50)
    ]
    written = manager.store.put_many(entries)
    assert [s.version for s in written] == [1] * 50
    assert manager.get_secret("bulk/49") == "v49"

    bad = [*entries[:3], {"name": "", "fields": [FieldValue("value", "x")], "template": "g"}]
    with pytest.raises(InvalidName):
        manager.store.put_many(bad)
    assert manager.store.summary("bulk/0").version == 1
    assert manager.audit_verify().ok


# -- what a record shows when printed ----------------------------------------------------------


def test_a_secret_printed_or_logged_by_mistake_shows_no_value(manager) -> None:
    marker = "Marker-7f3a-never-print-me"
    manager.store_secret("svc/printed", marker)
    manager.store_secret("svc/bytes", marker.encode())
    for name in ("svc/printed", "svc/bytes"):
        secret = manager.get(name)
        shown = [repr(secret), str(secret), repr(secret.fields), f"{secret.fields[0]}"]
        for text in shown:
            assert marker not in text
            assert "hidden" in text
