"""Secret endpoints: store, read, delete, list and search names, export, templates.

Permissions (checked through ``AuthManager.check``; the resource is the secret's name):

- ``secrets:write:<name>`` store; ``secrets:read:<name>`` read; ``secrets:delete:<name>`` delete;
- ``secrets:list[:<prefix>]`` list or search (results are also filtered name by name);
- ``secrets:export`` (or ``secrets:export:<name>`` for each name asked for) export;
- ``templates:read[:<id>]`` template reads.

Names are matched case-insensitively by the vault, so when a stored secret's name differs in
case from the one asked for, the permission is checked against both.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.responses import JSONResponse

from echo_vault_app.api import bodies
from echo_vault_app.api.calls import Call
from echo_vault_app.errors import SecretNotFound, UsageError
from echo_vault_app.secrets.model import normalize_name

MAX_LIST = 10_000
_STORE_KEYS = {
    "name", "value", "fields", "template", "tags", "notes", "expires", "expected_version",
}  # fmt: skip


def _name(call: Call) -> str:
    return normalize_name(call.request.path_params["name"])


def _require_on_stored(call: Call, permission: str, name: str) -> str | None:
    """Check ``permission`` on the name asked for and on the stored spelling, if any.

    Returns the stored name, or None when no live secret has this name.
    """
    call.require(permission, name)
    try:
        stored = call.manager.store.summary(name).name
    except SecretNotFound:
        return None
    if stored != name:
        call.require(permission, stored)
    return stored


def store_secret(call: Call) -> JSONResponse:
    body = bodies.check_object(call.body, _STORE_KEYS, {"name"})
    name = normalize_name(body["name"])
    if ("value" in body) == ("fields" in body):
        raise UsageError("give either 'value' or 'fields'")
    _require_on_stored(call, "secrets:write", name)

    value = fields = None
    if "value" in body:
        value = bodies.secret_value(body["value"], "'value'")
    else:
        fields = bodies.field_values(body["fields"])
    summary = call.manager.store_secret(
        name,
        value,
        fields=fields,
        template=bodies.text(body, "template", max_len=64),
        tags=bodies.text_list(body, "tags"),
        notes=bodies.text(body, "notes", max_len=1024 * 1024),
        expires=bodies.number(body, "expires", minimum=0),
        expected_version=bodies.integer(body, "expected_version"),
    )
    status = 201 if summary.version == 1 else 200
    return JSONResponse(bodies.summary_json(summary), status, {"Cache-Control": "no-store"})


class _StoredNameRefused(Exception):
    """The caller may read the name it asked for but not the stored spelling of it."""


def read_secret(call: Call) -> dict[str, Any]:
    name = _name(call)
    field = call.request.query_params.get("field")
    call.require("secrets:read", name)
    principal = call.principal_caller.principal

    def allow(stored: str) -> None:
        if stored != name and not call.auth.check(principal, "secrets:read", stored):
            raise _StoredNameRefused(stored)

    try:
        secret = call.manager.store.get(name, field=field, allow=allow)
    except _StoredNameRefused as refused:
        call.require("secrets:read", str(refused))
        raise  # not reached: require raised 403
    document = bodies.summary_json(secret.summary)
    document["notes"] = secret.notes
    document["fields"] = {
        f.name: bodies.value_json(f.value)
        for f in secret.fields
        if field is None or f.name == field
    }
    return document


def delete_secret(call: Call) -> dict[str, Any]:
    name = _name(call)
    stored = _require_on_stored(call, "secrets:delete", name)
    if stored is None or not call.manager.delete_secret(name):
        raise SecretNotFound(f"no secret named {name!r} in the vault")
    return {"name": stored, "deleted": True}


def list_secrets(call: Call) -> dict[str, Any]:
    params = call.request.query_params
    prefix, query, tag = params.get("prefix"), params.get("q"), params.get("tag")
    limit = _limit(params.get("limit"))
    call.require("secrets:list", prefix or None)

    items = call.manager.search(query or "") if query else call.manager.summaries(tag=tag)
    if query and tag:
        items = [s for s in items if tag in s.tags]
    visible = [
        s
        for s in items
        if (not prefix or s.name.startswith(prefix))
        and call.auth.check(call.principal_caller.principal, "secrets:list", s.name)
    ][:limit]
    call.audit("api.list", prefix, detail={"count": len(visible), "search": bool(query)})
    return {"secrets": [bodies.summary_json(s) for s in visible]}


def _limit(text: str | None) -> int:
    if text is None:
        return MAX_LIST
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIST:
        raise UsageError(f"'limit' must be a whole number from 1 to {MAX_LIST}")
    return int(text)


def export_secrets(call: Call) -> dict[str, Any]:
    body = bodies.check_object(call.body, {"password", "names", "tags", "query"}, {"password"})
    password = bodies.required_text(body, "password", max_len=1024)
    names = bodies.text_list(body, "names", max_items=MAX_LIST)
    tags = bodies.text_list(body, "tags")
    query = bodies.text(body, "query", max_len=1024)
    if names is None or tags is not None or query is not None:
        call.require("secrets:export")
    else:
        for name in names:
            _require_on_stored(call, "secrets:export", normalize_name(name))

    # The backup is written under the vault's own private folder, read back and removed: its
    # content is encrypted under the client's password, and no client-chosen path is written.
    work_dir = Path(tempfile.mkdtemp(prefix=".api-export-", dir=call.manager.vault.folder))
    try:
        path = work_dir / "export.evb"
        count = call.manager.export_secrets(path, password, names=names, tags=tags, query=query)
        data = path.read_bytes()
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return {
        "count": count,
        "filename": f"echo-vault-{bodies.iso(time.time())[:10]}.evb",
        "backup": base64.b64encode(data).decode("ascii"),
    }


def _template_json(template: Any) -> dict[str, Any]:
    return {
        "id": template.id,
        "name": template.name,
        "description": template.description,
        "source": template.source,
        "primary_field": template.primary_field,
        "username_field": template.username_field,
        "allow_extra_fields": template.allow_extra_fields,
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "secret": f.secret,
                "required": f.required,
                "kind": f.kind,
                "pattern": f.pattern,
                "help": f.help,
            }
            for f in template.fields
        ],
    }


def list_templates(call: Call) -> dict[str, Any]:
    call.require("templates:read")
    templates = call.manager.templates.all()
    call.audit("api.templates", None, detail={"count": len(templates)})
    return {"templates": [_template_json(t) for t in templates]}


def read_template(call: Call) -> dict[str, Any]:
    template_id = call.request.path_params["template_id"]
    call.require("templates:read", template_id)
    template = call.manager.templates.get(template_id)
    call.audit("api.templates", template.id)
    return _template_json(template)
