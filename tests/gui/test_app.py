"""Process-level behaviour: entry points, single instance, no tracebacks for users."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from echo_vault_app.gui import app as app_module
from echo_vault_app.gui import prompts
from echo_vault_app.gui.single_instance import InstanceServer, ask_running_instance

ROOT = Path(__file__).resolve().parents[2]


def test_second_launch_asks_first_to_show(tmp_path, qtbot):
    folder = tmp_path / "vault"
    server = InstanceServer(folder)
    assert server.listen()
    try:
        with qtbot.waitSignal(server.show_requested, timeout=3000):
            assert ask_running_instance(folder, b"show")
        with qtbot.waitSignal(server.quick_requested, timeout=3000):
            assert ask_running_instance(folder, b"quick")
        assert not ask_running_instance(tmp_path / "other")
    finally:
        server.close()


def test_second_process_exits_zero_when_first_runs(tmp_path, qtbot):
    folder = tmp_path / "vault"
    server = InstanceServer(folder)
    assert server.listen()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ECHO_VAULT_NO_KEYRING="1")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "echo_vault_app", "--vault", str(folder)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        with qtbot.waitSignal(server.show_requested, timeout=20000):
            pass
        assert proc.wait(timeout=20) == 0
    finally:
        server.close()


def test_excepthook_logs_and_shows_one_line(caplog):
    saved = sys.excepthook
    try:
        app_module.install_excepthook()
        try:
            raise KeyError("internal detail")
        except KeyError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        sys.excepthook = saved
    shown = prompts.shown[-1]
    assert shown.kind == "error"
    assert "\n" not in shown.text and "Traceback" not in shown.text
    assert "KeyError" in shown.text
    assert "unexpected KeyError" in caplog.text


def test_core_dumps_switched_off():
    import resource

    saved = resource.getrlimit(resource.RLIMIT_CORE)
    try:
        app_module.disable_core_dumps()
        assert resource.getrlimit(resource.RLIMIT_CORE)[0] == 0
    finally:
        with contextlib.suppress(ValueError):  # a lowered hard limit cannot be raised again
            resource.setrlimit(resource.RLIMIT_CORE, (saved[0], saved[1]))


def test_parse_args():
    args = app_module.parse_args(["--vault", "/tmp/x", "--quick"])
    assert args.vault == Path("/tmp/x") and args.quick


def test_process_starts_and_paints_unlock_window(tmp_path, demo_vault):
    """The real entry point runs and stays up until killed (no traceback on start)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ECHO_VAULT_NO_KEYRING="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "echo_vault_app", "--vault", str(demo_vault.folder)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    # A second launch succeeds only once the first is listening: it proves the app came up.
    while time.monotonic() < deadline and proc.poll() is None:
        if ask_running_instance(demo_vault.folder):
            break
        time.sleep(0.1)
    assert proc.poll() is None
    proc.terminate()
    _out, err = proc.communicate(timeout=10)
    assert b"Traceback" not in err
