"""Fixtures for the packaging tests: one frozen build per test run, and process helpers.

PyInstaller takes about a minute on two cores, so the frozen one-folder build is made once per
session (``frozen_dist``) and shared. ``ECHO_VAULT_FROZEN_DIST=/path/to/dist/echo-vault`` reuses
a build made with ``make package`` instead, for quick local runs.

Tools that live outside Python (desktop-file-validate, appstreamcli, readelf/ldd, PyInstaller)
make a test skip when missing locally; with ``ECHO_VAULT_REQUIRE_DESKTOP_VALIDATORS=1`` (set by
``.ci/run``, which installs them) a missing tool fails the test instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "packaging" / "pyinstaller" / "echo-vault.spec"
UNLOCKED_LINE = "unlocked vault"


def require_tool(name: str) -> str:
    """The tool's path; skip (or fail in CI) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if os.environ.get("ECHO_VAULT_REQUIRE_DESKTOP_VALIDATORS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def frozen_dist(tmp_path_factory) -> Path:
    """The one-folder build holding ``echo-vault`` and ``echo-vault-cli``."""
    given = os.environ.get("ECHO_VAULT_FROZEN_DIST")
    if given:
        return Path(given).resolve()
    if not (Path(sys.executable).parent / "pyinstaller").exists():
        require_tool("pyinstaller")
    require_tool("readelf")
    root = tmp_path_factory.mktemp("frozen")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(root / "dist"),
            "--workpath",
            str(root / "build"),
            str(SPEC),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    return root / "dist" / "echo-vault"


def master_key() -> str:
    return Fernet.generate_key().decode()


def program_env(vault: Path, key: str | None, **extra: str) -> dict[str, str]:
    """Environment for a started program: its own vault folder, no keyring, offscreen Qt."""
    env = dict(os.environ, ECHO_VAULT_PATH=str(vault), QT_QPA_PLATFORM="offscreen")
    env["ECHO_VAULT_NO_KEYRING"] = "1"
    env.pop("ECHO_VAULT_MASTER_KEY", None)
    if key is not None:
        env["ECHO_VAULT_MASTER_KEY"] = key
    env.update(extra)
    return env


def run(
    command: list[str], env: dict[str, str], stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=env, timeout=timeout
    )


@dataclass
class RunningGui:
    """A desktop-app process started offscreen, its stderr captured in a file."""

    process: subprocess.Popen
    log: Path
    started: float
    shown_after: float | None = None

    def stderr(self) -> str:
        return self.log.read_text("utf-8", "replace")

    def wait_for(self, text: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr():
                return True
            if self.process.poll() is not None:
                return text in self.stderr()
            time.sleep(0.02)
        return False

    def terminate(self, timeout: float = 20) -> int:
        """Send SIGTERM, as a session manager does at logout, and wait for the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def start_gui(command: list[str], env: dict[str, str], log: Path, cwd: Path) -> RunningGui:
    """Start the app with INFO logging so the unlock is visible on stderr."""
    env = dict(env, ECHO_VAULT_LOG_LEVEL="INFO")
    started = time.monotonic()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink
        )
    return RunningGui(process, log, started)


@pytest.fixture
def gui_processes():
    """Started apps are terminated after the test whatever happened."""
    started: list[RunningGui] = []
    yield started
    for gui in started:
        if gui.process.poll() is None:
            gui.process.kill()
            gui.process.wait(timeout=10)
