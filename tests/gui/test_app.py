"""Process-level behaviour: entry points, single instance, no tracebacks for users."""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from echo_vault_app.gui import app as app_module
from echo_vault_app.gui import prompts
from echo_vault_app.gui.single_instance import InstanceServer, ask_running_instance, server_name

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


def test_instance_name_is_the_sha256_of_user_and_folder(tmp_path):
    """A launch of this version finds an instance started by an earlier one, and vice versa."""
    folder = tmp_path / "vault"
    expected = hashlib.sha256(f"{getpass.getuser()}\0{folder.resolve()}".encode()).hexdigest()
    assert server_name(folder) == f"echo-vault-{expected[:20]}"
    assert server_name(tmp_path / "other") != server_name(folder)


PAINT_PROBE = """
import enum, json, sys
from pathlib import Path

built = []  # enum types PySide6 made, by name: "GlobalColor" is only in the Qt namespace
make_enum = enum.EnumType.__call__

def recording(cls, *args, **kwargs):
    if len(args) >= 2:  # the functional API, which PySide6 uses to build its enum types
        built.append(args[0])
    return make_enum(cls, *args, **kwargs)

enum.EnumType.__call__ = recording
from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication
from echo_vault_app.gui.app import EchoVaultApp
from echo_vault_app.gui.settings import GuiSettings

qt_app = QApplication(sys.argv[:1])
settings = GuiSettings(QSettings(sys.argv[2], QSettings.Format.IniFormat))
echo = EchoVaultApp(Path(sys.argv[1]), settings=settings, use_keyring=False, with_tray=False)

class Probe(QObject):
    loaded = None

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and self.loaded is None:
            self.loaded = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY
                                 or m.startswith(("echo_vault_app.core.vault",
                                                  "echo_vault_app.secrets")))
            self.qt_namespace = "GlobalColor" in built
            QTimer.singleShot(0, qt_app.quit)
        return False

HEAVY = {"sqlcipher3", "cryptography", "dataclasses"}
probe = Probe()
echo.window.unlock_pane.installEventFilter(probe)
echo.start()
QTimer.singleShot(20_000, qt_app.quit)
qt_app.exec()
print(json.dumps({"painted": probe.loaded is not None, "loaded": probe.loaded,
                  "qt_namespace": getattr(probe, "qt_namespace", None)}))
"""


def test_unlock_window_is_painted_before_the_vault_core_is_loaded(tmp_path, demo_vault):
    """The unlock window needs Qt and vault.keys only: SQLCipher, the cryptography bindings,
    the vault core and the secrets package load when a vault is opened, off the GUI thread.
    Nor has PySide6 built the Qt namespace's enum types yet (see gui/first_paint.py)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ECHO_VAULT_NO_KEYRING="1")
    env.pop("ECHO_VAULT_MASTER_KEY", None)
    done = subprocess.run(
        [sys.executable, "-c", PAINT_PROBE, str(demo_vault.folder), str(tmp_path / "s.ini")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"painted": True, "loaded": [], "qt_namespace": False}, done.stderr[-2000:]
    assert "Error" not in done.stderr, done.stderr[-2000:]  # e.g. a signal PySide6 cannot pass
