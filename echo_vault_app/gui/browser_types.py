"""Typed results the service hands to the secrets browser: plain data, no Qt, no values
unless asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: importing the secrets package waits for the first unlock
    from echo_vault_app.secrets.model import SecretSummary


@dataclass(frozen=True)
class FieldView:
    """One field as the details panel shows it; ``value`` is set only for non-secret fields."""

    name: str
    label: str
    secret: bool
    kind: str = "text"
    value: str | None = None


@dataclass(frozen=True)
class SecretDetails:
    summary: SecretSummary
    template_name: str
    notes: str
    fields: tuple[FieldView, ...]
    username_field: str | None
    primary_field: str | None


@dataclass(frozen=True)
class Groups:
    """Sidebar entries: top-level path prefixes and tags, each with its count."""

    total: int
    favourites: int
    expiring: int
    prefixes: list[tuple[str, int]] = field(default_factory=list)
    tags: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Filter:
    """What the browser shows: a search query narrowed to one group."""

    query: str = ""
    tag: str | None = None
    prefix: str | None = None
    special: str | None = None  # "favourites" or "expiring"
