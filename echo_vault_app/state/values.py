"""Checks shared by the state services: identifiers, keys and JSON documents.

Every refusal is a one-line ``ValidationError`` that names the limit and never the value.
"""

from __future__ import annotations

import json
import math
from typing import Any

from echo_vault_app.errors import ValidationError

MAX_ID_LENGTH = 200
MAX_KEY_LENGTH = 256


def check_id(value: object, what: str) -> str:
    """An identifier: 1-200 characters, no control characters, not blank.

    >>> check_id("agent-7", "agent id")
    'agent-7'
    """
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise ValidationError(f"{what} must be 1-{MAX_ID_LENGTH} characters, not blank")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError(f"{what} must not contain control characters")
    return value


def check_key(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_KEY_LENGTH:
        raise ValidationError(f"a state key must be 1-{MAX_KEY_LENGTH} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError("a state key must not contain control characters")
    return value


def dump_json(value: Any, what: str, max_bytes: int) -> str:
    """Serialise ``value`` as strict JSON (no NaN or infinity) within ``max_bytes``.

    >>> dump_json({"b": 1, "a": [True, None]}, "value", 100)
    '{"a":[true,null],"b":1}'
    """
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        kind = "a number that is not finite" if isinstance(exc, ValueError) else "a non-JSON type"
        raise ValidationError(f"{what} must be plain JSON; it holds {kind}") from None
    except RecursionError:
        raise ValidationError(f"{what} is nested too deeply") from None
    if len(text.encode("utf-8")) > max_bytes:
        raise ValidationError(f"{what} is larger than {max_bytes} bytes as JSON")
    return text


def finite(number: float) -> bool:
    return not (math.isnan(number) or math.isinf(number))
