"""Hostile JSON ends in a ValidationError: never a hang, a RecursionError or a silent merge."""

from __future__ import annotations

import json
import time

import pytest

from echo_vault_app.errors import ValidationError
from echo_vault_app.secrets import safejson


def test_ordinary_documents_parse() -> None:
    text = '{"a": [1, 2.5, "x\\"]}", null, true], "b": {"c": "ü"}}'
    assert safejson.loads(text) == {"a": [1, 2.5, 'x"]}', None, True], "b": {"c": "ü"}}
    assert safejson.loads(text.encode()) == safejson.loads(text)


@pytest.mark.parametrize(
    ("text", "depth"),
    [("1", 0), ("[]", 1), ('{"a": [[]]}', 3), ('["[[[[", "\\\\", "]"]', 1), ('"{\\"["', 0)],
)
def test_depth_ignores_brackets_inside_strings(text: str, depth: int) -> None:
    assert safejson.nesting_depth(text) == depth


def test_depth_limit_is_inclusive() -> None:
    assert safejson.loads("[" * 32 + "]" * 32, max_depth=32)
    with pytest.raises(ValidationError, match="deeper than 32"):
        safejson.loads("[" * 33 + "]" * 33, max_depth=32)


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000, "[" * 1_000_000],
)
def test_very_deep_nesting_is_refused_without_recursion_error(text: str) -> None:
    with pytest.raises(ValidationError, match="deeper"):
        safejson.loads(text)


def test_unterminated_escapes_scan_in_linear_time() -> None:
    # Each quote starts a string that never ends: a naive regex would rescan the tail per quote.
    text = '"' + '\\"' * 2_000_000
    started = time.monotonic()
    with pytest.raises(ValidationError):
        safejson.loads(text)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"k": 1, "k": 2}', "duplicate key"),
        ('[{"k": 1, "x": {"k": 1, "k": 1}}]', "duplicate key"),
        ("[NaN]", "NaN"),
        ("[-Infinity]", "Infinity"),
        ("[1,]", "malformed JSON at line 1"),
        ("", "malformed"),
        ("[" + "9" * 10_000 + "]", "refused"),
    ],
)
def test_refusals_name_the_reason_without_quoting_input(text: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason) as info:
        safejson.loads(text)
    assert "9999" not in str(info.value)


def test_size_limit_and_encoding() -> None:
    with pytest.raises(ValidationError, match="larger than 10 bytes"):
        safejson.loads(b"[" + b"1," * 10 + b"1]", max_bytes=10)
    with pytest.raises(ValidationError, match="UTF-8"):
        safejson.loads(b'["\xff"]')


def test_stepwise_depth_agrees_with_the_one_pass_measure() -> None:
    """Large texts are measured token by token; both ways must give the same depth."""
    import random

    rng = random.Random(7)
    texts = ['{"a": [1, {"b": "[[["}]}', '[["\\"]]"]]', '"open [[[', "]]][", ""]
    texts += [
        "".join(rng.choice('[]{}"\\ab,:') for _ in range(rng.randint(0, 40))) for _ in range(5000)
    ]
    for text in texts:
        assert safejson._nesting_depth_stepwise(text) == safejson.nesting_depth(text), text


def test_a_large_document_is_still_measured() -> None:
    deep = "[" * 40 + "]" * 40
    text = '{"pad": "' + "x" * (safejson._ONE_PASS_LIMIT + 10) + '", "deep": ' + deep + "}"
    assert safejson.nesting_depth(text) == 41
    with pytest.raises(ValidationError):
        safejson.loads(text, max_bytes=len(text) + 1, max_depth=32)


def test_raw_decode_parses_one_value_and_says_where_it_ends() -> None:
    text = '  {"a": [1, 2]}, {"b": 3}'
    value, end = safejson.raw_decode(text, 2)
    assert value == {"a": [1, 2]} and text[end:] == ', {"b": 3}'


def test_raw_decode_leaves_unfinished_text_to_the_caller() -> None:
    with pytest.raises(json.JSONDecodeError):
        safejson.raw_decode('{"a": [1, 2', 0)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": 1, "a": 2}', "duplicate key"),
        ('{"a": NaN}', "NaN"),
        ("[" * 5 + "]" * 5, "nested deeper than 4"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 4"),
        ("9" * 5000, "refused"),
    ],
)
def test_raw_decode_refusals(text: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        safejson.raw_decode(text, 0, max_depth=4)
