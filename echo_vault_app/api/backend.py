"""What the endpoints work on: the current secrets manager, its AuthManager and rate limits.

The server does not own the vault. The CLI hands it a manager it unlocked; the desktop app hands
it a function that returns the app's manager, or ``None`` while the vault is locked. Requests
arriving while no unlocked vault is available are answered 423.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, TypeVar

from echo_vault_app.api.config import RateLimits
from echo_vault_app.api.ratelimit import SharedTokenBuckets, TokenBuckets
from echo_vault_app.auth import AuthManager
from echo_vault_app.core.grouped import Outcome, outcome_of, run_grouped
from echo_vault_app.errors import EchoVaultError, VaultLocked
from echo_vault_app.secrets import SecretsManager

log = logging.getLogger(__name__)

ManagerSource = Callable[[], SecretsManager | None]
T = TypeVar("T")

WORKER_THREADS = 16
"""Requests handed to the library at once (it serialises on the vault's connection anyway)."""

GROUP_MAX = 64
"""Short requests run under one commit at most."""


def _token_expiry_hours(vault: Any) -> float | None:
    """The user's configured JWT lifetime, when the settings store is available."""
    try:
        from echo_vault_app.state import StateManager

        return StateManager(vault=vault).config.get("token_expiry_hours")
    except ImportError:
        return None


class LoginLimits(NamedTuple):
    """The buckets that slow down password guessing: per user name and per client address."""

    by_user: TokenBuckets | SharedTokenBuckets
    by_client: TokenBuckets | SharedTokenBuckets


def shared_login_limits(limits: RateLimits) -> LoginLimits:
    """Login buckets for worker processes, to be made before they are forked."""
    return LoginLimits(
        SharedTokenBuckets(limits.user_burst, limits.user_per_minute),
        SharedTokenBuckets(limits.client_burst, limits.client_per_minute),
    )


class Backend:
    """Resolves the unlocked vault per request and keeps one AuthManager per vault.

    ``login_limits`` comes from :func:`shared_login_limits` when several worker processes
    serve one vault; by default the buckets live in this process.
    """

    def __init__(
        self,
        source: SecretsManager | ManagerSource,
        limits: RateLimits,
        login_limits: LoginLimits | None = None,
    ) -> None:
        self._source: ManagerSource = source if callable(source) else (lambda: source)
        self._lock = threading.Lock()
        self._auth: AuthManager | None = None
        self._auth_vault: Any = None
        if login_limits is None:
            login_limits = LoginLimits(
                TokenBuckets(limits.user_burst, limits.user_per_minute),
                TokenBuckets(limits.client_burst, limits.client_per_minute),
            )
        self.login_by_user, self.login_by_client = login_limits
        # The library blocks (SQLCipher, Argon2id), so handlers run on these threads. A plain
        # executor costs far less per request than a task-group hop through AnyIO.
        self._executor = ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="echo-vault-api")
        self._queue: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._queue_loop: asyncio.AbstractEventLoop | None = None
        self._draining = False
        self._drainer: asyncio.Task[None] | None = None

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run blocking library work off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)

    async def run_short(self, work: Callable[..., T], *args: Any) -> T:
        """Run short library work on the event loop, grouped with others under one commit.

        Most requests are a lookup and an audit row, well under a millisecond, and both the hop
        to a worker thread and back (two wake-ups, the interpreter lock changing hands) and the
        commit of each audit row cost more than the lookup. Requests that arrive together are
        therefore run together in one write transaction (:mod:`echo_vault_app.core.grouped`);
        each is answered only after that commit. The group runs in place when every lock it
        needs is free, so it cannot stall the loop waiting on another thread or process; when
        one is taken (the desktop app, a long request, a writer in another process), the group
        waits for it on a worker thread while later requests queue behind it.
        """
        loop = asyncio.get_running_loop()
        if self._queue_loop is not loop:
            self._queue, self._queue_loop, self._draining = [], loop, False
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append((functools.partial(work, *args), future))
        if not self._draining:
            self._draining = True
            self._drainer = loop.create_task(self._drain())  # referenced, so never collected
        return await future

    async def _drain(self) -> None:
        group: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        try:
            while self._queue:
                group, self._queue = self._queue[:GROUP_MAX], self._queue[GROUP_MAX:]
                operations = [operation for operation, _ in group]
                try:
                    outcomes = await self._run_group(operations)
                except Exception as exc:  # the vault was locked meanwhile, or its keys moved
                    outcomes = [Outcome(None, exc)] * len(group)
                for (_, future), outcome in zip(group, outcomes, strict=True):
                    if future.done():
                        continue
                    if outcome.error is None:
                        future.set_result(outcome.value)
                    else:
                        future.set_exception(outcome.error)
                await self._gather()
        except asyncio.CancelledError:  # the server is stopping: no request waits forever
            for _, future in group + self._queue:
                future.cancel()
            raise
        finally:
            self._draining = False

    async def _gather(self) -> None:
        """Let answers go out and the requests that came in meanwhile join the queue.

        A request read from its socket reaches the queue one pass of the event loop later, so
        the loop turns until a pass adds nothing (or a group is full): fewer, larger groups
        share their commits.
        """
        while True:
            waiting = len(self._queue)
            await asyncio.sleep(0)
            if len(self._queue) == waiting or len(self._queue) >= GROUP_MAX:
                return

    async def _run_group(self, operations: list[Callable[[], Any]]) -> list[Outcome]:
        manager = self._source()
        if manager is None or manager.vault.is_locked:
            return [outcome_of(operation) for operation in operations]  # each answers 423
        vault = manager.vault
        outcomes = run_grouped(vault, operations, wait=False)
        if outcomes is None:
            outcomes = await self.run(run_grouped, vault, operations)
        assert outcomes is not None
        return outcomes

    def manager(self) -> SecretsManager:
        """The unlocked manager; raises ``VaultLocked`` when there is none right now."""
        manager = self._source()
        if manager is None or manager.vault.is_locked:
            raise VaultLocked("the vault is locked; unlock it in Echo Vault first")
        return manager

    def auth(self) -> AuthManager:
        """The AuthManager of the current vault, built again when the vault changes."""
        vault = self.manager().vault
        with self._lock:
            if self._auth is None or self._auth_vault is not vault:
                self._auth = AuthManager(vault=vault, token_expiry_hours=_token_expiry_hours(vault))
                self._auth_vault = vault
                log.info("prepared API authentication for vault %s", vault.vault_id)
            return self._auth

    def close(self) -> None:
        """Write batched auth bookkeeping (API-key last-used times) while the vault is open."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            auth, vault = self._auth, self._auth_vault
            self._auth = self._auth_vault = None
        if auth is None or vault.is_locked:
            return
        try:
            auth.close()
        except EchoVaultError as exc:
            log.warning("could not write API-key bookkeeping at shutdown: %s", type(exc).__name__)
