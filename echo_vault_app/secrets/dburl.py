"""Database connection URLs: parse them, check them, and keep their password apart.

A connection URL mixes searchable facts (driver, user, host, database) with one secret (the
password). The database-URL template stores the URL without its password as plain metadata and
the password as a sealed field; :func:`join_database_url` puts them back together when a program
needs the whole URL.

Parsing is lenient about one common mistake: a password pasted with unencoded ``@``, ``/``,
``?`` or ``#`` still parses (the user-info part ends at the first ``@`` that is followed by a
valid host list), and every URL rebuilt here percent-encodes the user and password properly.
Percent-escapes in the password are decoded, so a password whose literal text is ``%40`` must
be written as ``%2540``, as the URL standard requires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlencode

from echo_vault_app.errors import ValidationError

# Base schemes we know; a driver suffix ("postgresql+psycopg") is allowed on all but sqlite's
# own shape checks still apply. mongodb+srv is its own scheme, not a driver suffix.
KNOWN_SCHEMES = frozenset(
    {
        "postgresql",
        "postgres",
        "cockroachdb",
        "mysql",
        "mariadb",
        "sqlite",
        "mongodb",
        "mongodb+srv",
        "redis",
        "rediss",
        "mssql",
        "sqlserver",
        "oracle",
        "clickhouse",
    }
)
_MULTI_HOST = frozenset({"postgresql", "postgres", "cockroachdb", "mongodb"})
_EMPTY_HOST_OK = frozenset({"postgresql", "postgres", "cockroachdb", "mysql", "mariadb"})
_SECRET_PARAM_WORDS = ("password", "passwd", "pwd", "secret", "token", "apikey", "api_key")

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_NAME_HOST_RE = re.compile(r"[A-Za-z0-9._~%\-]+")
_IPV6_HOST_RE = re.compile(r"\[[0-9A-Fa-f:.]+(?:%25[A-Za-z0-9._~\-]+)?\]")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed connection URL. ``repr`` never shows the password; ``str`` is redacted."""

    scheme: str
    user: str | None
    password: str | None = field(repr=False)
    host: str | None
    port: int | None
    database: str | None
    params: dict[str, str]
    hosts: tuple[tuple[str, int | None], ...] = ()
    _prefix: str = field(default="", repr=False, compare=False)
    _suffix: str = field(default="", repr=False, compare=False)

    @property
    def dialect(self) -> str:
        """The scheme without a driver suffix: ``postgresql+psycopg`` gives ``postgresql``."""
        return _dialect(self.scheme)

    def secret_params(self) -> list[str]:
        """Names of query parameters that look like they carry a secret (``password=`` …)."""
        return [name for name in self.params if _is_secret_param(name)]

    def to_url(self) -> str:
        """The whole URL, password included, with user and password properly encoded."""
        return self._render(self.password)

    def without_password(self) -> str:
        """The URL with the password left out, safe to keep as searchable metadata."""
        return self._render(None)

    def redacted(self) -> str:
        """The URL for display: password and secret-looking parameters shown as ``***``."""
        url = self._render("***" if self.password is not None else None, encode=False)
        if not self.secret_params():
            return url

        head, _, query = url.partition("?")
        pairs = parse_qsl(query, keep_blank_values=True)
        masked = [(k, "***" if _is_secret_param(k) else v) for k, v in pairs]
        return head + "?" + urlencode(masked, safe="*")

    def with_password(self, password: str | None) -> DatabaseUrl:
        """A copy of this URL carrying ``password`` (or none)."""
        return _replace_password(self, password)

    def __str__(self) -> str:
        return self.redacted()

    def _render(self, password: str | None, *, encode: bool = True) -> str:
        if self.dialect == "sqlite":
            return self._prefix + self._suffix

        userinfo = quote(self.user, safe="") if self.user else ""
        if password is not None:
            userinfo += ":" + (quote(password, safe="") if encode else password)
        if not userinfo:
            return self._prefix + self._suffix
        return f"{self._prefix}{userinfo}@{self._suffix}"


def parse_database_url(url: str) -> DatabaseUrl:
    """Parse and check a connection URL.

    Raises:
        ValidationError: the URL is malformed or of an unknown kind. The message says what is
            wrong and never repeats any part of the URL, which may hold a password.
    """
    if not isinstance(url, str):
        raise ValidationError("database URL must be text")
    url = url.strip()
    if _CONTROL_RE.search(url):
        raise ValidationError("database URL must be one line without control characters")

    match = _SCHEME_RE.match(url)
    if not match:
        raise ValidationError("database URL must start with a scheme such as postgresql://")
    scheme = match.group(1).lower()
    if _dialect(scheme) not in KNOWN_SCHEMES:
        known = ", ".join(sorted(KNOWN_SCHEMES))
        raise ValidationError(f"database URL has an unsupported scheme (known: {known})")

    prefix, rest = url[: match.end()], url[match.end() :]
    if _dialect(scheme) == "sqlite":
        return _parse_sqlite(scheme, prefix, rest)
    return _parse_network(scheme, prefix, rest)


def join_database_url(url: str, password: str | None) -> str:
    """Put a stored password back into a URL kept without one.

    Raises:
        ValidationError: ``url`` does not parse, or already carries a different password.
    """
    parsed = parse_database_url(url)
    if parsed.password is not None and password is not None and parsed.password != password:
        raise ValidationError("database URL already carries a different password")
    if password is None:
        return parsed.to_url()
    return parsed.with_password(password).to_url()


def _dialect(scheme: str) -> str:
    if scheme == "mongodb+srv":
        return scheme
    return scheme.split("+", 1)[0]


def _is_secret_param(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_PARAM_WORDS)


def _parse_sqlite(scheme: str, prefix: str, rest: str) -> DatabaseUrl:
    if rest and not rest.startswith("/"):
        raise ValidationError(
            "sqlite URL must look like sqlite:///relative.db or sqlite:////absolute/path.db"
        )

    path, _, query = rest[1:].partition("?")
    return DatabaseUrl(
        scheme=scheme,
        user=None,
        password=None,
        host=None,
        port=None,
        database=unquote(path) or None,
        params=dict(parse_qsl(query, keep_blank_values=True)),
        hosts=(),
        _prefix=prefix,
        _suffix=rest,
    )


def _parse_network(scheme: str, prefix: str, rest: str) -> DatabaseUrl:
    dialect = _dialect(scheme)
    userinfo, suffix, hosts = _split_userinfo(rest, dialect)

    user = password = None
    if userinfo is not None:
        raw_user, has_colon, raw_password = userinfo.partition(":")
        user = _decode(raw_user, "user name") or None
        password = _decode(raw_password, "password") if has_colon else None
        password = password or None

    path_and_query = suffix[len(_host_segment(suffix)) :]
    path, _, query = path_and_query.partition("?")
    database = (_decode(path[1:], "database name") or None) if path else None
    if any(ch.isspace() for ch in path_and_query):
        raise ValidationError("database URL has white space in its path or parameters")
    if dialect in ("redis", "rediss") and database is not None and not database.isdigit():
        raise ValidationError("redis URL database must be a number, such as /0")

    first_host, first_port = hosts[0] if hosts else (None, None)
    return DatabaseUrl(
        scheme=scheme,
        user=user,
        password=password,
        host=first_host,
        port=first_port,
        database=database,
        params=dict(parse_qsl(query, keep_blank_values=True)),
        hosts=tuple(hosts),
        _prefix=prefix,
        _suffix=suffix,
    )


def _split_userinfo(rest: str, dialect: str) -> tuple[str | None, str, list]:
    """Find where the user-info part ends: at the first ``@`` followed by a valid host list.

    Known ambiguity: in a URL without user-info, an unencoded ``@`` in the database name or a
    parameter value is taken as the end of user-info when a valid host follows it. Passwords
    with unencoded ``/`` (common in generated ones) are the case worth getting right.
    """
    if "@" not in rest:
        return None, rest, _parse_hosts(_host_segment(rest), dialect)

    start = 0
    while (at := rest.find("@", start)) != -1:
        segment = _host_segment(rest[at + 1 :])
        if "@" not in segment:
            try:
                hosts = _parse_hosts(segment, dialect)
            except ValidationError:
                hosts = None
            if hosts is not None:
                return rest[:at], rest[at + 1 :], hosts
        start = at + 1

    # No '@' is followed by a host list: either the '@' belongs to the path or parameters, or
    # the URL has no host at all. Parse it as having no user-info part.
    try:
        return None, rest, _parse_hosts(_host_segment(rest), dialect)
    except ValidationError:
        raise ValidationError(
            "database URL has no valid host; percent-encode special characters "
            "(@ : / ? #) in the user name and password"
        ) from None


def _host_segment(text: str) -> str:
    end = len(text)
    for stop in "/?":
        index = text.find(stop)
        if index != -1:
            end = min(end, index)
    return text[:end]


def _parse_hosts(segment: str, dialect: str) -> list[tuple[str, int | None]]:
    if not segment:
        if dialect in _EMPTY_HOST_OK:
            return []
        raise ValidationError("database URL has no host")

    parts = segment.split(",")
    if len(parts) > 1 and dialect not in _MULTI_HOST:
        raise ValidationError("database URL lists several hosts, which this database cannot use")

    hosts = [_parse_host(part) for part in parts]
    if dialect == "mongodb+srv" and hosts[0][1] is not None:
        raise ValidationError("mongodb+srv URL must not give a port")
    return hosts


def _parse_host(part: str) -> tuple[str, int | None]:
    if part.startswith("["):
        close = part.find("]")
        name, port_text = part[: close + 1], part[close + 1 :]
        if close == -1 or not _IPV6_HOST_RE.fullmatch(name):
            raise ValidationError("database URL has a malformed IPv6 host")
    else:
        colon = part.find(":")
        name, port_text = (part, "") if colon == -1 else (part[:colon], part[colon:])
        if not _NAME_HOST_RE.fullmatch(name):
            raise ValidationError("database URL has a malformed host name")

    if not port_text:
        return unquote(name), None
    digits = port_text[1:]
    if not port_text.startswith(":") or not digits.isascii() or not digits.isdigit():
        raise ValidationError("database URL has a malformed port")
    if not 0 < int(digits) < 65536:
        raise ValidationError("database URL port must be between 1 and 65535")
    return unquote(name), int(digits)


def _decode(text: str, what: str) -> str:
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise ValidationError(
            f"database URL {what} has percent-escapes that are not UTF-8"
        ) from None


def _replace_password(parsed: DatabaseUrl, password: str | None) -> DatabaseUrl:
    if parsed.dialect == "sqlite" and password is not None:
        raise ValidationError("sqlite URLs cannot carry a password")
    return DatabaseUrl(
        scheme=parsed.scheme,
        user=parsed.user,
        password=password or None,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        params=dict(parsed.params),
        hosts=parsed.hosts,
        _prefix=parsed._prefix,
        _suffix=parsed._suffix,
    )
