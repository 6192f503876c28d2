"""Vault commands: init, status, passphrase, keyring, audit."""

from __future__ import annotations

import argparse
import os
import sys

from echo_vault_app import config
from echo_vault_app.cli import output
from echo_vault_app.cli.context import ACTOR, Context
from echo_vault_app.core.crypto import tune_argon2
from echo_vault_app.core.vault import Vault, inspect
from echo_vault_app.errors import UsageError


def cmd_init(ctx: Context, args: argparse.Namespace) -> int:
    headless = bool(os.environ.get(config.ENV_MASTER_KEY)) and not ctx.inputs.interactive()
    passphrase = None
    if args.passphrase_stdin or args.passphrase_file or not headless:
        if (
            not headless
            and not ctx.inputs.interactive()
            and not (args.passphrase_stdin or args.passphrase_file)
        ):
            raise UsageError(
                "no terminal: give --passphrase-stdin/--passphrase-file or set "
                "ECHO_VAULT_MASTER_KEY for a headless vault"
            )
        passphrase = ctx.inputs.new_passphrase()
    created = Vault.create(
        ctx.folder,
        passphrase=passphrase,
        use_keyring=ctx.use_keyring,
        kdf_seconds=args.kdf_seconds,
        actor=ACTOR,
    )
    for notice in created.notices:
        print(f"echo-vault-cli: note: {notice}", file=sys.stderr)
    slots_made = ", ".join(sorted(created.vault.keyfile.slots))
    created.vault.lock()
    if args.json:
        output.emit_json(
            {"path": str(ctx.folder), "recovery_key": created.recovery_key, "slots": slots_made}
        )
        return 0
    print(f"created vault in {ctx.folder} (unlock slots: {slots_made})", file=sys.stderr)
    print("Recovery key (shown once; keep it offline, it opens the vault if all else fails):")
    print(created.recovery_key)
    return 0


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    info = inspect(ctx.folder)
    document: dict[str, object] = {
        "path": str(ctx.folder),
        "exists": info.exists,
        "vault_id": info.vault_id,
        "slots": list(info.slots),
        "unlock_retry_after": round(info.retry_after, 1),
        "unlocked": False,
    }
    if info.exists and args.unlock:
        manager = ctx.manager
        document.update(
            unlocked=True,
            unlocked_with=manager.vault.unlock_method,
            secrets=manager.store.count(),
            expiring=[s.name for s in manager.expiring()],
            audit_ok=manager.audit_verify().ok,
        )
    if args.json:
        output.emit_json(document)
    else:
        for key, value in document.items():
            print(f"{key}: {value}")
    return 0 if info.exists else 4


def cmd_passphrase(ctx: Context, args: argparse.Namespace) -> int:
    """Add or change the passphrase slot; only that slot is rewritten."""
    vault = ctx.manager.vault
    if args.action == "add" and "passphrase" in vault.keyfile.slots:
        raise UsageError("this vault already has a passphrase; use `passphrase change`")
    if args.action == "change" and "passphrase" not in vault.keyfile.slots:
        raise UsageError("this vault has no passphrase yet; use `passphrase add`")
    new = ctx.inputs.new_passphrase() if ctx.inputs.interactive() else _new_from_stdin(ctx)
    vault.set_passphrase(new, tune_argon2(args.kdf_seconds))
    print(f"passphrase {'added' if args.action == 'add' else 'changed'}", file=sys.stderr)
    return 0


def _new_from_stdin(ctx: Context) -> str:
    value = ctx.inputs.value_from_stdin()
    if not isinstance(value, str) or len(value) < 8:
        raise UsageError("the new passphrase on stdin must be UTF-8 text of 8+ characters")
    return value


def cmd_keyring(ctx: Context, args: argparse.Namespace) -> int:
    vault = ctx.manager.vault
    if args.action == "seal":
        vault.seal_keyring()
        print("stored the vault key in the system keyring", file=sys.stderr)
    else:
        vault.forget_keyring()
        print("removed the vault key from the system keyring", file=sys.stderr)
    return 0


def cmd_audit(ctx: Context, args: argparse.Namespace) -> int:
    manager = ctx.manager
    if args.what == "find-value":
        events = manager.audit_find_value(ctx.inputs.value_from_stdin())
    else:
        if args.verify:
            result = manager.audit_verify()
            if args.json:
                output.emit_json(
                    {
                        "ok": result.ok,
                        "checked": result.checked,
                        "first_bad_seq": result.first_bad_seq,
                        "reason": result.reason,
                    }
                )
            elif result.ok:
                print(result.message())
            else:
                print(f"echo-vault-cli: error: {result.message()}", file=sys.stderr)
            return 0 if result.ok else 8
        events = manager.audit_events(action=args.action, target=args.target)
    if args.limit:
        events = events[-args.limit :]
    if args.json:
        output.emit_json(
            {
                "events": [
                    {
                        "seq": e.seq,
                        "time": output.iso(e.ts),
                        "actor": e.actor,
                        "action": e.action,
                        "target": e.target,
                        "outcome": e.outcome,
                        "detail": e.detail,
                    }
                    for e in events
                ]
            }
        )
        return 0
    rows = [
        [str(e.seq), output.iso(e.ts) or "", e.actor, e.action, e.target or "", e.outcome]
        for e in events
    ]
    output.table(rows, ["SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME"])
    return 0
