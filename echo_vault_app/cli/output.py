"""Stable output shapes for ``--json`` and readable tables for people.

The JSON documents are part of the CLI's contract (documented in README): keys are only ever
added, never renamed or removed, and times are ISO 8601 in UTC.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from echo_vault_app.secrets.model import SecretSummary


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def summary_json(summary: SecretSummary) -> dict[str, Any]:
    return {
        "name": summary.name,
        "template": summary.template,
        "tags": list(summary.tags),
        "version": summary.version,
        "created": iso(summary.created),
        "updated": iso(summary.updated),
        "expires": iso(summary.expires),
        "favourite": summary.favourite,
        "deleted": iso(summary.deleted),
    }


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
