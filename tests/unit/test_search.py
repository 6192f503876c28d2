"""Search syntax over a real vault: fields, prefixes, exclusion, phrases, states and garbage."""

from __future__ import annotations

import secrets
import time

import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import UsageError
from echo_vault_app.secrets import SecretsManager
from echo_vault_app.secrets.search import compile_query

MASTER_KEY = Fernet.generate_key().decode()
PLANTED = "zq" + secrets.token_hex(12)  # a secret value no name, tag or note contains


@pytest.fixture(scope="module")
def manager(tmp_path_factory):
    folder = tmp_path_factory.mktemp("search") / "vault"
    manager = SecretsManager(
        vault=Vault.create(folder, master_key=MASTER_KEY, use_keyring=False).vault
    )
    now = time.time()
    manager.store_secret(
        "stripe/api_key", PLANTED, tags=["payments", "prod"], notes="live account for shop"
    )
    manager.store_secret("stripe/webhook", "whsec", tags=["payments"], notes="webhook signing")
    manager.store_secret(
        "aws/prod", fields={"api_key": "AKIAxyz", "service": "amazon"}, template="api_key"
    )
    manager.store_secret(
        "db/main",
        fields={"url": "postgresql://app:pw-" + PLANTED + "@db.example.com/main"},
        template="database_url",
        tags=["database"],
    )
    manager.store_secret("old/token", "t", expires=now - 3600, notes="rotate me")
    manager.store_secret("soon/token", "t", expires=now + 3600)
    manager.store_secret("github/deploy", "ghp", tags=["ci"], notes="deploy key for prod servers")
    manager.store_secret("trashed/thing", "x", tags=["payments"])
    manager.delete_secret("trashed/thing")
    yield manager
    manager.lock()


def names(manager: SecretsManager, query: str) -> list[str]:
    return [s.name for s in manager.search(query)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            [
                "aws/prod",
                "db/main",
                "github/deploy",
                "old/token",
                "soon/token",
                "stripe/api_key",
                "stripe/webhook",
            ],
        ),
        ("stripe", ["stripe/api_key", "stripe/webhook"]),
        ("stri", ["stripe/api_key", "stripe/webhook"]),  # prefix
        ("STRIPE", ["stripe/api_key", "stripe/webhook"]),
        ("name:webhook", ["stripe/webhook"]),
        ("title:webh", ["stripe/webhook"]),
        ("tag:payments", ["stripe/api_key", "stripe/webhook"]),
        ("tag:prod", ["stripe/api_key"]),
        ("notes:deploy", ["github/deploy"]),
        ("prod", ["aws/prod", "github/deploy", "stripe/api_key"]),  # name, notes and tag
        ("name:prod", ["aws/prod"]),
        ("type:api_key", ["aws/prod"]),
        ("type:database_url", ["db/main"]),
        ("-type:generic", ["aws/prod", "db/main"]),
        ("stripe -webhook", ["stripe/api_key"]),
        ("payments -tag:prod", ["stripe/webhook"]),
        ('"signing"', ["stripe/webhook"]),
        ('"webhook signing"', ["stripe/webhook"]),
        ('"signing webhook"', []),  # a phrase keeps its order
        ('"sign"', []),  # quoted means exact, not prefix
        ("+sign", []),
        ("sign", ["stripe/webhook"]),
        ("amazon", ["aws/prod"]),  # plain (non-secret) field
        ("field:amazon", ["aws/prod"]),
        ("db.example.com", ["db/main"]),  # the URL without its password is searchable
        ("is:expired", ["old/token"]),
        ("is:expiring", ["soon/token"]),
        ("is:expired rotate", ["old/token"]),
        ("is:expired stripe", []),
        ("nothing-like-this", []),
        ("trashed", []),
    ],
)
def test_query_syntax(manager, query, expected) -> None:
    assert names(manager, query) == expected


def test_secret_values_never_match(manager) -> None:
    for query in (PLANTED, PLANTED[:6], f'"{PLANTED}"', f"notes:{PLANTED}", f"field:{PLANTED}",
                  "AKIAxyz", "whsec", "ghp", "pw-" + PLANTED):  # fmt: skip
        assert manager.search(query) == [], query


def test_index_holds_no_secret_value(manager) -> None:
    with manager.vault.read() as conn:
        rows = conn.execute("SELECT * FROM secrets_fts").fetchall()
    text = repr(rows)

    assert PLANTED not in text
    assert "AKIAxyz" not in text
    assert "db.example.com" in text


def test_limit(manager) -> None:
    assert len(manager.search("", limit=2)) == 2


@pytest.mark.parametrize("query", ["", "payments", "prod", "tag:payments", "-prod", "is:expired"])
@pytest.mark.parametrize("after", [None, "aws/prod", "soon/token"])
def test_ids_then_summaries_by_id_give_the_same_rows_as_a_search(manager, query, after) -> None:
    store = manager.store
    expected = store.summaries(query, after=after)
    ids = store.matching_ids(query, after=after)
    assert ids == [s.id for s in expected]
    pieces = [store.summaries_by_id(ids[i : i + 2]) for i in range(0, len(ids), 2)]
    assert [s for piece in pieces for s in piece] == expected


def test_summaries_by_id_keep_the_order_given_and_leave_out_what_is_not_live(manager) -> None:
    store = manager.store
    live = store.summaries("")
    trashed = store.trashed()
    assert trashed and all(s.deleted for s in trashed)
    wanted = [live[2].id, trashed[0].id, live[0].id, 10_000_000, live[1].id]
    assert store.summaries_by_id(wanted) == [live[2], live[0], live[1]]
    assert store.summaries_by_id([]) == []


def test_matching_ids_refuse_an_unknown_state_as_a_usage_error(manager) -> None:
    with pytest.raises(UsageError):
        manager.store.matching_ids("is:bogus")


@pytest.mark.parametrize(
    "query",
    ['"', '""', "*", "AND OR NOT (", "(", ")", "NEAR(a b)", "a OR", "^", "-", "+", ":",
     "name:", "tag:", 'name:"unterminated', "col:x", "a:b:c", "'", "'; DROP TABLE secrets; --",
     "\x00", "\\", "{}", "[]", "a*b", "-*", '-"', "🔑", "      ", "\n\t"],
)  # fmt: skip
def test_garbage_queries_never_crash(manager, query) -> None:
    try:
        result = manager.search(query)
    except UsageError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert isinstance(result, list)
    assert len(manager.list_secrets()) == 7


@pytest.mark.parametrize("query", ["is:bogus", "x" * 1001, " ".join(["w"] * 33)])
def test_refused_queries_are_usage_errors(manager, query) -> None:
    with pytest.raises(UsageError):
        manager.search(query)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet=st.sampled_from(list("ab :-+\"*()^'\\/_.tagname:is:é🔑\x00")), max_size=40))
def test_fuzzed_queries_give_a_list_or_a_usage_error(manager, query) -> None:
    try:
        result = manager.search(query)
    except UsageError:
        return
    assert isinstance(result, list)


def test_compiled_queries_are_parameterised() -> None:
    compiled = compile_query("name:x' OR 1=1 -- tag:y")

    assert "x'" not in compiled.where
    assert any("x" in str(p) for p in compiled.params)
