"""Checks of JSON request bodies and the shapes of JSON answers.

The OpenAPI document (:mod:`echo_vault_app.api.openapi`) describes the same shapes; a body
that does not fit is answered 422 with a message naming the member, never its value.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from echo_vault_app.errors import ValidationError

# Answers use the same summary shape as the CLI's --json output.
from echo_vault_app.secrets.model import Value, iso_time
from echo_vault_app.secrets.model import summary_json as summary_json

iso = iso_time


def value_json(value: Value) -> str | dict[str, str]:
    """Text as a string, bytes as ``{"base64": ...}`` (the CLI's ``get --json`` shape)."""
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    return value


def check_object(body: Any, allowed: set[str], required: set[str] = frozenset()) -> dict:
    """The body as a dict, with no unknown members and every required one present."""
    if not isinstance(body, dict):
        raise ValidationError("the request body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationError(f"unknown member {unknown[0][:64]!r} in the request body")
    missing = sorted(required - set(body))
    if missing:
        raise ValidationError(f"the request body needs {missing[0]!r}")
    return body


def text(body: dict, key: str, *, max_len: int = 4096, default: str | None = None) -> str | None:
    value = body.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise ValidationError(f"{key!r} must be a string of at most {max_len} characters")
    return value


def required_text(body: dict, key: str, *, max_len: int = 4096) -> str:
    value = text(body, key, max_len=max_len)
    if value is None:
        raise ValidationError(f"{key!r} must be a string")
    return value


def text_list(body: dict, key: str, *, max_items: int = 256) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) > max_items
        or not all(isinstance(item, str) and len(item) <= 512 for item in value)
    ):
        raise ValidationError(f"{key!r} must be a list of at most {max_items} strings")
    return value


def number(body: dict, key: str, *, minimum: float | None = None) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{key!r} must be a number")
    if minimum is not None and value < minimum:
        raise ValidationError(f"{key!r} must be at least {minimum:g}")
    if abs(value) > 1e12:
        raise ValidationError(f"{key!r} is out of range")
    return float(value)


def integer(body: dict, key: str, *, minimum: int = 0) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value < 2**53:
        raise ValidationError(f"{key!r} must be an integer of at least {minimum}")
    return value


def secret_value(value: Any, where: str) -> Value:
    """A field value: a string, or ``{"base64": "..."}`` for bytes."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"base64"} and isinstance(value["base64"], str):
        try:
            return base64.b64decode(value["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(f"{where} is not valid base64") from None
    raise ValidationError(f'{where} must be a string or {{"base64": "..."}}')


def field_values(value: Any) -> dict[str, Value]:
    if not isinstance(value, dict) or not value or len(value) > 256:
        raise ValidationError("'fields' must be an object of 1 to 256 named values")
    return {name: secret_value(item, f"field {name[:64]!r}") for name, item in value.items()}
