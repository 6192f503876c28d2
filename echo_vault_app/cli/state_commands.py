"""State and settings commands: ``state get|set|delete|list|agents|agent``, ``config ...``.

Session state values are JSON read from stdin (``echo '{"tab": 3}' | echo-vault-cli state set
S K``), like every other value. Settings are not secret, so ``config set NAME VALUE`` takes the
value as an argument.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from echo_vault_app.cli import output
from echo_vault_app.cli.context import Context
from echo_vault_app.errors import UsageError
from echo_vault_app.state import StateManager


def _state(ctx: Context) -> StateManager:
    return StateManager(vault=ctx.manager.vault)


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def cmd_state_get(ctx: Context, args: argparse.Namespace) -> int:
    value = _state(ctx).sessions.get(args.session_id, args.key)
    if args.json:
        output.emit_json({"session_id": args.session_id, "key": args.key, "value": value})
    else:
        print(_show(value))
    return 0


def cmd_state_set(ctx: Context, args: argparse.Namespace) -> int:
    state = _state(ctx)
    raw = ctx.inputs.value_from_stdin()
    if not isinstance(raw, str):
        raise UsageError("the value on stdin must be UTF-8 text")
    try:
        value = raw if args.text else json.loads(raw)
    except json.JSONDecodeError:
        raise UsageError(
            "the value on stdin is not JSON (use --text to store it as text)"
        ) from None
    state.sessions.set(args.session_id, args.key, value)
    return 0


def cmd_state_delete(ctx: Context, args: argparse.Namespace) -> int:
    state = _state(ctx)
    if args.key is None:
        count = state.sessions.clear(args.session_id)
        print(f"cleared {count} key(s) of session {args.session_id}", file=sys.stderr)
    elif not state.sessions.delete(args.session_id, args.key):
        print(f"session {args.session_id} had no key {args.key}", file=sys.stderr)
    return 0


def cmd_state_list(ctx: Context, args: argparse.Namespace) -> int:
    state = _state(ctx)
    if args.session_id is None:
        sessions = state.sessions.sessions()
        if args.json:
            output.emit_json({"sessions": sessions})
        else:
            output.table([[s, str(n)] for s, n in sessions.items()], ["SESSION", "KEYS"])
        return 0
    items = state.sessions.items(args.session_id)
    if args.json:
        output.emit_json({"session_id": args.session_id, "values": items})
    else:
        output.table([[k, _show(v)[:60]] for k, v in items.items()], ["KEY", "VALUE"])
    return 0


def _agent_json(agent: Any, with_state: bool) -> dict[str, Any]:
    doc = agent.describe()
    for name in ("registered_at", "last_heartbeat", "state_updated_at"):
        doc[name] = output.iso(doc[name])
    if with_state:
        doc["state"] = agent.state
    return doc


def cmd_state_agents(ctx: Context, args: argparse.Namespace) -> int:
    state = _state(ctx)
    if args.stale is not None:
        agents = state.list_stale_agents(args.stale)
    else:
        agents = state.list_agents(args.kind)
    if args.json:
        output.emit_json({"agents": [_agent_json(a, False) for a in agents]})
        return 0
    rows = [
        [a.agent_id, a.kind, a.status, str(a.version), output.iso(a.last_heartbeat) or ""]
        for a in agents
    ]
    output.table(rows, ["AGENT", "KIND", "STATUS", "VERSION", "LAST HEARTBEAT"])
    return 0


def cmd_state_agent(ctx: Context, args: argparse.Namespace) -> int:
    state = _state(ctx)
    if args.remove:
        state.unregister_agent(args.agent_id)
        print(f"removed agent {args.agent_id}", file=sys.stderr)
        return 0
    output.emit_json(_agent_json(state.get_agent(args.agent_id), True))
    return 0


def cmd_config_get(ctx: Context, args: argparse.Namespace) -> int:
    print(_show(_state(ctx).config.get(args.name)))
    return 0


def cmd_config_set(ctx: Context, args: argparse.Namespace) -> int:
    stored = _state(ctx).config.set(args.name, args.value)
    print(f"{args.name} = {_show(stored)}", file=sys.stderr)
    return 0


def cmd_config_reset(ctx: Context, args: argparse.Namespace) -> int:
    default = _state(ctx).config.reset(args.name)
    print(f"{args.name} = {_show(default)} (default)", file=sys.stderr)
    return 0


def cmd_config_list(ctx: Context, args: argparse.Namespace) -> int:
    described = _state(ctx).config.describe()
    if args.json:
        output.emit_json({"settings": described})
        return 0
    rows = [[d["name"], _show(d["value"]), _show(d["default"]), d["bounds"]] for d in described]
    output.table(rows, ["SETTING", "VALUE", "DEFAULT", "ACCEPTS"])
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("state", help="session state and agent state")
    cmds = group.add_subparsers(dest="state_command", metavar="ACTION", required=True)

    p = cmds.add_parser("get", help="print one session state value")
    p.add_argument("session_id")
    p.add_argument("key")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_state_get)

    p = cmds.add_parser("set", help="store a session state value: JSON from stdin")
    p.add_argument("session_id")
    p.add_argument("key")
    p.add_argument("--text", action="store_true", help="store stdin as a string, not JSON")
    p.set_defaults(func=cmd_state_set)

    p = cmds.add_parser("delete", help="delete one key, or every key of the session")
    p.add_argument("session_id")
    p.add_argument("key", nargs="?")
    p.set_defaults(func=cmd_state_delete)

    p = cmds.add_parser("list", help="sessions holding state, or one session's keys")
    p.add_argument("session_id", nargs="?")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_state_list)

    p = cmds.add_parser("agents", help="registered agents (--stale SECONDS: silent ones)")
    p.add_argument("--kind")
    p.add_argument("--stale", type=float, metavar="SECONDS")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_state_agents)

    p = cmds.add_parser("agent", help="one agent with its state document, or --remove it")
    p.add_argument("agent_id")
    p.add_argument("--remove", action="store_true")
    p.set_defaults(func=cmd_state_agent)

    group = sub.add_parser("config", help="settings: auto-lock, clipboard, token expiry...")
    cmds = group.add_subparsers(dest="config_command", metavar="ACTION", required=True)

    p = cmds.add_parser("get", help="print a setting")
    p.add_argument("name")
    p.set_defaults(func=cmd_config_get)

    p = cmds.add_parser("set", help="change a setting (checked against its bounds)")
    p.add_argument("name")
    p.add_argument("value")
    p.set_defaults(func=cmd_config_set)

    p = cmds.add_parser("reset", help="put a setting back to its default")
    p.add_argument("name")
    p.set_defaults(func=cmd_config_reset)

    p = cmds.add_parser("list", help="every setting with its value, default and bounds")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_config_list)
