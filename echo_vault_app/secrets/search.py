"""Search queries in the field syntax KeePassXC users know, compiled to FTS5 and SQL.

Terms match by prefix (``stri`` finds ``stripe/api_key``); ``"quoted phrases"`` and ``+term``
match exactly; ``-term`` excludes; ``name:`` (``title:``), ``tag:``, ``notes:``, ``type:``,
``field:`` (``user:``, ``url:``) pick a column; ``is:expired``, ``is:expiring``, ``is:favourite``
filter by state. Only names, tags, notes, template ids and non-secret fields are indexed, so no
query can ever match on a secret value.
"""

import re
import time
from typing import NamedTuple

from echo_vault_app.errors import UsageError

EXPIRING_WINDOW_SECONDS = 3 * 24 * 3600
MAX_QUERY_LENGTH = 1000
MAX_TERMS = 32

_COLUMNS = {
    "name": "name",
    "title": "name",
    "group": "name",
    "path": "name",
    "tag": "tags",
    "tags": "tags",
    "notes": "notes",
    "note": "notes",
    "field": "fields",
    "user": "fields",
    "username": "fields",
    "url": "fields",
}
_STATES = {"expired", "expiring", "favourite", "favorite"}
_TOKEN = re.compile(r'([+-]?)(?:(\w+):)?("([^"]*)"?|\S+)')


class CompiledQuery(NamedTuple):
    """A WHERE fragment over ``secrets s`` and its parameters."""

    where: str
    params: list[object]


def words(text: str) -> list[str]:
    """Split text the way FTS5's unicode61 tokenizer does: runs of letters and digits.

    >>> words("stripe/api_key v2")
    ['stripe', 'api', 'key', 'v2']
    """
    return [w for w in re.split(r"[\W_]+", text) if w]


def _fts_term(column: str | None, text: str, prefix: bool) -> str | None:
    tokens = words(text)
    if not tokens:
        return None
    phrase = '"' + " ".join(tokens) + '"' + ("*" if prefix else "")
    return f"{column} : {phrase}" if column else phrase


def compile_query(query: str, *, now: float | None = None) -> CompiledQuery:
    """Turn a user query into SQL. An empty query matches every live secret."""
    if len(query) > MAX_QUERY_LENGTH:
        raise UsageError(f"search query is longer than {MAX_QUERY_LENGTH} characters")
    now = time.time() if now is None else now
    include: list[str] = []
    exclude: list[str] = []
    clauses: list[str] = []
    params: list[object] = []

    matches = list(_TOKEN.finditer(query))
    if len(matches) > MAX_TERMS:
        raise UsageError(f"search query has more than {MAX_TERMS} terms")
    for match in matches:
        sign, key, raw, quoted = match.group(1), match.group(2), match.group(3), match.group(4)
        key = key.lower() if key else None
        text = quoted if quoted is not None else raw
        negate = sign == "-"
        exact = sign == "+" or quoted is not None

        if key == "is":
            state = text.lower()
            if state not in _STATES:
                raise UsageError(f"unknown search state is:{state[:20]}")
            clause = _state_clause(state, now, params)
            clauses.append(f"NOT ({clause})" if negate else clause)
            continue
        if key == "type":
            clauses.append("s.template <> ?" if negate else "s.template = ?")
            params.append(text)
            continue
        if key is not None and key not in _COLUMNS:
            # Not a field we know: read the whole thing as words, as KeePassXC does.
            text, key = f"{key}:{text}", None
        column = _COLUMNS.get(key) if key else None
        term = _fts_term(column, text, prefix=not exact)
        if term is not None:
            (exclude if negate else include).append(term)

    if include:
        clauses.append("s.id IN (SELECT rowid FROM secrets_fts WHERE secrets_fts MATCH ?)")
        params.append(" AND ".join(include))
    if exclude:
        clauses.append("s.id NOT IN (SELECT rowid FROM secrets_fts WHERE secrets_fts MATCH ?)")
        params.append(" OR ".join(exclude))
    return CompiledQuery(" AND ".join(clauses) if clauses else "1", params)


def _state_clause(state: str, now: float, params: list[object]) -> str:
    if state == "expired":
        params.append(now)
        return "(s.expires IS NOT NULL AND s.expires <= ?)"
    if state == "expiring":
        params.extend([now, now + EXPIRING_WINDOW_SECONDS])
        return "(s.expires IS NOT NULL AND s.expires > ? AND s.expires <= ?)"
    return "s.favourite = 1"
