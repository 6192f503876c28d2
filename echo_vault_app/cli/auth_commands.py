"""Auth commands: ``apikey``, ``jwt``, ``user``, ``session`` (plus ``state`` and ``config``).

Keys, tokens and passwords to check are read from stdin or a prompt, never from argv, where
``ps`` and shell history would show them. A key or token that is created is printed once on
stdout (and nothing else is), so ``KEY=$(echo-vault-cli apikey create ...)`` works.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from typing import Any

from echo_vault_app.auth import AuthManager, TokenError
from echo_vault_app.cli import output
from echo_vault_app.cli.context import Context
from echo_vault_app.errors import AuthenticationError, UsageError
from echo_vault_app.state import StateManager

_MAX_TOKEN_INPUT = 64 * 1024


def _auth(ctx: Context) -> AuthManager:
    """An AuthManager on the unlocked vault, issuing tokens for the configured lifetime."""
    vault = ctx.manager.vault
    hours = StateManager(vault=vault).config.get("token_expiry_hours")
    return AuthManager(vault=vault, token_expiry_hours=hours)


def _refuse_argv(args: argparse.Namespace, what: str) -> None:
    """A key or token typed as an argument is refused without echoing it back."""
    if args.given:
        raise UsageError(
            f"the {what} is read from stdin, never from the command line (argv is visible to"
            " other users and kept in shell history); it was not checked"
        )


def _stdin_text(ctx: Context, what: str) -> str:
    """One secret (key, token) from stdin, surrounding whitespace removed."""
    if ctx.inputs.interactive() and not ctx.inputs.passphrase_stdin:
        value: str | bytes = getpass.getpass(f"{what}: ")
    else:
        value = ctx.inputs.value_from_stdin()
    if not isinstance(value, str) or len(value) > _MAX_TOKEN_INPUT:
        raise UsageError(f"the {what} on stdin must be UTF-8 text under 64 KiB")
    text = value.strip()
    if not text:
        raise UsageError(f"no {what} on stdin")
    return text


def _new_password(ctx: Context) -> str:
    """A new account password: asked twice on a terminal, else the rest of stdin."""
    if ctx.inputs.interactive() and not ctx.inputs.passphrase_stdin:
        first = getpass.getpass("New password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise UsageError("the two passwords differ")
        return first
    value = ctx.inputs.value_from_stdin()
    if not isinstance(value, str) or not value:
        raise UsageError("the password on stdin must be non-empty UTF-8 text")
    return value


# -- apikey -------------------------------------------------------------------------------


def _key_json(record: Any) -> dict[str, Any]:
    doc = record.public_dict()
    for name in ("created_at", "expires_at", "revoked_at", "last_used_at"):
        doc[name] = output.iso(doc[name])
    return doc


def cmd_apikey_create(ctx: Context, args: argparse.Namespace) -> int:
    auth = _auth(ctx)
    expires = None if args.expires_days is None else args.expires_days * 86400.0
    key, record = auth.api_keys.generate(
        args.user,
        args.permission or [],
        name=args.name or "",
        roles=args.role or [],
        environment=args.env,
        expires_in=expires,
    )
    if args.json:
        output.emit_json({"key": key, **_key_json(record)})
    else:
        print(key)
        print(f"created API key {record.key_id}; the key is shown only this once", file=sys.stderr)
    return 0


def cmd_apikey_list(ctx: Context, args: argparse.Namespace) -> int:
    records = _auth(ctx).list_api_keys(args.user)
    if args.json:
        output.emit_json({"api_keys": [_key_json(r) for r in records]})
        return 0
    rows = [
        [
            r.key_id,
            r.prefix,
            r.user_id,
            ",".join(r.permissions),
            output.iso(r.expires_at) or "",
            "revoked" if r.revoked_at else "",
        ]
        for r in records
    ]
    output.table(rows, ["ID", "PREFIX", "USER", "PERMISSIONS", "EXPIRES", "STATE"])
    return 0


def cmd_apikey_revoke(ctx: Context, args: argparse.Namespace) -> int:
    record = _auth(ctx).revoke_api_key(args.key_id)
    print(f"revoked API key {record.key_id}", file=sys.stderr)
    return 0


def cmd_apikey_rotate(ctx: Context, args: argparse.Namespace) -> int:
    if args.grace_hours < 0:
        raise UsageError("--grace-hours must be zero or more")
    key = _auth(ctx).rotate_api_key(args.key_id, args.grace_hours * 3600.0)
    print(key)
    print(
        f"issued a successor for {args.key_id}; the old key works for {args.grace_hours:g} more"
        " hour(s)",
        file=sys.stderr,
    )
    return 0


def cmd_apikey_verify(ctx: Context, args: argparse.Namespace) -> int:
    _refuse_argv(args, "API key")
    key = _stdin_text(ctx, "API key")
    result = _auth(ctx).check_api_key(key, args.permission, args.resource)
    document: dict[str, Any] = {"status": result.status.value, "valid": result.ok}
    if result.record is not None:
        document.update(key_id=result.record.key_id, user_id=result.record.user_id)
    if args.json:
        output.emit_json(document)
    else:
        print(result.status.value)
    return 0 if result.ok else AuthenticationError.exit_code


# -- jwt ----------------------------------------------------------------------------------


def _claims(items: list[str] | None) -> dict[str, Any]:
    """``--claim NAME=VALUE``: VALUE is taken as JSON when it parses, else as text."""
    claims: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise UsageError("--claim takes NAME=VALUE")
        try:
            claims[name] = json.loads(text)
        except json.JSONDecodeError:
            claims[name] = text
    return claims


def cmd_jwt_issue(ctx: Context, args: argparse.Namespace) -> int:
    expires = None if args.expires_hours is None else args.expires_hours * 3600.0
    token = _auth(ctx).create_jwt_token(
        args.user,
        args.permission or [],
        _claims(args.claim),
        algorithm=args.alg,
        expires_in=expires,
        audience=args.audience,
        roles=args.role or [],
    )
    print(token)
    return 0


def cmd_jwt_verify(ctx: Context, args: argparse.Namespace) -> int:
    _refuse_argv(args, "token")
    token = _stdin_text(ctx, "token")
    try:
        claims = _auth(ctx).decode_jwt_token(token, audience=args.audience, issuer=args.issuer)
    except TokenError as exc:
        if args.json:
            output.emit_json({"valid": False, "reason": exc.reason})
        print(f"echo-vault-cli: token refused: {exc}", file=sys.stderr)
        return exc.exit_code
    if args.json:
        output.emit_json({"valid": True, "claims": claims})
    else:
        output.emit_json(claims)
    return 0


def _key_row(doc: dict[str, Any]) -> list[str]:
    return [
        doc["kid"],
        doc["alg"],
        doc["source"],
        output.iso(doc["sign_until"]) or "",
        output.iso(doc["retire_at"]) or "",
    ]


def cmd_jwt_keys(ctx: Context, args: argparse.Namespace) -> int:
    keys = _auth(ctx).list_signing_keys()
    if args.json:
        output.emit_json({"keys": keys})
        return 0
    output.table([_key_row(k) for k in keys], ["KID", "ALG", "SOURCE", "SIGNS UNTIL", "RETIRES"])
    return 0


def cmd_jwt_rotate_key(ctx: Context, args: argparse.Namespace) -> int:
    if args.overlap_hours < 0:
        raise UsageError("--overlap-hours must be zero or more")
    key = _auth(ctx).rotate_signing_key(args.alg, overlap=args.overlap_hours * 3600.0)
    print(key.kid)
    print(f"new {key.alg} signing key {key.kid}; older ones keep verifying", file=sys.stderr)
    return 0


def cmd_jwt_jwks(ctx: Context, args: argparse.Namespace) -> int:
    output.emit_json(_auth(ctx).jwks())
    return 0


# -- user and session ---------------------------------------------------------------------


def cmd_user_add(ctx: Context, args: argparse.Namespace) -> int:
    auth = _auth(ctx)
    password = None if args.no_password else _new_password(ctx)
    auth.create_user(
        args.user_id, password, roles=args.role or [], permissions=args.permission or []
    )
    print(f"added user {args.user_id}", file=sys.stderr)
    return 0


def cmd_user_passwd(ctx: Context, args: argparse.Namespace) -> int:
    auth = _auth(ctx)
    auth.users.get(args.user_id)
    auth.users.set_password(args.user_id, _new_password(ctx))
    print(f"changed the password of {args.user_id}", file=sys.stderr)
    return 0


def cmd_user_roles(ctx: Context, args: argparse.Namespace) -> int:
    auth = _auth(ctx)
    if args.set is not None:
        user = auth.users.set_grants(args.user_id, roles=[r for r in args.set if r])
    else:
        user = auth.users.get(args.user_id)
    if args.json:
        output.emit_json({"user_id": user.user_id, "roles": list(user.roles)})
    else:
        print("\n".join(user.roles))
    return 0


def cmd_user_list(ctx: Context, args: argparse.Namespace) -> int:
    users = _auth(ctx).users.list()
    if args.json:
        output.emit_json({"users": [u.describe() for u in users]})
        return 0
    rows = [[u.user_id, ",".join(u.roles), ",".join(u.permissions)] for u in users]
    output.table(rows, ["USER", "ROLES", "PERMISSIONS"])
    return 0


def cmd_session_list(ctx: Context, args: argparse.Namespace) -> int:
    auth = _auth(ctx)
    sessions = auth.sessions.list(args.user, include_ended=args.all)
    now = time.time()
    if args.json:
        output.emit_json({"sessions": [s.describe() for s in sessions]})
        return 0
    rows = [
        [s.session_id, s.user_id, s.method, output.iso(s.last_seen_at) or "", s.state(now)]
        for s in sessions
    ]
    output.table(rows, ["ID", "USER", "METHOD", "LAST SEEN", "STATE"])
    return 0


def cmd_session_revoke(ctx: Context, args: argparse.Namespace) -> int:
    _auth(ctx).revoke_session(args.session_id)
    print(f"revoked session {args.session_id}", file=sys.stderr)
    return 0


# -- parsers ------------------------------------------------------------------------------


def _apikey_parsers(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("apikey", help="create, list, revoke, rotate and verify API keys")
    cmds = group.add_subparsers(dest="apikey_command", metavar="ACTION", required=True)

    p = cmds.add_parser("create", help="create a key (printed once on stdout)")
    p.add_argument("--user", required=True)
    p.add_argument("--permission", "-p", action="append", help="grant, e.g. secrets:read")
    p.add_argument("--role", action="append")
    p.add_argument("--name")
    p.add_argument("--env", default="live", help="environment word in the key (live, test...)")
    p.add_argument("--expires-days", type=float)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_apikey_create)

    p = cmds.add_parser("list", help="list keys (never the keys themselves)")
    p.add_argument("--user")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_apikey_list)

    p = cmds.add_parser("revoke", help="revoke a key by its id")
    p.add_argument("key_id")
    p.set_defaults(func=cmd_apikey_revoke)

    p = cmds.add_parser("rotate", help="issue a successor; the old key works during the grace")
    p.add_argument("key_id")
    p.add_argument("--grace-hours", type=float, default=24.0)
    p.set_defaults(func=cmd_apikey_rotate)

    p = cmds.add_parser("verify", help="check a key read from stdin; exit 0 only when valid")
    p.add_argument("--permission")
    p.add_argument("--resource")
    p.add_argument("--json", action="store_true")
    p.add_argument("given", nargs="*", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_apikey_verify)


def _jwt_parsers(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("jwt", help="issue and verify JWTs, manage signing keys")
    cmds = group.add_subparsers(dest="jwt_command", metavar="ACTION", required=True)

    p = cmds.add_parser("issue", help="sign a token for a user (printed on stdout)")
    p.add_argument("--user", required=True)
    p.add_argument("--permission", "-p", action="append")
    p.add_argument("--role", action="append")
    p.add_argument("--claim", action="append", metavar="NAME=VALUE")
    p.add_argument("--alg", choices=["HS256", "EdDSA", "ES256"])
    p.add_argument("--expires-hours", type=float)
    p.add_argument("--audience")
    p.set_defaults(func=cmd_jwt_issue)

    p = cmds.add_parser("verify", help="verify a token read from stdin and print its claims")
    p.add_argument("--audience")
    p.add_argument("--issuer")
    p.add_argument("--json", action="store_true")
    p.add_argument("given", nargs="*", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_jwt_verify)

    p = cmds.add_parser("keys", help="list signing keys (no key material)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_jwt_keys)

    p = cmds.add_parser("rotate-key", help="start a new signing key; old ones keep verifying")
    p.add_argument("alg", choices=["HS256", "EdDSA", "ES256"])
    p.add_argument("--overlap-hours", type=float, default=24.0)
    p.set_defaults(func=cmd_jwt_rotate_key)

    p = cmds.add_parser("jwks", help="print the public JWKS")
    p.set_defaults(func=cmd_jwt_jwks)


def _user_parsers(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("user", help="accounts for the local API")
    cmds = group.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    p = cmds.add_parser("add", help="add a user (password from a prompt or stdin)")
    p.add_argument("user_id")
    p.add_argument("--role", action="append")
    p.add_argument("--permission", "-p", action="append")
    p.add_argument("--no-password", action="store_true", help="API-key login only")
    p.set_defaults(func=cmd_user_add)

    p = cmds.add_parser("passwd", help="set a user's password (prompt or stdin)")
    p.add_argument("user_id")
    p.set_defaults(func=cmd_user_passwd)

    p = cmds.add_parser("roles", help="show a user's roles, or replace them with --set")
    p.add_argument("user_id")
    p.add_argument("--set", action="append", metavar="ROLE", help="repeat; --set '' for none")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_user_roles)

    p = cmds.add_parser("list", help="list users")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_user_list)

    group = sub.add_parser("session", help="list and revoke login sessions")
    cmds = group.add_subparsers(dest="session_command", metavar="ACTION", required=True)
    p = cmds.add_parser("list", help="live sessions (--all: ended ones too)")
    p.add_argument("--user")
    p.add_argument("--all", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_session_list)
    p = cmds.add_parser("revoke", help="end a session now")
    p.add_argument("session_id")
    p.set_defaults(func=cmd_session_revoke)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the auth, state and config command groups to ``echo-vault-cli``, and the ``auth``
    and ``state`` sections to the backups its ``export`` writes and ``import`` reads."""
    from echo_vault_app.auth import backup_section as auth_backup
    from echo_vault_app.cli import state_commands
    from echo_vault_app.state import backup_section as state_backup

    # `export` and `import` in this CLI carry auth records and state with the secrets.
    auth_backup.register()
    state_backup.register()
    _apikey_parsers(sub)
    _jwt_parsers(sub)
    _user_parsers(sub)
    state_commands.register(sub)
