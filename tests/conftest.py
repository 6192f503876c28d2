"""Shared fixtures: isolated vault folders, a real Secret Service, and a CLI runner.

Every test runs with ``ECHO_VAULT_PATH`` in its own temporary folder and with the OS keyring
switched off, unless it asks for ``secret_service``: that fixture starts gnome-keyring inside a
private D-Bus session (once per test run) and turns the keyring back on for the test. With
``ECHO_VAULT_REQUIRE_REAL_KEYRING=1`` (set by CI) a Secret Service that cannot be started fails
the tests that need it instead of skipping them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _isolated_vault_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ECHO_VAULT_PATH", str(tmp_path / "vault"))
    monkeypatch.setenv("ECHO_VAULT_NO_KEYRING", "1")
    monkeypatch.delenv("ECHO_VAULT_MASTER_KEY", raising=False)
    monkeypatch.delenv("ECHO_VAULT_SECRET_KEY", raising=False)
    monkeypatch.delenv("ECHO_VAULT_ENABLE_AUDIT", raising=False)
    monkeypatch.delenv("ECHO_VAULT_LOG_LEVEL", raising=False)


@pytest.fixture
def vault_dir(tmp_path) -> Path:
    return tmp_path / "vault"


@dataclass
class SecretService:
    env: dict[str, str]
    home: Path

    def backend(self):
        from keyring.backends.SecretService import Keyring

        return Keyring()


def _start_secret_service(root: Path) -> tuple[SecretService, list[int]]:
    for tool in ("dbus-daemon", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (apt-get install dbus gnome-keyring)")
    home = root / "home"
    (home / ".local/share/keyrings").mkdir(parents=True)
    env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"))
    env.pop("GNOME_KEYRING_CONTROL", None)
    bus = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=True,
    )
    address, pid = bus.stdout.split()[:2]
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    keyring_daemon = subprocess.run(
        ["gnome-keyring-daemon", "--unlock", "--components=secrets", "--daemonize"],
        input="echo-vault-test-login",
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=True,
    )
    for line in keyring_daemon.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            env[key] = value
    # Only this session's bus is stopped: its gnome-keyring-daemon leaves with it. Killing
    # every gnome-keyring-daemon would take down other tests' Secret Services too.
    keys = ("HOME", "XDG_DATA_HOME", "DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL")
    return SecretService({k: env[k] for k in keys if k in env}, home), [int(pid)]


@pytest.fixture(scope="session")
def _secret_service_session(tmp_path_factory):
    required = os.environ.get("ECHO_VAULT_REQUIRE_REAL_KEYRING") == "1"
    try:
        service, pids = _start_secret_service(tmp_path_factory.mktemp("secret-service"))
        # Prove it works end to end before any test relies on it.
        saved = {k: os.environ.get(k) for k in service.env}
        os.environ.update(service.env)
        try:
            backend = service.backend()
            backend.set_password("echo-vault-selftest", "probe", "ok")
            assert backend.get_password("echo-vault-selftest", "probe") == "ok"
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    except Exception as exc:
        if required:
            pytest.fail(f"a real Secret Service is required but did not start: {exc}")
        pytest.skip(f"no Secret Service available: {exc}")
    yield service
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


@pytest.fixture
def secret_service(_secret_service_session, monkeypatch) -> SecretService:
    """A real gnome-keyring Secret Service, with the keyring switched on for this test."""
    for key, value in _secret_service_session.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ECHO_VAULT_NO_KEYRING", raising=False)
    return _secret_service_session


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str
    stdout_bytes: bytes


def run_cli(
    *args: str, input: bytes | str | None = None, env: dict[str, str] | None = None, timeout=60
) -> CliResult:
    """Run ``echo-vault-cli`` as a real process, the way a script would: through the console
    script's entry point, which reads commands end the process early from."""
    data = input.encode() if isinstance(input, str) else input
    proc = subprocess.run(
        [sys.executable, "-m", "echo_vault_app.cli.launch", *args],
        input=data if data is not None else b"",
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        cwd=REPO,
    )
    return CliResult(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
        proc.stdout,
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def make_vault(vault_dir):
    """Create a passphrase vault (Argon2id at its floor, no keyring) and return it unlocked."""
    from echo_vault_app.core.vault import Vault

    opened = []

    def make(passphrase: str = PASSPHRASE, **kwargs):
        kwargs.setdefault("use_keyring", False)
        kwargs.setdefault("kdf_seconds", 0)
        created = Vault.create(vault_dir, passphrase=passphrase, **kwargs)
        opened.append(created.vault)
        return created

    yield make
    for vault in opened:
        vault.lock()


@contextlib.contextmanager
def holding_write_lock(folder: Path) -> Iterator[None]:
    """Hold a vault folder's cross-process write lock, as a writer in another process does.

    ``flock`` locks belong to the open file, so this one also keeps out the vault objects of
    this process, each of which opens the lock file on its own.
    """
    from echo_vault_app.core.keysync import WRITE_LOCK_NAME

    with open(folder / WRITE_LOCK_NAME, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def held_in_another_thread(hold: Callable[[], contextlib.AbstractContextManager]) -> Iterator[None]:
    """Enter ``hold()`` on another thread and stay inside it while the block runs."""
    inside, leave = threading.Event(), threading.Event()

    def run() -> None:
        with hold():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert inside.wait(10)
        yield
    finally:
        leave.set()
        thread.join(10)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
