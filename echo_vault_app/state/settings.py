"""The typed settings Echo Vault knows: their types, defaults, bounds and help text.

A spec turns what a user typed (``"15"``, ``"off"``) or what code passed into a checked value,
or refuses it with a one-line reason. Adding a setting means adding one ``SettingSpec``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from echo_vault_app.errors import ValidationError

ENV_TOKEN_EXPIRY_HOURS = "ECHO_VAULT_TOKEN_EXPIRY_HOURS"
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def default_token_expiry() -> float:
    """``ECHO_VAULT_TOKEN_EXPIRY_HOURS`` when it is a valid lifetime, else 24.

    An unusable value is not fatal here (the settings pane must still open); ``AuthManager``
    refuses it with its own message when it issues tokens.
    """
    try:
        hours = float(os.environ.get(ENV_TOKEN_EXPIRY_HOURS, "").strip() or "24")
    except ValueError:
        return 24.0
    return hours if math.isfinite(hours) and 0 < hours <= 8760 else 24.0


@dataclass(frozen=True)
class SettingSpec:
    """One setting. ``type`` is ``int``, ``float``, ``bool`` or ``choice``."""

    name: str
    type: str
    default: Any | Callable[[], Any]
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    exclusive_minimum: bool = False

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default

    def bounds_text(self) -> str:
        if self.type == "choice":
            return "one of " + ", ".join(self.choices)
        if self.type == "bool":
            return "true or false"
        low = "more than" if self.exclusive_minimum else "from"
        kind = "a whole number" if self.type == "int" else "a number"
        return f"{kind} {low} {self.minimum:g} to {self.maximum:g}"

    def coerce(self, value: Any) -> Any:
        """The checked value for ``value`` (text is parsed as a user would type it).

        Raises:
            ValidationError: one line naming the setting and what it accepts.
        """
        bad = ValidationError(f"{self.name} must be {self.bounds_text()}")
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            raise bad
        if self.type == "choice":
            if isinstance(value, str) and value.strip().lower() in self.choices:
                return value.strip().lower()
            raise bad
        if isinstance(value, bool):
            raise bad
        number = self._number(value, bad)
        too_low = number <= self.minimum if self.exclusive_minimum else number < self.minimum
        if too_low or number > self.maximum:
            raise bad
        return number

    def _number(self, value: Any, bad: ValidationError) -> int | float:
        if isinstance(value, str):
            try:
                value = int(value.strip()) if self.type == "int" else float(value.strip())
            except ValueError:
                raise bad from None
        if self.type == "int":
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int):
                raise bad
            return value
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise bad
        return float(value)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default_value(),
            "minimum": self.minimum,
            "maximum": self.maximum,
            "choices": list(self.choices),
            "bounds": self.bounds_text(),
            "help": self.help,
        }


SETTINGS: dict[str, SettingSpec] = {
    spec.name: spec
    for spec in (
        SettingSpec(
            "auto_lock_minutes",
            "int",
            5,
            "Lock the vault after this many idle minutes; 0 turns auto-lock off.",
            0,
            1440,
        ),
        SettingSpec(
            "clipboard_clear_seconds",
            "int",
            10,
            "Clear a copied secret from the clipboard after this many seconds; 0 never clears.",
            0,
            600,
        ),
        SettingSpec(
            "token_expiry_hours",
            "float",
            default_token_expiry,
            "Lifetime of issued JWTs in hours (default: ECHO_VAULT_TOKEN_EXPIRY_HOURS or 24).",
            0,
            8760,
            exclusive_minimum=True,
        ),
        SettingSpec(
            "history_depth",
            "int",
            10,
            "How many earlier versions of each secret are kept; 0 keeps none.",
            0,
            1000,
        ),
        SettingSpec(
            "keyring_enabled",
            "bool",
            True,
            "Keep the vault key in the system keyring so the desktop session unlocks by itself.",
        ),
        SettingSpec(
            "theme",
            "choice",
            "system",
            "Colour scheme of the desktop app.",
            choices=("system", "light", "dark"),
        ),
    )
}


def spec_for(name: object) -> SettingSpec:
    spec = SETTINGS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValidationError(f"unknown setting {name!r} (known: {', '.join(SETTINGS)})")
    return spec
