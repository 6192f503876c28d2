"""Conflict modes: merge keeps every state, skip leaves the vault alone, replace-all replaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from echo_vault_app.errors import UsageError, VersionConflict
from echo_vault_app.secrets import SecretsManager
from tests.integration.backup_support import PASSWORD, digest, new_vault


@pytest.fixture
def pair(tmp_path: Path):
    a, b = new_vault(tmp_path / "a"), new_vault(tmp_path / "b")
    yield SecretsManager(vault=a), SecretsManager(vault=b)
    a.lock()
    b.lock()


def values(manager: SecretsManager, name: str) -> tuple[str, list[str]]:
    current = manager.get(name).fields[0].value
    return current, [h.fields[0].value for h in manager.history(name)]


def export(manager: SecretsManager, path: Path) -> Path:
    manager.export_secrets(path, PASSWORD, force=True)
    return path


def test_merge_newer_incoming_wins_and_keeps_all_history(pair, tmp_path) -> None:
    a, b = pair
    a.store_secret("s", "one")
    a.store_secret("s", "two")
    b.import_secrets(export(a, tmp_path / "1.evb"), PASSWORD)
    old_version = b.get("s").version
    a.store_secret("s", "three")

    result = b.import_secrets(export(a, tmp_path / "2.evb"), PASSWORD)

    assert result.changed == ["s"] and result.conflicts == ["s"]
    current, history = values(b, "s")
    assert current == "three" and sorted(history) == ["one", "two"]
    assert b.get("s").version > old_version
    with pytest.raises(VersionConflict):
        b.store_secret("s", "stale writer", expected_version=old_version)


def test_merge_newer_local_stays_and_incoming_goes_to_history(pair, tmp_path) -> None:
    a, b = pair
    a.store_secret("s", "one")
    b.import_secrets(export(a, tmp_path / "1.evb"), PASSWORD)
    a.store_secret("s", "from-a")
    path = export(a, tmp_path / "2.evb")
    b.store_secret("s", "from-b-later")
    version_before = b.get("s").version

    result = b.import_secrets(path, PASSWORD)

    assert result.conflicts == ["s"] and result.changed == ["s"]
    current, history = values(b, "s")
    assert current == "from-b-later"
    assert sorted(history) == ["from-a", "one"]  # "one" was on both sides: kept once
    assert b.get("s").version == version_before + 1
    versions = [h.version for h in b.history("s")]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)


def test_same_backup_twice_changes_nothing_the_second_time(pair, tmp_path) -> None:
    a, b = pair
    for value in ("x1", "x2", "x3"):
        a.store_secret("k", value, tags=["t"])
    path = export(a, tmp_path / "k.evb")
    b.import_secrets(path, PASSWORD)
    before = digest(b.vault)

    again = b.import_secrets(path, PASSWORD)
    assert again.unchanged == ["k"] and not (again.changed or again.added)
    assert digest(b.vault) == before


def test_skip_leaves_existing_secrets_and_adds_new_ones(pair, tmp_path) -> None:
    a, b = pair
    a.store_secret("shared", "from-a")
    a.store_secret("only-a", "new")
    b.store_secret("shared", "from-b")
    b.store_secret("only-b", "mine")

    result = b.import_secrets(export(a, tmp_path / "s.evb"), PASSWORD, mode="skip")

    assert result.added == ["only-a"] and result.skipped == ["shared"]
    assert result.conflicts == ["shared"] and not result.changed
    assert values(b, "shared") == ("from-b", [])
    assert values(b, "only-a") == ("new", [])
    assert values(b, "only-b") == ("mine", [])


def test_replace_all_replaces_wholesale_and_keeps_the_old_in_the_trash(pair, tmp_path) -> None:
    a, b = pair
    a.store_secret("shared", "a1")
    a.store_secret("shared", "a2", tags=["from-a"])
    b.store_secret("shared", "b1")
    b.store_secret("shared", "b2")
    b.store_secret("shared", "b3")
    b.store_secret("only-b", "mine")

    result = b.import_secrets(export(a, tmp_path / "r.evb"), PASSWORD, mode="replace-all")

    assert result.changed == ["shared"]
    assert values(b, "shared") == ("a2", ["a1"])
    assert b.get("shared").version == a.get("shared").version == 2
    assert b.get("shared").summary.tags == ("from-a",)
    assert [s.name for s in b.trash()] == ["shared"]
    assert values(b, "only-b") == ("mine", [])


def test_names_match_case_insensitively(pair, tmp_path) -> None:
    a, b = pair
    a.store_secret("Stripe", "newer")
    b.store_secret("stripe", "older")
    # b's secret was written after a's, so b's stays current; a's goes to history.
    result = b.import_secrets(export(a, tmp_path / "c.evb"), PASSWORD)
    assert result.conflicts == ["stripe"]
    assert b.list_secrets() == ["stripe"]
    assert values(b, "stripe") == ("older", ["newer"])


@pytest.mark.parametrize("mode", ["merge", "skip", "replace-all"])
def test_preview_predicts_the_import_and_writes_nothing(pair, tmp_path, mode) -> None:
    a, b = pair
    a.store_secret("same", "v")
    b.import_secrets(export(a, tmp_path / "0.evb"), PASSWORD)
    a.store_secret("changed", "a")
    b.store_secret("changed", "b")
    a.store_secret("new", "n")
    path = export(a, tmp_path / "p.evb")
    before = digest(b.vault)

    preview = b.preview_import(path, PASSWORD, mode)
    assert digest(b.vault) == before
    assert preview.added == ["new"] and preview.unchanged == ["same"]
    assert preview.conflicts == ["changed"]

    result = b.import_secrets(path, PASSWORD, mode=mode)
    for key in ("added", "changed", "conflicts", "unchanged", "skipped"):
        assert getattr(result, key) == getattr(preview, key), key


def test_unknown_mode_is_a_usage_error(pair, tmp_path) -> None:
    a, b = pair
    a.store_secret("x", "y")
    with pytest.raises(UsageError, match="conflict mode"):
        b.import_secrets(export(a, tmp_path / "m.evb"), PASSWORD, mode="overwrite")
