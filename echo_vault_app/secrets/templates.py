"""Credential templates: which fields a kind of credential has and what good values look like.

Templates are data (JSON under ``resources/templates``), so a new provider needs no code and a
user can add one by dropping a file into the vault folder's ``templates/``. A user template
shares the id space with the built-in ones and may not reuse a built-in id: stored secrets
record their template id, and letting a file shadow ``aws`` would silently change how existing
secrets are checked. A malformed user file is reported in ``TemplateRegistry.problems`` and
skipped; loading never raises because of one.

Template file format (keys starting with ``_`` are ignored, so ``"_comment"`` works)::

    {"format": 1, "id": "acme", "name": "Acme API", "description": "...",
     "primary_field": "token", "username_field": null, "allow_extra_fields": false,
     "fields": [{"name": "token", "label": "Token", "secret": true, "required": true,
                 "kind": "password", "pattern": "acme_[0-9a-f]{32}", "validator": null,
                 "help": "...", "example": "acme_0123..."}]}

Known shortcoming: ``pattern`` is a Python regular expression matched in-process, so a user
template with a catastrophically backtracking pattern can make validation slow. Pattern length
and value length are capped, which bounds but does not remove that risk. The value checks
live in :mod:`echo_vault_app.secrets.value_checks`.
"""

import functools
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple
from urllib.parse import urlsplit  # pathlib has imported it already

from echo_vault_app.errors import NotFound, ValidationError
from echo_vault_app.secrets import safejson

# The value checks (regular expressions, the database-URL parser) load on first use: reading a
# secret needs only the template's field list, and every CLI call would pay for them otherwise.
__all__ = [
    "Template",
    "TemplateField",
    "TemplateProblem",
    "TemplateRegistry",
    "load_templates",
    "parse_dotenv",
]


@functools.cache
def _checks() -> ModuleType:
    """:mod:`~echo_vault_app.secrets.value_checks`, imported on the first value check."""
    from echo_vault_app.secrets import value_checks

    return value_checks


@functools.cache
def _database_urls() -> ModuleType:
    """:mod:`~echo_vault_app.secrets.dburl`, imported when a template has a database URL."""
    from echo_vault_app.secrets import dburl

    return dburl


def parse_dotenv(text: str) -> dict[str, str]:
    """The ``dotenv`` template's parser: ``KEY=value`` lines to a dict, errors with line numbers."""
    return _checks().parse_dotenv(text)


log = logging.getLogger(__name__)

KINDS = frozenset({"text", "multiline", "url", "password", "number", "list"})
SINGLE_LINE_KINDS = KINDS - {"multiline"}
BUILTIN_SOURCE = "builtin"
USER_SOURCE = "user"

MAX_TEMPLATE_BYTES = 256 * 1024
MAX_JSON_DEPTH = 6
MAX_USER_TEMPLATES = 256
MAX_FIELDS = 64
MAX_PATTERN_CHARS = 1000
# Values a pattern or validator reads are capped to bound the work; unchecked values are left to
# the store's own size limit.
MAX_LINE_CHARS = 64 * 1024
MAX_CHECKED_CHARS = 1024 * 1024

TEMPLATE_ID_RE = re.compile(r"[a-z][a-z0-9_.\-]{0,63}")
FIELD_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
EXTRA_FIELD_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,127}")


class TemplateField(NamedTuple):
    """One field of a credential: how it is stored, shown and checked."""

    name: str
    label: str
    secret: bool
    required: bool
    kind: str
    pattern: str | None
    validator: str | None
    help: str
    example: str


class Template(NamedTuple):
    """A kind of credential. ``primary_field`` is what "copy secret" copies."""

    id: str
    name: str
    description: str
    fields: tuple[TemplateField, ...]
    primary_field: str
    username_field: str | None
    allow_extra_fields: bool
    source: str
    path: str | None

    def field(self, name: str) -> TemplateField:
        """The field called ``name``; raises ``KeyError`` when the template has none."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def is_secret(self, name: str) -> bool:
        """Whether values of ``name`` are sealed; extra fields (not declared) always are."""
        try:
            return self.field(name).secret
        except KeyError:
            return True


class TemplateProblem(NamedTuple):
    """A user template file that was skipped, and why (one line)."""

    path: str
    message: str


class TemplateRegistry:
    """All usable templates, plus the user template files that were skipped and why."""

    def __init__(self, templates: Iterable[Template], problems: Iterable[TemplateProblem] = ()):
        self._templates = {template.id: template for template in templates}
        self.problems: list[TemplateProblem] = list(problems)

    def get(self, template_id: str) -> Template:
        """The template with this id; raises ``NotFound`` when there is none."""
        try:
            return self._templates[template_id]
        except (KeyError, TypeError):
            shown = template_id if _is_printable_id(template_id) else "(unprintable)"
            raise NotFound(f"no credential template with id {shown!r}") from None

    def all(self) -> list[Template]:
        """Every template, sorted by name for menus and lists."""
        return sorted(self._templates.values(), key=lambda t: (t.name.casefold(), t.id))

    def validate(
        self, template_id: str, fields: Mapping[str, str | bytes]
    ) -> dict[str, str | bytes]:
        """Check field values against a template and return them normalised.

        Normalising trims white space around single-line values (for secret fields without a
        pattern or validator only line breaks, since a password may end in a space), applies
        the field's validator (upper-cases a base32 seed, joins scopes with single spaces...)
        and leaves empty optional fields out. A database URL in a non-secret field loses its
        password, which moves to the template's secret ``password`` field.

        Raises:
            NotFound: no template has this id.
            ValidationError: one line naming the template, the field and the reason; the
                value is never part of it.
        """
        template = self.get(template_id)
        try:
            return _validate(template, fields)
        except _FieldInvalid as exc:
            raise ValidationError(f"{template.id}: field {exc.field!r} {exc.reason}") from None


class _FieldInvalid(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.field, self.reason = field, reason


def _is_printable_id(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 64 and value.isprintable()


def _validate(template: Template, values: Mapping[str, str | bytes]) -> dict[str, str | bytes]:
    declared = {f.name for f in template.fields}
    for name in values:
        if name in declared:
            continue
        if not isinstance(name, str) or not EXTRA_FIELD_NAME_RE.fullmatch(name):
            shown = name if _is_printable_id(name) else "(unprintable)"
            raise _FieldInvalid(str(shown), "is not a valid field name")
        if not template.allow_extra_fields:
            raise _FieldInvalid(name, "is not a field of this template")

    result: dict[str, str | bytes] = {}
    for spec in template.fields:
        try:
            value = _normalise_value(spec, values.get(spec.name))
        except _checks().Invalid as exc:
            raise _FieldInvalid(spec.name, str(exc)) from None
        if value is not None:
            result[spec.name] = value
        elif spec.required and not _filled_by_url(template, spec, values):
            raise _FieldInvalid(spec.name, "is required")

    for name, value in values.items():
        if name not in declared:
            extra = _extra_value(name, value)
            if extra is not None:
                result[name] = extra

    _move_database_passwords(template, result)
    return result


def _normalise_value(spec: TemplateField, value: object) -> str | bytes | None:
    checks = _checks()
    if value is None:
        return None
    if not isinstance(value, str | bytes):
        raise checks.Invalid("must be text")

    checked = spec.pattern is not None or spec.validator is not None
    keeps_bytes = spec.secret and spec.kind in ("text", "multiline") and not checked
    if isinstance(value, bytes):
        if keeps_bytes:
            return value or None
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise checks.Invalid("must be text (UTF-8)") from None

    if spec.kind in SINGLE_LINE_KINDS:
        value = value.strip() if checked or not spec.secret else value.strip("\r\n")
        if len(value) > MAX_LINE_CHARS:
            raise checks.Invalid(f"is longer than {MAX_LINE_CHARS} characters")
        if "\n" in value or "\r" in value:
            raise checks.Invalid("must be a single line")
    elif checked and len(value) > MAX_CHECKED_CHARS:
        raise checks.Invalid(f"is longer than {MAX_CHECKED_CHARS} characters")
    if not value.strip():
        return None

    if spec.kind == "number" and not (value.isascii() and value.isdigit()):
        raise checks.Invalid("must be a whole number")
    if spec.kind == "list":
        value = " ".join(checks.split_list(value))
    if spec.validator is not None:
        value = checks.VALIDATORS[spec.validator](value)
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        hint = f" ({spec.help})" if spec.help else ""
        raise checks.Invalid(f"does not have the expected format{hint}")
    return value


def _extra_value(name: str, value: object) -> str | bytes | None:
    if not isinstance(value, str | bytes):
        raise _FieldInvalid(name, "must be text")
    return value if value else None


def _filled_by_url(template: Template, spec: TemplateField, values: Mapping[str, object]) -> bool:
    """A required ``password`` may come from a database URL in the same credential."""
    return spec.name == "password" and any(
        f.validator == "database_url" and not f.secret and values.get(f.name)
        for f in template.fields
    )


def _move_database_passwords(template: Template, result: dict[str, str | bytes]) -> None:
    """Keep a database URL's password out of plain metadata: move it to the sealed field."""
    for spec in template.fields:
        url = result.get(spec.name)
        if spec.validator != "database_url" or spec.secret or not isinstance(url, str):
            continue

        parsed = _database_urls().parse_database_url(url)
        if parsed.secret_params():
            names = ", ".join(parsed.secret_params())
            raise _FieldInvalid(spec.name, f"has secret-looking parameters ({names}); remove them")
        if parsed.password is None:
            continue

        try:
            target = template.field("password")
        except KeyError:
            target = None
        if target is None or not target.secret:
            raise _FieldInvalid(spec.name, "contains a password but is not a secret field")
        given = result.get("password")
        if given is not None and given != parsed.password:
            raise _FieldInvalid("password", "differs from the password inside the URL")
        result["password"] = parsed.password
        result[spec.name] = parsed.without_password()

    for spec in template.fields:
        value = result.get(spec.name)
        is_plain_url = spec.validator == "url" and not spec.secret and isinstance(value, str)
        if is_plain_url and urlsplit(value).password is not None:
            raise _FieldInvalid(spec.name, "contains a password; put it in a secret field")


# --- loading ------------------------------------------------------------------------------------


def load_templates(user_dir: Path | None = None) -> TemplateRegistry:
    """Load the built-in templates and, if given, every ``*.json`` file in ``user_dir``.

    User files are read in name order. One that is too large, not JSON, too deeply nested,
    has unknown or missing keys, a bad regular expression, a repeated field name, an id that
    is taken (by a built-in or an earlier file) or an example its own checks refuse is
    reported in ``problems`` and skipped.
    """
    templates: dict[str, Template] = {}
    problems: list[TemplateProblem] = []
    for name, text in _builtin_sources():
        try:
            template = _parse_template(_loads(text), BUILTIN_SOURCE, None, checked=True)
        except _TemplateInvalid as exc:
            log.error("skipped built-in template %s: %s", name, exc.message)
            problems.append(TemplateProblem(f"builtin:{name}", exc.message))
            continue
        templates[template.id] = template

    if user_dir is not None:
        for template in _load_user_dir(Path(user_dir), templates, problems):
            templates[template.id] = template
    return TemplateRegistry(templates.values(), problems)


# Package-relative, as in a wheel, a checkout (a symlink) and the frozen app alike. Plain paths
# rather than importlib.resources, whose import (tempfile, zipfile…) costs each CLI call ~10 ms.
BUILTIN_DIR = Path(__file__).parent.parent / "resources" / "templates"


def load_builtin(template_id: str) -> Template | None:
    """The built-in template ``template_id`` read from its own file, or None.

    Revealing a value needs one template's primary field, and parsing all fourteen built-ins
    and the user's folder for it cost every ``echo-vault-cli get`` about a millisecond. No user
    file can take a built-in's id, so a built-in found here is the one the registry would
    hold; None (no such file, or one that fails its checks) sends the caller to
    :func:`load_templates`, which reports the problem.
    """
    if not template_id.isascii() or not template_id.replace("_", "").isalnum():
        return None  # built-in files are named by their ids; no other name is looked up
    try:
        text = (BUILTIN_DIR / f"{template_id}.json").read_text("utf-8")
        template = _parse_template(_loads(text), BUILTIN_SOURCE, None, checked=True)
    except (OSError, UnicodeDecodeError, _TemplateInvalid):
        return None
    return template if template.id == template_id else None


def _builtin_sources() -> list[tuple[str, str]]:
    entries = sorted(p for p in BUILTIN_DIR.iterdir() if p.suffix == ".json")
    return [(p.name, p.read_text("utf-8")) for p in entries]


def _load_user_dir(
    user_dir: Path, taken: Mapping[str, Template], problems: list[TemplateProblem]
) -> list[Template]:
    try:
        if not user_dir.is_dir():
            return []
        files = sorted(p for p in user_dir.iterdir() if p.suffix == ".json" and p.is_file())
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        problems.append(TemplateProblem(str(user_dir), f"folder cannot be read ({reason})"))
        return []
    if len(files) > MAX_USER_TEMPLATES:
        problems.append(
            TemplateProblem(
                str(user_dir), f"more than {MAX_USER_TEMPLATES} templates; rest skipped"
            )
        )
        files = files[:MAX_USER_TEMPLATES]

    loaded: dict[str, Template] = {}
    for path in files:
        try:
            template = _parse_template(_read_user_file(path), USER_SOURCE, str(path))
            if template.id in taken:
                raise _TemplateInvalid(f"id {template.id!r} is a built-in template's id")
            if template.id in loaded:
                raise _TemplateInvalid(f"id {template.id!r} is already used by another file")
        except _TemplateInvalid as exc:
            log.warning("skipped user template %s: %s", path, exc.message)
            problems.append(TemplateProblem(str(path), exc.message))
            continue
        loaded[template.id] = template
    return list(loaded.values())


class _TemplateInvalid(Exception):
    def __init__(self, *messages: str) -> None:
        shown = "; ".join(messages[:5])
        if len(messages) > 5:
            shown += f"; and {len(messages) - 5} more"
        super().__init__(shown)
        self.message = shown


def _read_user_file(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_TEMPLATE_BYTES + 1)
    except OSError as exc:
        raise _TemplateInvalid(f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise _TemplateInvalid(f"is larger than {MAX_TEMPLATE_BYTES // 1024} KiB")
    return _loads(raw.removeprefix(b"\xef\xbb\xbf"))


def _loads(text: str | bytes) -> Any:
    try:
        return safejson.loads(text, max_bytes=MAX_TEMPLATE_BYTES, max_depth=MAX_JSON_DEPTH)
    except ValidationError as exc:
        raise _TemplateInvalid(str(exc)) from None


# (type, required) for each key; None in a type tuple means JSON null is allowed.
_TEMPLATE_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "format": ((int,), False),
    "id": ((str,), True),
    "name": ((str,), True),
    "description": ((str,), False),
    "fields": ((list,), True),
    "primary_field": ((str,), True),
    "username_field": ((str, type(None)), False),
    "allow_extra_fields": ((bool,), False),
}
_FIELD_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "name": ((str,), True),
    "label": ((str,), True),
    "secret": ((bool,), False),
    "required": ((bool,), False),
    "kind": ((str,), False),
    "pattern": ((str, type(None)), False),
    "validator": ((str, type(None)), False),
    "help": ((str,), False),
    "example": ((str,), False),
}


def _check_keys(obj: Any, spec: Mapping[str, tuple[tuple[type, ...], bool]], where: str) -> list:
    if not isinstance(obj, dict):
        return [f"{where} must be a JSON object"]
    problems = []
    for key in obj:
        if key not in spec and not key.startswith("_"):
            problems.append(f"{where} has unknown key {key[:40]!r}")
    for key, (types, required) in spec.items():
        if key not in obj:
            if required:
                problems.append(f"{where} is missing {key!r}")
            continue
        value = obj[key]
        is_bool = isinstance(value, bool)
        if (is_bool and bool not in types) or not isinstance(value, types):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            problems.append(f"{where} key {key!r} must be {expected}")
    return problems


def _parse_template(data: Any, source: str, path: str | None, *, checked: bool = False) -> Template:
    """Build a template from a file's JSON; ``checked`` files skip the costly value checks.

    Built-in files are ``checked``: the test suite loads each of them as a user file too, so
    their patterns compile and their examples pass. Compiling those patterns and validating
    those examples again would cost every start of the CLI about 10 ms.
    """
    problems = _check_keys(data, _TEMPLATE_KEYS, "template")
    if problems:
        raise _TemplateInvalid(*problems)

    if data.get("format", 1) != 1:
        problems.append("template format must be 1")
    if not TEMPLATE_ID_RE.fullmatch(data["id"]):
        problems.append("id must be 1-64 lower-case letters, digits, '_', '.' or '-'")
    if not data["name"].strip() or len(data["name"]) > 100 or not data["name"].isprintable():
        problems.append("name must be one line of 1-100 characters")
    if not data["fields"] or len(data["fields"]) > MAX_FIELDS:
        problems.append(f"fields must list 1 to {MAX_FIELDS} fields")

    fields: list[TemplateField] = []
    for index, raw in enumerate(data["fields"][:MAX_FIELDS]):
        field_problems = _check_keys(raw, _FIELD_KEYS, f"field {index + 1}")
        if field_problems:
            problems.extend(field_problems)
            continue
        field, field_problems = _parse_field(raw, f"field {raw['name'][:40]!r}", checked)
        problems.extend(field_problems)
        if any(f.name == field.name for f in fields):
            problems.append(f"field name {field.name[:40]!r} is used twice")
        fields.append(field)

    template = Template(
        id=data["id"],
        name=data["name"].strip(),
        description=data.get("description", ""),
        fields=tuple(fields),
        primary_field=data["primary_field"],
        username_field=data.get("username_field"),
        allow_extra_fields=data.get("allow_extra_fields", False),
        source=source,
        path=path,
    )
    if not problems:
        problems.extend(_check_template_links(template, checked))
    if problems:
        raise _TemplateInvalid(*problems)
    return template


def _parse_field(raw: dict[str, Any], where: str, checked: bool) -> tuple[TemplateField, list[str]]:
    field = TemplateField(
        name=raw["name"],
        label=raw["label"].strip(),
        secret=raw.get("secret", False),
        required=raw.get("required", False),
        kind=raw.get("kind", "text"),
        pattern=raw.get("pattern"),
        validator=raw.get("validator"),
        help=raw.get("help", ""),
        example=raw.get("example", ""),
    )
    problems = []
    if not FIELD_NAME_RE.fullmatch(field.name):
        problems.append(f"{where} name must be 1-64 lower-case letters, digits or '_'")
    if not field.label or not field.label.isprintable() or len(field.label) > 100:
        problems.append(f"{where} label must be one line of 1-100 characters")
    if field.kind not in KINDS:
        problems.append(f"{where} kind must be one of {', '.join(sorted(KINDS))}")
    if not field.help.isprintable() or len(field.help) > 300:
        problems.append(f"{where} help must be one line of at most 300 characters")
    if checked:
        return field, problems
    validators = _checks().VALIDATORS
    if field.validator is not None and field.validator not in validators:
        problems.append(f"{where} validator must be one of {', '.join(sorted(validators))}")
    if field.pattern is not None:
        problems.extend(_check_pattern(field.pattern, where))
    return field, problems


def _check_pattern(pattern: str, where: str) -> list[str]:
    if len(pattern) > MAX_PATTERN_CHARS:
        return [f"{where} pattern is longer than {MAX_PATTERN_CHARS} characters"]
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        reason = getattr(exc, "msg", type(exc).__name__)
        return [f"{where} pattern is not a valid regular expression ({reason})"]
    return []


def _check_template_links(template: Template, checked: bool) -> list[str]:
    names = {f.name for f in template.fields}
    problems = []
    if template.primary_field not in names:
        problems.append("primary_field must name one of the fields")
    elif not template.field(template.primary_field).secret:
        problems.append("primary_field must name a secret field")
    if template.username_field is not None and template.username_field not in names:
        problems.append("username_field must name one of the fields")

    if checked:
        return problems
    for field in template.fields:
        if field.example:
            try:
                _normalise_value(field, field.example)
            except _checks().Invalid as exc:
                problems.append(f"field {field.name!r} example is refused: {exc}")
    return problems
