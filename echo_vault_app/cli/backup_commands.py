"""Moving secrets in and out: export, import, run and inject.

``export FILE`` writes an encrypted backup (or, with ``--format dotenv``, a plaintext ``.env``
file after a warning); ``import FILE`` restores a backup or, with ``--from FORMAT``, another
tool's export, printing what could not be mapped. ``run`` starts a command with secrets in its
environment and ``inject`` fills ``{{ echo-vault://name#field }}`` references in a template.
Backup passwords come from a prompt (asked twice when exporting) or ``--password-file``, never
from the command line.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from pathlib import Path

from echo_vault_app.cli import output
from echo_vault_app.cli.context import Context
from echo_vault_app.cli.inputs import read_file, read_text_file
from echo_vault_app.errors import SecretNotFound, UsageError
from echo_vault_app.secrets.backup import select_ids
from echo_vault_app.secrets.backup_format import check_backup_password, write_private_file
from echo_vault_app.secrets.backup_merge import MODES, ImportPreview
from echo_vault_app.secrets.dotenv_export import write_dotenv
from echo_vault_app.secrets.importers import FORMATS
from echo_vault_app.secrets.importers.dotenv import parse_dotenv_text
from echo_vault_app.secrets.manager import SecretsManager
from echo_vault_app.secrets.model import Secret
from echo_vault_app.secrets.run_inject import (
    SecretRef,
    build_env,
    parse_env_assignment,
    render_template,
    resolve_with_fallback,
)

_NOT_ENV = re.compile(r"[^A-Za-z0-9_]+")


# -- passwords --------------------------------------------------------------------------------


def _backup_password(args: argparse.Namespace, *, new: bool) -> str:
    if args.password_file:
        password = read_text_file(args.password_file, "password file").rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Backup password: ")
        if new and getpass.getpass("Repeat backup password: ") != password:
            raise UsageError("the two backup passwords differ")
    else:
        raise UsageError("no terminal to ask for the backup password: use --password-file")
    if new:
        check_backup_password(password)
    return password


# -- export ----------------------------------------------------------------------------------


def cmd_export(ctx: Context, args: argparse.Namespace) -> int:
    if args.format == "dotenv":
        return _export_dotenv(ctx, args)
    password = _backup_password(args, new=True)
    count = ctx.manager.export_secrets(
        args.file, password, names=args.name, tags=args.tag, query=args.query, force=args.force
    )
    if args.json:
        output.emit_json({"file": str(args.file), "secrets": count, "format": "backup"})
    else:
        print(f"wrote an encrypted backup of {count} secrets to {args.file}", file=sys.stderr)
    return 0


def env_name(*parts: str) -> str:
    """An environment variable name for a secret (and field).

    >>> env_name("stripe/api-key")
    'STRIPE_API_KEY'
    """
    name = _NOT_ENV.sub("_", "_".join(parts)).strip("_").upper()
    return name if name and not name[0].isdigit() else f"_{name}"


def dotenv_items(
    manager: SecretsManager, secret: Secret
) -> tuple[list[tuple[str, str]], list[str]]:
    """The ``(KEY, value)`` pairs of one secret, and what could not be written (binary)."""
    items: list[tuple[str, str]] = []
    left_out: list[str] = []
    fields = secret.fields
    for item in fields:
        if isinstance(item.value, bytes):
            left_out.append(f"{secret.name}#{item.name}")
            continue
        if secret.summary.template == "dotenv" and item.name == "env":
            items += [(a.key, a.value) for a in parse_dotenv_text(item.value)]
        elif secret.summary.template == "dotenv":
            items.append((item.name, item.value))
        elif len(fields) == 1:
            items.append((env_name(secret.name), item.value))
        else:
            items.append((env_name(secret.name, item.name), item.value))
    return items, left_out


def _export_dotenv(ctx: Context, args: argparse.Namespace) -> int:
    manager = ctx.manager
    with manager.vault.read() as conn:
        ids = select_ids(manager.store, conn, names=args.name, tags=args.tag, query=args.query)
        names = [
            conn.execute("SELECT name FROM secrets WHERE id = ?", (i,)).fetchone()[0] for i in ids
        ]
    items: list[tuple[str, str]] = []
    left_out: list[str] = []
    for name in names:
        pairs, skipped = dotenv_items(manager, manager.store.get(name, action="export"))
        items += pairs
        left_out += skipped
    print(
        f"echo-vault-cli: warning: {args.file} holds {len(items)} values in PLAINTEXT; "
        "delete it when done",
        file=sys.stderr,
    )
    write_dotenv(Path(args.file), items, force=args.force)
    for ref in left_out:
        print(f"echo-vault-cli: not exported (binary value): {ref}", file=sys.stderr)
    if args.json:
        output.emit_json(
            {"file": str(args.file), "format": "dotenv", "variables": [k for k, _ in items],
             "left_out": left_out}
        )  # fmt: skip
    return 0


# -- import ----------------------------------------------------------------------------------


def _preview_json(result: ImportPreview) -> dict:
    document = {
        key: getattr(result, key)
        for key in ("added", "changed", "conflicts", "unchanged", "skipped", "warnings")
    }
    document["sections"] = getattr(result, "sections", {})
    return document


def _print_summary(result: ImportPreview, verb: str) -> None:
    print(
        f"{verb}: {len(result.added)} added, {len(result.changed)} changed, "
        f"{len(result.skipped)} skipped, {len(result.unchanged)} unchanged "
        f"({len(result.conflicts)} conflicts)",
        file=sys.stderr,
    )
    for warning in result.warnings:
        print(f"echo-vault-cli: warning: {warning}", file=sys.stderr)


def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    if args.source and args.source != "backup":
        return _import_foreign(ctx, args)
    if args.per_key or args.entry_name:
        raise UsageError("--per-key and --entry-name apply to --from dotenv only")
    password = _backup_password(args, new=False)
    manager = ctx.manager
    if args.preview:
        result = manager.preview_import(args.file, password, args.mode)
        verb = "would import"
    else:
        result = manager.import_secrets(args.file, password, mode=args.mode)
        verb = "imported"
    if args.json:
        output.emit_json(_preview_json(result))
    _print_summary(result, verb)
    return 0


def _import_foreign(ctx: Context, args: argparse.Namespace) -> int:
    from echo_vault_app.secrets.foreign_import import import_file

    if args.preview:
        raise UsageError("--preview applies to encrypted backups only")
    manager = ctx.manager
    done = import_file(
        manager.vault,
        args.source,
        Path(args.file),
        args.mode,
        name=args.entry_name,
        per_key=args.per_key,
        known_templates={t.id for t in manager.templates.all()},
    )
    if args.json:
        output.emit_json(done.as_json())
    _print_summary(done.result, f"imported from {args.source}")
    for warning in done.report.warnings:
        print(f"echo-vault-cli: warning: {warning}", file=sys.stderr)
    for item in done.report.unmapped:
        print(
            f"echo-vault-cli: not imported: {item.entry}: {item.field} ({item.reason})",
            file=sys.stderr,
        )
    return 0


# -- run and inject --------------------------------------------------------------------------


def _reader(ctx: Context, via: str):
    """A resolver that reads one value, audited as a read with ``via``; refuses binary."""
    manager = ctx.manager

    def read(ref: SecretRef) -> str:
        secret = manager.store.get(ref.name, audit=False)
        if ref.field is not None:
            try:
                chosen = secret.field(ref.field)
            except KeyError:
                raise SecretNotFound(f"secret {secret.name!r} has no field {ref.field!r}") from None
        else:
            template = manager.template_for(secret)
            names = [f.name for f in secret.fields]
            primary = template.primary_field if template else None
            chosen = secret.field(primary) if primary in names else next(
                (f for f in secret.fields if f.secret), secret.fields[0]
            )  # fmt: skip
        if isinstance(chosen.value, bytes):
            raise UsageError(f"{secret.name}#{chosen.name} is binary; it cannot be used as text")
        with manager.vault.transaction() as tx:
            manager.vault.audit.record(
                tx, "read", secret.name, detail={"field": chosen.name, "via": via},
                value=chosen.value,
            )  # fmt: skip
        return chosen.value

    return lambda ref: resolve_with_fallback(ref, read)


def cmd_run(ctx: Context, args: argparse.Namespace) -> int:
    from echo_vault_app.cli.child_process import run_child

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("give the command to run after --")
    if not args.env:
        raise UsageError("give at least one --env NAME=reference")
    assignments = [parse_env_assignment(item) for item in args.env]
    env, values = build_env(os.environ, assignments, _reader(ctx, "run"))
    ctx.close()  # the child may run for long: keep no keys in memory meanwhile
    return run_child(command, env, values, mask=not args.no_masking)


def cmd_inject(ctx: Context, args: argparse.Namespace) -> int:
    if args.input:
        data = read_file(args.input, "template file")
    else:
        data = sys.stdin.buffer.read(64 * 1024 * 1024 + 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("the template is not UTF-8 text") from None
    rendered = render_template(text, _reader(ctx, "inject")).encode("utf-8")
    if args.output:
        write_private_file(
            Path(args.output), lambda fh: fh.write(rendered), force=args.force,
            what="output", error=UsageError,
        )  # fmt: skip
    else:
        sys.stdout.buffer.write(rendered)
        sys.stdout.buffer.flush()
    return 0


# -- parsers ---------------------------------------------------------------------------------


def _selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", action="append", help="only this secret (repeatable)")
    p.add_argument("--tag", action="append", help="only secrets with this tag (repeatable)")
    p.add_argument("--query", help="only secrets matching this search")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write an encrypted backup (or a plaintext .env file)")
    p.add_argument("file", type=Path)
    p.add_argument("--format", choices=["backup", "dotenv"], default="backup")
    _selection(p)
    p.add_argument("--password-file", metavar="PATH", help="backup password from a file")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="restore a backup, or import another tool's export")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--from", dest="source", choices=["backup", *FORMATS], help="source format (backup)"
    )
    p.add_argument("--mode", choices=MODES, default="merge", help="conflict mode (merge)")
    p.add_argument("--password-file", metavar="PATH", help="backup password from a file")
    p.add_argument("--preview", action="store_true", help="say what would change; write nothing")
    p.add_argument("--entry-name", help="dotenv: name of the entry (default: the file's stem)")
    p.add_argument("--per-key", action="store_true", help="dotenv: one secret per variable")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("run", help="run a command with secrets in its environment")
    p.add_argument(
        "--env", action="append", metavar="NAME=REF", help="e.g. STRIPE_KEY=stripe#api_key"
    )
    p.add_argument("--no-masking", action="store_true", help="do not mask values in its output")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- command and arguments")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("inject", help="fill {{ echo-vault://name#field }} references")
    p.add_argument("-i", "--input", metavar="FILE", help="template file (default: stdin)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (0600) instead of stdout")
    p.add_argument("--force", action="store_true", help="overwrite the output file")
    p.set_defaults(func=cmd_inject)
