"""Secret names: refused shapes, quoting, unicode forms and case-insensitive uniqueness."""

from __future__ import annotations

import unicodedata

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import Conflict, InvalidName, SecretNotFound, VersionConflict
from echo_vault_app.secrets import SecretsManager
from echo_vault_app.secrets.model import MAX_NAME_LENGTH

MASTER_KEY = Fernet.generate_key().decode()


@pytest.fixture
def manager(vault_dir):
    created = Vault.create(vault_dir, master_key=MASTER_KEY, use_keyring=False)
    manager = SecretsManager(vault=created.vault)
    yield manager
    manager.lock()


@pytest.mark.parametrize(
    "name",
    [
        "",
        " lead",
        "trail ",
        "/lead",
        "trail/",
        "a//b",
        "/",
        "a\nb",
        "a\tb",
        "a\x00b",
        "a\x7fb",
        "a\u200bb",  # zero-width space
        "a\u202eb",  # right-to-left override: spoofs how a name reads
        "a/./b",
        "a/../b",
        "..",
        "x" * (MAX_NAME_LENGTH + 1),
        None,
        42,
        b"bytes",
    ],
)
def test_invalid_names_are_refused_and_nothing_stored(manager, name) -> None:
    with pytest.raises(InvalidName) as caught:
        manager.store_secret(name, "value")  # type: ignore[arg-type]

    assert str(caught.value) and "\n" not in str(caught.value)
    assert "value" not in str(caught.value)
    assert manager.list_secrets() == []


def test_invalid_names_on_read_paths_are_usage_errors(manager) -> None:
    for call in (manager.get, manager.history, manager.restore_from_trash, manager.reveal):
        with pytest.raises(InvalidName):
            call("a//b")
    assert manager.get_secret("ok/name") is None


@pytest.mark.parametrize(
    "name",
    [
        "'; DROP TABLE secrets; --",
        'Robert"); DELETE FROM secrets; --',
        "%",
        "_",
        "a%b_c\\d",
        "x' OR '1'='1",
        "name:with:colons",
        "tag:prod",
        "-minus",
        '"quoted"',
        "NEAR(a b)",
        "*",
    ],
)
def test_names_with_quotes_and_sql_are_plain_names(manager, name) -> None:
    manager.store_secret("other", "other value")

    manager.store_secret(name, "value of " + name)

    assert manager.get_secret(name) == "value of " + name
    assert sorted(manager.list_secrets()) == sorted(["other", name])
    assert manager.list_secrets(prefix=name) == [name]
    assert manager.get_secret("other") == "other value"
    assert manager.delete_secret(name)
    assert manager.list_secrets() == ["other"]


def test_list_prefix_treats_like_wildcards_literally(manager) -> None:
    for name in ("a%b", "axb", "a_c", "abc"):
        manager.store_secret(name, "v")

    assert manager.list_secrets(prefix="a%") == ["a%b"]
    assert manager.list_secrets(prefix="a_") == ["a_c"]


def test_nfc_and_nfd_forms_are_the_same_secret(manager) -> None:
    nfc = unicodedata.normalize("NFC", "café/clé")
    nfd = unicodedata.normalize("NFD", "café/clé")
    assert nfc != nfd

    manager.store_secret(nfd, "first")
    second = manager.store_secret(nfc, "second")

    assert second.version == 2
    assert manager.list_secrets() == [nfc]
    assert manager.get_secret(nfd) == "second"
    assert manager.get_secret(nfc) == "second"


@pytest.mark.parametrize(
    "name", ["🔑/deploy", "مفتاح/سر", "שלום/עולם", "日本語/キー", "Ελληνικά/κλειδί", "a b/c d"]
)
def test_unicode_names_round_trip(manager, name) -> None:
    manager.store_secret(name, "v-" + name)

    assert manager.list_secrets() == [name]
    assert manager.get_secret(name) == "v-" + name
    assert [s.name for s in manager.search(name.split("/")[0])] == [name]


def test_longest_allowed_name_works(manager) -> None:
    name = "n" * MAX_NAME_LENGTH

    manager.store_secret(name, "v")

    assert manager.get_secret(name) == "v"


def test_names_differing_in_case_are_one_secret(manager) -> None:
    manager.store_secret("Stripe/Key", "first")

    second = manager.store_secret("stripe/key", "second")

    assert second.version == 2
    assert len(manager.list_secrets()) == 1
    assert manager.get_secret("STRIPE/KEY") == "second"
    assert [e.fields[0].value for e in manager.history("Stripe/Key")] == ["first"]


def test_check_and_set_create_conflicts_with_other_case(manager) -> None:
    manager.store_secret("Stripe/Key", "first")

    with pytest.raises(VersionConflict) as caught:
        manager.store_secret("stripe/key", "second", expected_version=0)

    assert "version 1" in str(caught.value)
    assert manager.get_secret("Stripe/Key") == "first"
    assert manager.store.summary("stripe/key").version == 1


def test_check_and_set_update(manager) -> None:
    manager.store_secret("k", "1", expected_version=0)
    manager.store_secret("k", "2", expected_version=1)

    with pytest.raises(VersionConflict):
        manager.store_secret("k", "stale", expected_version=1)
    with pytest.raises(VersionConflict):
        manager.store_secret("k", "future", expected_version=7)

    assert manager.get_secret("k") == "2"
    assert manager.store.summary("k").version == 2


def test_rename_onto_other_case_of_itself_works_but_onto_another_conflicts(manager) -> None:
    manager.store_secret("a/one", "1")
    manager.store_secret("a/two", "2")

    manager.store.rename("a/one", "A/One")
    with pytest.raises(Conflict):
        manager.store.rename("A/One", "A/TWO")

    assert manager.list_secrets() == ["A/One", "a/two"]
    with pytest.raises(SecretNotFound):
        manager.store.rename("missing", "other")


def test_names_differing_only_in_non_ascii_case_are_one_secret(make_vault):
    from echo_vault_app.secrets import SecretsManager

    manager = SecretsManager(vault=make_vault().vault)
    manager.store_secret("Äpfel/Straße", "one")
    manager.store_secret("äpfel/STRASSE", "two")
    assert manager.list_secrets() == ["äpfel/STRASSE"]
    assert manager.get_secret("ÄPFEL/strasse") == "two"
    assert manager.store.summary("äpfel/straße").version == 2
