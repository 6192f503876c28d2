"""Secret commands: set, get, clip, list, search, rm, restore, trash, history, expiring."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from echo_vault_app.cli import output
from echo_vault_app.cli.context import Context
from echo_vault_app.cli.inputs import decode_value, read_file, stdout_is_terminal
from echo_vault_app.errors import UsageError
from echo_vault_app.secrets.model import Value


def _has_url_password(text: str) -> bool:
    """A ``scheme://user:password@host`` value typed into argv leaks like any secret."""
    from urllib.parse import urlsplit

    if "://" not in text:
        return False
    try:
        return bool(urlsplit(text.strip()).password)
    except ValueError:
        return "@" in text


def parse_expiry(text: str) -> float:
    """Accept an ISO date (``2027-01-31``) or date-time, taken as UTC when no zone is given."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError("--expires takes an ISO date such as 2027-01-31") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def cmd_set(ctx: Context, args: argparse.Namespace) -> int:
    manager = ctx.manager
    template_id = args.template or "generic"
    template = manager.templates.get(template_id)
    values: dict[str, Value] = {}

    for item in args.field or []:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise UsageError("--field takes NAME=VALUE for a non-secret field")
        if template.is_secret(key):
            raise UsageError(
                f"field {key!r} is secret: give it on the prompt, on stdin or with --from-file"
            )
        if _has_url_password(text):
            raise UsageError(
                f"field {key!r} holds a URL with a password, which must not be in argv:"
                f" use --from-file {key}=PATH"
            )
        values[key] = text
    for item in args.from_file or []:
        key, sep, path = item.partition("=")
        if not sep:
            key, path = template.primary_field, item
        values[key] = decode_value(read_file(path, "value file"), strip_newline=False)

    wanted = [
        f
        for f in template.fields
        if f.secret and f.name not in values and (f.required or f.name == template.primary_field)
    ]
    wanted.sort(key=lambda f: f.name != template.primary_field)
    if args.stdin or not ctx.inputs.interactive():
        if wanted:
            # stdin carries one value: the primary field's. Others need --from-file NAME=PATH.
            values[wanted[0].name] = ctx.inputs.value_from_stdin()
    else:
        for spec in wanted:
            values[spec.name] = ctx.inputs.value_from_prompt(spec.label)
        for spec in template.fields:
            if args.ask_all and spec.secret and spec.name not in values:
                answer = ctx.inputs.value_from_prompt(f"{spec.label} (empty to skip)")
                if answer:
                    values[spec.name] = answer

    notes = None
    if args.notes_file:
        notes = read_file(args.notes_file, "notes file").decode("utf-8", "replace")
    summary = manager.store_secret(
        args.name,
        fields=values,
        template=template_id,
        tags=args.tag,
        notes=notes,
        expires=parse_expiry(args.expires) if args.expires else None,
        expected_version=args.expected_version,
    )
    if args.json:
        output.emit_json(output.summary_json(summary))
    else:
        print(f"stored {summary.name} (version {summary.version})", file=sys.stderr)
    return 0


def _write_value(value: Value) -> None:
    """Exactly the stored bytes into a pipe or file; a closing newline only on a terminal."""
    data = value if isinstance(value, bytes) else value.encode("utf-8")
    if stdout_is_terminal() and not data.endswith(b"\n"):
        data += b"\n"
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def cmd_get(ctx: Context, args: argparse.Namespace) -> int:
    if stdout_is_terminal() and not args.show and not args.json:
        raise UsageError("stdout is a terminal: add --show to print the value, or use `clip`")
    manager = ctx.manager
    if args.json:
        secret = manager.get(args.name)
        document = output.summary_json(secret.summary)
        document["notes"] = secret.notes
        document["fields"] = {
            f.name: (f.value if isinstance(f.value, str) else {"base64": _b64(f.value)})
            for f in secret.fields
            if args.field is None or f.name == args.field
        }
        output.emit_json(document)
        return 0
    _write_value(manager.reveal(args.name, args.field, action="read"))
    return 0


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def cmd_clip(ctx: Context, args: argparse.Namespace) -> int:
    from echo_vault_app.cli.clipboard import hold_in_clipboard

    value = ctx.manager.reveal(args.name, args.field, action="copy")
    if isinstance(value, bytes):
        raise UsageError("binary values cannot go to the clipboard; use `get` with a redirect")
    seconds = args.seconds
    hold_in_clipboard(value, seconds)
    print(f"copied {args.name}; the clipboard clears in {seconds} s", file=sys.stderr)
    return 0


def cmd_list(ctx: Context, args: argparse.Namespace) -> int:
    store = ctx.manager.store
    if args.trash:
        items = store.trashed()
    else:
        items = store.summaries("", tag=args.tag)
        if args.prefix:
            items = [s for s in items if s.name.startswith(args.prefix)]
    if args.json:
        output.emit_json({"secrets": [output.summary_json(s) for s in items]})
    elif args.long:
        output.summaries_table(items)
    else:
        for item in items:
            print(item.name)
    return 0


def cmd_search(ctx: Context, args: argparse.Namespace) -> int:
    items = ctx.manager.search(args.query, limit=args.limit)
    if args.json:
        output.emit_json({"query": args.query, "secrets": [output.summary_json(s) for s in items]})
    else:
        for item in items:
            print(item.name)
    return 0 if items or args.json else 6


def cmd_rm(ctx: Context, args: argparse.Namespace) -> int:
    store = ctx.manager.store
    store.trash(args.name)
    if args.purge:
        store.empty_trash(args.name)
        print(f"deleted {args.name} for good", file=sys.stderr)
    else:
        print(f"moved {args.name} to the trash (restore with `restore`)", file=sys.stderr)
    return 0


def cmd_restore(ctx: Context, args: argparse.Namespace) -> int:
    ctx.manager.restore_from_trash(args.name)
    print(f"restored {args.name} from the trash", file=sys.stderr)
    return 0


def cmd_trash(ctx: Context, args: argparse.Namespace) -> int:
    if args.empty:
        count = ctx.manager.empty_trash()
        print(f"deleted {count} secrets from the trash for good", file=sys.stderr)
        return 0
    items = ctx.manager.trash()
    if args.json:
        output.emit_json({"secrets": [output.summary_json(s) for s in items]})
    else:
        for item in items:
            print(item.name)
    return 0


def cmd_history(ctx: Context, args: argparse.Namespace) -> int:
    manager = ctx.manager
    if args.restore is not None:
        summary = manager.restore_version(args.name, args.restore)
        print(f"restored version {args.restore} as version {summary.version}", file=sys.stderr)
        return 0
    entries = manager.history(args.name)
    current = manager.store.summary(args.name)
    if args.json:
        output.emit_json(
            {
                "name": current.name,
                "current_version": current.version,
                "versions": [
                    {
                        "version": e.version,
                        "saved": output.iso(e.saved),
                        "template": e.template,
                        "tags": list(e.tags),
                        "fields": [f.name for f in e.fields],
                    }
                    for e in entries
                ],
            }
        )
        return 0
    rows = [[str(current.version), output.iso(current.updated) or "", "current"]]
    rows += [
        [str(e.version), output.iso(e.saved) or "", ",".join(f.name for f in e.fields)]
        for e in entries
    ]
    output.table(rows, ["VERSION", "SAVED", "FIELDS"])
    return 0


def cmd_expiring(ctx: Context, args: argparse.Namespace) -> int:
    items = ctx.manager.expiring(args.days)
    if args.json:
        output.emit_json({"secrets": [output.summary_json(s) for s in items]})
    else:
        output.summaries_table(items)
    return 0


def cmd_templates(ctx: Context, args: argparse.Namespace) -> int:
    from echo_vault_app.secrets.templates import load_templates

    registry = load_templates(ctx.folder / "templates")
    if args.json:
        output.emit_json(
            {
                "templates": [
                    {
                        "id": t.id,
                        "name": t.name,
                        "source": t.source,
                        "primary_field": t.primary_field,
                        "fields": [
                            {"name": f.name, "secret": f.secret, "required": f.required}
                            for f in t.fields
                        ],
                    }
                    for t in registry.all()
                ],
                "problems": [{"path": p.path, "message": p.message} for p in registry.problems],
            }
        )
        return 0
    rows = [
        [t.id, t.name, ", ".join(f.name + ("*" if f.secret else "") for f in t.fields)]
        for t in registry.all()
    ]
    output.table(rows, ["ID", "NAME", "FIELDS (* secret)"])
    for problem in registry.problems:
        print(
            f"echo-vault-cli: skipped template {problem.path}: {problem.message}", file=sys.stderr
        )
    return 0
