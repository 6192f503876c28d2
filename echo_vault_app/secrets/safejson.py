"""JSON parsing with limits, for files that come from outside the process.

Backups and exports from other tools are attacker-shaped input: a crafted file must end in a
clear :class:`~echo_vault_app.errors.ValidationError`, never a hang, a ``RecursionError`` or a
memory blow-up. Python's ``json`` module recurses once per nesting level, so the depth is
measured before parsing by a linear scan that never recurses.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from echo_vault_app.errors import ValidationError

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_DEPTH = 32

# A JSON string, or an unterminated one running to the end of the text. Possessive quantifiers
# keep every match attempt linear, and because an unterminated string swallows the rest of the
# text, no quote is ever scanned twice.
_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_TOKEN = re.compile(_STRING.pattern + r"|[\[\]{}]", re.DOTALL)
_ONE_PASS_LIMIT = 1024 * 1024
"""Texts longer than this are measured token by token (see ``_nesting_depth_stepwise``)."""


def nesting_depth(text: str) -> int:
    """Return the deepest bracket nesting of ``text`` outside string literals.

    >>> nesting_depth('{"a": [1, {"b": "[[["}]}')
    3
    """
    if len(text) > _ONE_PASS_LIMIT:
        return _nesting_depth_stepwise(text)
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def _nesting_depth_stepwise(text: str) -> int:
    """The same measure, one token at a time.

    A regular-expression pass over a whole backup (tens of MB) is one call that holds the
    interpreter lock for most of a second, and every other thread, the desktop app's GUI thread
    among them, waits that long. Stepping through the tokens costs more in total but lets
    other threads in between steps.
    """
    depth, deepest = 0, None
    for match in _TOKEN.finditer(text):
        step = _DEPTH_STEP.get(match.group())
        if step is None:
            continue  # a string literal
        depth += step
        deepest = depth if deepest is None else max(deepest, depth)
    return 0 if deepest is None else deepest


def _refuse_constant(name: str) -> Any:
    raise ValidationError(f"JSON contains {name}, which is not allowed")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValidationError("JSON object has a duplicate key")
    return result


def loads(
    data: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Any:
    """Parse JSON text that may be hostile.

    Args:
        data: UTF-8 bytes or text.
        max_bytes: largest input accepted, in bytes (text is measured by its length).
        max_depth: deepest nesting of arrays and objects accepted.

    Raises:
        ValidationError: the input is too big, too deep, not UTF-8, not JSON, has a duplicate
            key or a NaN/Infinity constant. The message never quotes the input.
    """
    if len(data) > max_bytes:
        raise ValidationError(f"JSON document is larger than {max_bytes} bytes")

    if isinstance(data, bytes | bytearray | memoryview):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("JSON document is not valid UTF-8") from None
    else:
        text = data

    if nesting_depth(text) > max_depth:
        raise ValidationError(f"JSON document is nested deeper than {max_depth} levels")

    try:
        return json.loads(text, object_pairs_hook=_unique_object, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:
        # ValueError: integers longer than Python's digit limit. RecursionError cannot happen
        # after the depth check; it is caught so a gap in that check still ends cleanly.
        raise ValidationError(f"JSON document refused: {type(exc).__name__}") from None


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_object, parse_constant=_refuse_constant)


def raw_decode(text: str, pos: int, *, max_depth: int = DEFAULT_MAX_DEPTH) -> tuple[Any, int]:
    """Parse the one JSON value that starts at ``pos``; return it and the index after it.

    For a document read piece by piece (an encrypted backup): the caller knows the text may end
    before the value does, so a malformed or unfinished value raises ``json.JSONDecodeError``
    for the caller to retry with more text or report. The value's depth is measured once it is
    parsed; one too deep to parse at all ends in the same error as one measured too deep.

    Raises:
        json.JSONDecodeError: malformed, or the text ends inside the value.
        ValidationError: a duplicate key, a NaN/Infinity constant, an over-long integer, or
            nesting deeper than ``max_depth``.
    """
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except RecursionError:
        raise ValidationError(f"JSON document is nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        raise ValidationError(f"JSON document refused: {type(exc).__name__}") from None
    if nesting_depth(text[pos:end]) > max_depth:
        raise ValidationError(f"JSON document is nested deeper than {max_depth} levels")
    return value, end
