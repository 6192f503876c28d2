"""Stable output shapes for ``--json`` and readable tables for people.

The JSON documents are part of the CLI's contract (documented in README): keys are only ever
added, never renamed or removed, and times are ISO 8601 in UTC.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from echo_vault_app.secrets.model import SecretSummary, iso_time
from echo_vault_app.secrets.model import summary_json as library_summary_json

iso = iso_time


def summary_json(summary: SecretSummary) -> dict[str, Any]:
    """The library's summary shape plus ``deleted``, which the CLI's trash listing needs."""
    return {**library_summary_json(summary), "deleted": iso_time(summary.deleted)}


def emit_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False, sort_keys=True)
    sys.stdout.write("\n")


def table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers).rstrip())
    for row in rows:
        print(line.format(*row).rstrip())


def summaries_table(items: list[SecretSummary]) -> None:
    rows = [
        [
            s.name,
            s.template,
            ",".join(s.tags),
            str(s.version),
            iso(s.updated) or "",
            iso(s.expires) or "",
        ]
        for s in items
    ]
    table(rows, ["NAME", "TEMPLATE", "TAGS", "VER", "UPDATED", "EXPIRES"])
