"""``echo-vault-cli`` entry point: argument parsing, dispatch and one-line errors.

Exit status (documented in README): 0 success, 1 unexpected failure, 2 usage, 3 authentication,
4 locked or no vault, 5 damaged file, 6 not found, 7 conflict or busy, 8 audit, 9 storage.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from echo_vault_app import __version__
from echo_vault_app.cli import secret_commands as sc
from echo_vault_app.cli import vault_commands as vc
from echo_vault_app.cli.context import Context
from echo_vault_app.cli.launch import command_word, io_failure
from echo_vault_app.errors import EchoVaultError, StorageError
from echo_vault_app.log import configure

log = logging.getLogger(__name__)

Command = Callable[[Context, argparse.Namespace], int]


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized to the terminal without importing ``shutil``.

    argparse builds a formatter for every ``add_argument`` and asks ``shutil`` for the width,
    whose import (with bz2 and lzma) costs every call of the CLI about 3 ms.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    """``COLUMNS``, else the width of the terminal on stdout, else 80 (as ``shutil`` decides)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus error; users of a vault CLI get one line and exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _set_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("set", help="store a secret (values from a prompt, stdin or files)")
    p.add_argument("name")
    p.add_argument("--template", "-t", help="credential template id (see `templates`)")
    p.add_argument(
        "--field",
        "-f",
        action="append",
        metavar="NAME=VALUE",
        help="a NON-secret field such as a user name or URL; secret fields are refused here",
    )
    p.add_argument(
        "--from-file",
        action="append",
        metavar="[FIELD=]PATH",
        help="read a field's value from a file (the primary secret field when FIELD is left out)",
    )
    p.add_argument("--stdin", action="store_true", help="read the primary value from stdin")
    p.add_argument("--ask-all", action="store_true", help="also prompt for optional secrets")
    p.add_argument("--tag", action="append", help="tag (repeatable)")
    p.add_argument("--notes-file", metavar="PATH")
    p.add_argument("--expires", metavar="DATE", help="ISO date, e.g. 2027-01-31")
    p.add_argument("--expected-version", type=int, help="fail unless the current version is N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=sc.cmd_set)


def _get_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("get", help="print a value (on a terminal only with --show)")
    p.add_argument("name")
    p.add_argument("--field", "-f")
    p.add_argument("--show", action="store_true", help="print even when stdout is a terminal")
    p.add_argument("--json", action="store_true", help="whole secret with fields as JSON")
    p.set_defaults(func=sc.cmd_get)


def _clip_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("clip", help="copy a value to the clipboard and clear it again")
    p.add_argument("name")
    p.add_argument("--field", "-f")
    p.add_argument("--seconds", type=int, default=10)
    p.set_defaults(func=sc.cmd_clip)


def _list_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list secret names")
    p.add_argument("--tag")
    p.add_argument("--prefix")
    p.add_argument("--trash", action="store_true", help="list the trash instead")
    p.add_argument("--long", "-l", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=sc.cmd_list)


def _search_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="search names, tags, notes and non-secret fields")
    p.add_argument("query")
    p.add_argument("--limit", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=sc.cmd_search)


def _rm_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rm", help="move a secret to the trash")
    p.add_argument("name")
    p.add_argument("--purge", action="store_true", help="delete for good, skipping the trash")
    p.set_defaults(func=sc.cmd_rm)


def _restore_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("restore", help="bring a secret back from the trash")
    p.add_argument("name")
    p.set_defaults(func=sc.cmd_restore)


def _trash_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trash", help="list or empty the trash")
    p.add_argument("--empty", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=sc.cmd_trash)


def _history_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="list a secret's versions, or restore one")
    p.add_argument("name")
    p.add_argument("--restore", type=int, metavar="VERSION")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=sc.cmd_history)


def _expiring_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("expiring", help="secrets that expired or expire soon")
    p.add_argument("--days", type=float, default=3)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=sc.cmd_expiring)


def _templates_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("templates", help="list credential templates")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=sc.cmd_templates)


def _init_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="create a vault (prints the recovery key once)")
    p.add_argument("--kdf-seconds", type=float, default=0.5, help="Argon2id time target")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=vc.cmd_init)


def _status_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="where the vault is and how it unlocks")
    p.add_argument("--unlock", action="store_true", help="also unlock and count secrets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=vc.cmd_status)


def _passphrase_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("passphrase", help="add or change the passphrase")
    p.add_argument("action", choices=["add", "change"])
    p.add_argument("--kdf-seconds", type=float, default=0.5)
    p.set_defaults(func=vc.cmd_passphrase)


def _keyring_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keyring", help="keep the vault key in the system keyring, or not")
    p.add_argument("action", choices=["seal", "forget"])
    p.set_defaults(func=vc.cmd_keyring)


def _audit_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="show or verify the audit trail")
    p.add_argument("what", nargs="?", choices=["find-value"], help="find-value: value on stdin")
    p.add_argument("--verify", action="store_true")
    p.add_argument("--action")
    p.add_argument("--target")
    p.add_argument("--limit", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=vc.cmd_audit)


# The vault's own commands, each built only when named (argparse and its gettext look-ups
# cost about a millisecond per sub-command, paid by every `get`).
CORE: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "init": _init_parser,
    "status": _status_parser,
    "passphrase": _passphrase_parser,
    "keyring": _keyring_parser,
    "audit": _audit_parser,
    "set": _set_parser,
    "get": _get_parser,
    "clip": _clip_parser,
    "list": _list_parser,
    "search": _search_parser,
    "rm": _rm_parser,
    "restore": _restore_parser,
    "trash": _trash_parser,
    "history": _history_parser,
    "expiring": _expiring_parser,
    "templates": _templates_parser,
}


# Command groups that pull in heavy libraries (PyJWT, Starlette, uvicorn…) are imported only
# when their command runs, so `get` and `search` start in a fraction of the time.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "echo_vault_app.cli.key_commands": ("rotate", "recovery-key", "reseal"),
    "echo_vault_app.cli.backup_commands": ("export", "import", "run", "inject"),
    "echo_vault_app.cli.auth_commands": ("apikey", "jwt", "user", "session", "state", "config"),
    "echo_vault_app.cli.serve_commands": ("serve",),
    "echo_vault_app.cli.agent_commands": ("agent",),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: with every command group when ``argv`` is None."""
    parser = OneLineParser(
        prog="echo-vault-cli",
        description="Echo Vault: encrypted secrets for developers. Values are never taken from"
        " the command line: use the prompt, stdin or a file.",
    )
    parser.add_argument("--version", action="version", version=f"echo-vault {__version__}")
    parser.add_argument("--vault", metavar="PATH", help="vault folder (default: ECHO_VAULT_PATH)")
    parser.add_argument("--passphrase-stdin", action="store_true", help="first stdin line")
    parser.add_argument("--passphrase-file", metavar="PATH")
    parser.add_argument(
        "--recovery-key-stdin",
        action="store_true",
        help="unlock with the recovery key, read from the first stdin line",
    )
    parser.add_argument("--no-keyring", action="store_true", help="do not use the OS keyring")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    args = list(argv or [])
    word = command_word(args)
    owners = [module for module, words in EXTENSIONS.items() if word in words]
    wants_all = (
        argv is None
        or (word is None and ("-h" in args or "--help" in args))
        or (word is not None and not owners and word not in CORE)
    )
    for name, add in CORE.items():
        if wants_all or name == word:
            add(sub)
    for module_name in owners or (list(EXTENSIONS) if wants_all else []):
        module = __import__(module_name, fromlist=["register"])
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Errors reach the user as one line each; log records only when asked for.
    configure(default_level="ERROR")
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    ctx = Context(args)
    try:
        return execute(ctx, args)
    finally:
        ctx.close()


def execute(ctx: Context, args: argparse.Namespace) -> int:
    """Run a parsed command; every failure becomes one line on stderr and its exit status."""
    try:
        return args.func(ctx, args)
    except EchoVaultError as exc:
        print(f"echo-vault-cli: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("echo-vault-cli: interrupted; nothing further was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        # The vault's own I/O failures arrive as EchoVaultError; a bare OSError is the
        # command reading or writing a stream or file of the user's (`> file` on a full disk).
        print(io_failure(exc), file=sys.stderr)
        return StorageError.exit_code
    except Exception as exc:
        log.debug("unexpected failure", exc_info=True)
        print(
            f"echo-vault-cli: error: unexpected {type(exc).__name__}; "
            "run with ECHO_VAULT_LOG_LEVEL=DEBUG for details",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
