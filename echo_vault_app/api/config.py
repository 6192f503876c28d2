"""What the server binds to and which requests it lets through, checked before it starts.

Safe by default: loopback only. Any other address needs ``allow_remote`` *and* a TLS
certificate and key, because the API carries secrets and credentials in the clear otherwise.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from echo_vault_app.errors import UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 16
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    """True for names and addresses that never leave this machine.

    >>> is_loopback("::1"), is_loopback("0.0.0.0")
    (True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class RateLimits:
    """Token buckets for login-like requests: ``burst`` tries at once, then ``per_minute``."""

    user_burst: int = 5
    user_per_minute: float = 6.0
    client_burst: int = 30
    client_per_minute: float = 60.0


@dataclass(frozen=True)
class ServerConfig:
    """Where to listen and what to accept.

    Args:
        host, port: the TCP address (ignored when ``socket_path`` is set); port 0 picks a free
            port when the server starts.
        socket_path: serve on a Unix socket instead (created 0600).
        allow_remote: permit a non-loopback ``host``; needs ``tls_cert`` and ``tls_key``.
        allowed_hosts: extra ``Host`` header values to accept (names without port), needed
            when binding a wildcard address such as ``0.0.0.0``.
        cors_origins: browser origins allowed to call the API; empty means every request
            carrying an ``Origin`` header is refused.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    socket_path: Path | None = None
    allow_remote: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = MAX_BODY_BYTES
    max_json_depth: int = MAX_JSON_DEPTH
    rate_limits: RateLimits = field(default_factory=RateLimits)

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def check(self) -> None:
        """Refuse unsafe or incomplete settings before anything listens.

        Raises:
            UsageError: a remote address without the flag or without TLS, half a TLS pair,
                a wildcard address without ``allowed_hosts``, or an impossible port.
        """
        if (self.tls_cert is None) != (self.tls_key is None):
            raise UsageError("TLS needs both a certificate and a key")
        for path in (self.tls_cert, self.tls_key):
            if path is not None and not Path(path).is_file():
                raise UsageError(f"TLS file {path} does not exist")
        if self.socket_path is not None:
            return
        if not 0 <= self.port <= 65535:
            raise UsageError("the port must be between 0 and 65535")
        if is_loopback(self.host):
            return
        if not self.allow_remote:
            raise UsageError(
                f"{self.host} is not a loopback address; add --allow-remote (with TLS) to serve it"
            )
        if not self.tls:
            raise UsageError("serving beyond loopback needs --tls-cert and --tls-key")
        if self._wildcard() and not self.allowed_hosts:
            raise UsageError(f"binding {self.host} needs --allowed-host naming this machine")

    def _wildcard(self) -> bool:
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_unspecified
        except ValueError:
            return False

    def host_names(self, port: int) -> frozenset[str]:
        """The ``Host`` header values (lower case) the server answers on ``port``."""
        if is_loopback(self.host):
            names = list(LOOPBACK_NAMES)
        else:
            host = self.host
            if ":" in host and not host.startswith("["):
                host = f"[{host}]"
            names = [] if self._wildcard() else [host.lower()]
        names += [name.lower() for name in self.allowed_hosts]
        default_port = 443 if self.tls else 80
        accepted = {f"{name}:{port}" for name in names}
        if port == default_port:
            accepted |= set(names)
        return frozenset(accepted)
