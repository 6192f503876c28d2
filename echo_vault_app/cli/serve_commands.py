"""``echo-vault-cli serve``: the local REST API on loopback (or a Unix socket) until stopped."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from echo_vault_app.api.config import DEFAULT_HOST, DEFAULT_PORT, ServerConfig
from echo_vault_app.cli.context import Context
from echo_vault_app.errors import UsageError
from echo_vault_app.log import configure

MAX_WORKERS = 64


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the local REST API (loopback only by default)")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    p.add_argument("--socket", metavar="PATH", help="serve on a Unix socket (mode 0600) instead")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (needs --tls-cert and --tls-key)",
    )
    p.add_argument("--tls-cert", metavar="PATH")
    p.add_argument("--tls-key", metavar="PATH")
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another Host header name to answer (needed for wildcard addresses)",
    )
    p.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin allowed to call the API (none by default)",
    )
    p.add_argument("--access-log", action="store_true", help="log each request to stderr")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="serve from N processes, for more requests per second on several cores (default 1)",
    )
    p.set_defaults(func=cmd_serve)


def cmd_serve(ctx: Context, args: argparse.Namespace) -> int:
    from pathlib import Path

    from echo_vault_app.api.server import serve_forever

    config = ServerConfig(
        host=args.host,
        port=args.port,
        socket_path=Path(args.socket) if args.socket else None,
        allow_remote=args.allow_remote,
        tls_cert=Path(args.tls_cert) if args.tls_cert else None,
        tls_key=Path(args.tls_key) if args.tls_key else None,
        allowed_hosts=tuple(args.allowed_host),
        cors_origins=tuple(args.cors_origin),
    )
    config.check()  # refuse unsafe settings before the vault is even unlocked
    if not 1 <= args.workers <= MAX_WORKERS:
        raise UsageError(f"--workers must be between 1 and {MAX_WORKERS}")
    if args.workers > 1 and not hasattr(os, "fork"):
        raise UsageError("--workers above 1 needs a system with fork (Linux, macOS)")
    if args.access_log:
        configure(default_level="WARNING")
        logging.getLogger("echo_vault_app.api.access").setLevel(logging.INFO)
    manager = ctx.manager

    def ready(url: str) -> None:
        print(f"echo-vault-cli: serving the vault API at {url} (Ctrl+C stops)", file=sys.stderr)
        sys.stderr.flush()

    serve_forever(manager, config, on_ready=ready, workers=args.workers)
    return 0
