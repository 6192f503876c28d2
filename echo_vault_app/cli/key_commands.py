"""Key commands: rotate the data key, re-issue the recovery key, re-seal the vault key."""

from __future__ import annotations

import argparse
import sys

from echo_vault_app.cli.context import Context
from echo_vault_app.core.crypto import tune_argon2
from echo_vault_app.core.rotation import reissue_recovery_key, reseal_vault_key


def cmd_rotate(ctx: Context, args: argparse.Namespace) -> int:
    result = ctx.manager.rotate_master_key()
    resumed = " (finished an interrupted rotation)" if result.resumed else ""
    print(
        f"rotated the data key to version {result.new_version}: {result.resealed} values"
        f" re-sealed in {result.seconds:.2f} s{resumed}",
        file=sys.stderr,
    )
    return 0


def cmd_recovery(ctx: Context, args: argparse.Namespace) -> int:
    text = reissue_recovery_key(ctx.manager.vault)
    print("New recovery key (the old one no longer works; shown once):", file=sys.stderr)
    print(text)
    return 0


def cmd_reseal(ctx: Context, args: argparse.Namespace) -> int:
    """A new vault key with every slot rewritten; asks for the passphrase to keep (or a new one)."""
    vault = ctx.manager.vault
    passphrase = None
    if "passphrase" in vault.keyfile.slots:
        passphrase = ctx.inputs.new_passphrase() if ctx.inputs.interactive() else None
        if passphrase is None:
            value = ctx.inputs.value_from_stdin()
            passphrase = value if isinstance(value, str) else None
    text, notices = reseal_vault_key(
        vault, passphrase=passphrase, params=tune_argon2(args.kdf_seconds)
    )
    for notice in notices:
        print(f"echo-vault-cli: note: {notice}", file=sys.stderr)
    print("Vault key re-sealed. New recovery key (shown once):", file=sys.stderr)
    print(text)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rotate", help="replace the data key (all unlock methods keep working)")
    p.set_defaults(func=cmd_rotate)

    p = sub.add_parser("recovery-key", help="issue a new recovery key; the old one stops working")
    p.set_defaults(func=cmd_recovery)

    p = sub.add_parser(
        "reseal",
        help="new vault key, every slot rewritten (new recovery key; passphrase on stdin)",
    )
    p.add_argument("--kdf-seconds", type=float, default=0.5)
    p.set_defaults(func=cmd_reseal)
