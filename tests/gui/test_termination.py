"""SIGTERM (logout, shutdown) makes the app lock and quit the normal way, exit status 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from cryptography.fernet import Fernet

from echo_vault_app.core.vault import Vault
from tests.conftest import REPO


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_locks_and_quits_cleanly(tmp_path, signum):
    key = Fernet.generate_key().decode()
    Vault.create(tmp_path / "vault", master_key=key, use_keyring=False, kdf_seconds=0).vault.lock()
    env = dict(
        os.environ,
        ECHO_VAULT_MASTER_KEY=key,
        ECHO_VAULT_LOG_LEVEL="INFO",
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_RUNTIME_DIR=str(tmp_path),
    )
    log = tmp_path / "app.log"
    with log.open("wb") as sink:
        app = subprocess.Popen(
            [sys.executable, "-m", "echo_vault_app", "--vault", str(tmp_path / "vault")],
            env=env,
            cwd=REPO,
            stdout=sink,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 60
        while "unlocked vault" not in log.read_text(errors="replace"):
            assert app.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        app.send_signal(signum)
        assert app.wait(timeout=30) == 0, log.read_text(errors="replace")
    finally:
        if app.poll() is None:
            app.kill()
    text = log.read_text(errors="replace")
    assert "locked vault" in text.split("unlocked vault", 1)[1]
    assert "Traceback" not in text


STARTING_APP = """
import os, signal, sys
from PySide6.QtWidgets import QApplication
from echo_vault_app.gui.termination import TerminationWatcher
app = QApplication(sys.argv[:1])
watcher = TerminationWatcher(app.quit)
os.kill(os.getpid(), signal.SIGTERM)  # arrives while the app is still starting
sys.exit(app.exec())
"""


def test_signal_during_start_up_still_quits():
    """Watcher installed, event loop not yet running: the SIGTERM must not be lost."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", STARTING_APP], env=env, cwd=REPO, capture_output=True, timeout=30
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
