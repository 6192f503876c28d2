"""Starting in the tray (the autostart entry's ``--tray``) and keeping the app in the tray when
its window is closed. The offscreen platform has no tray, so the in-process tests cover the
desktops without one; the last test runs the app on a real X server with a real tray host."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from cryptography.fernet import Fernet
from PySide6.QtWidgets import QSystemTrayIcon

from echo_vault_app.core.vault import Vault
from echo_vault_app.gui import app as app_module
from echo_vault_app.gui.settings_dialog import SettingsDialog
from echo_vault_app.gui.single_instance import InstanceServer, ask_running_instance
from tests.conftest import REPO
from tests.packaging.conftest import require_tool


def test_parse_args_knows_tray():
    assert app_module.parse_args(["--tray"]).tray
    assert not app_module.parse_args([]).tray


def test_start_in_tray_without_a_tray_shows_the_window(demo_vault, gui_settings, qtbot, caplog):
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    app = app_module.EchoVaultApp(
        demo_vault.folder, settings=gui_settings, use_keyring=False, kdf_seconds=0
    )
    qtbot.addWidget(app.window)
    try:
        with caplog.at_level("INFO", logger="echo_vault_app.gui.app"):
            app.start(in_tray=True)
        assert app.window.isVisible()
        assert "no system tray on this desktop" in caplog.text
    finally:
        app.close()


def test_close_to_tray_needs_a_tray(make_app, demo_vault, gui_settings):
    gui_settings.close_to_tray = True
    app = make_app(demo_vault.folder, with_tray=True)
    assert not app.has_tray
    assert not app.window.hide_on_close  # nothing could bring the window back


def test_a_window_kept_in_the_tray_hides_on_close_and_the_app_goes_on(unlocked_app, qtbot):
    window = unlocked_app.window
    quits: list[bool] = []
    window.quit_requested.connect(lambda: quits.append(True))

    window.hide_on_close = True
    window.close()
    assert not window.isVisible()
    assert quits == []
    assert unlocked_app.service.is_unlocked  # hidden, not locked: the idle lock still applies

    window.raise_window()
    assert window.isVisible()
    window.hide_on_close = False
    window.close()
    assert quits == [True]


def test_settings_offer_close_to_tray_only_with_a_tray(unlocked_app, gui_settings, qtbot):
    app = unlocked_app
    without = SettingsDialog(app.service, gui_settings, False, app.window)
    qtbot.addWidget(without)
    assert not without.close_to_tray.isEnabled()

    dialog = SettingsDialog(app.service, gui_settings, False, app.window, has_tray=True)
    qtbot.addWidget(dialog)
    assert dialog.close_to_tray.isEnabled() and not dialog.close_to_tray.isChecked()
    dialog.close_to_tray.setChecked(True)
    dialog._on_buttons_accepted()
    assert gui_settings.close_to_tray


def test_a_second_start_in_the_tray_leaves_the_first_as_it_is(tmp_path, qtbot):
    folder = tmp_path / "vault"
    server = InstanceServer(folder)
    assert server.listen()
    asked: list[str] = []
    server.show_requested.connect(lambda: asked.append("show"))
    server.quick_requested.connect(lambda: asked.append("quick"))
    try:
        assert ask_running_instance(folder, b"tray")
        with qtbot.waitSignal(server.show_requested, timeout=3000):
            assert ask_running_instance(folder, b"show")
        assert asked == ["show"]  # the tray request came first and asked for nothing
    finally:
        server.close()


# -- on a real X server with a real tray -----------------------------------------------------


def _start_xvfb() -> tuple[subprocess.Popen, str]:
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        number = reader.readline().strip()
    assert number, "Xvfb did not report its display"
    return proc, f":{number}"


def _wait(predicate, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _visible_windows(xdotool: str, env: dict[str, str]) -> list[str]:
    found = subprocess.run(
        [xdotool, "search", "--onlyvisible", "--name", "^Echo Vault$"],
        env=env,
        capture_output=True,
        text=True,
    )
    return found.stdout.split()


def _tray_ready(env: dict[str, str]) -> bool:
    probe = "from PySide6.QtWidgets import QApplication, QSystemTrayIcon as T\n"
    probe += "app = QApplication([]); raise SystemExit(0 if T.isSystemTrayAvailable() else 1)"
    return subprocess.run([sys.executable, "-c", probe], env=env).returncode == 0


def test_start_in_a_real_tray_shows_no_window_until_asked(tmp_path):
    trayer, xdotool = require_tool("trayer"), require_tool("xdotool")
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed")
    key = Fernet.generate_key().decode()
    folder = tmp_path / "vault"
    Vault.create(folder, master_key=key, use_keyring=False, kdf_seconds=0).vault.lock()

    xvfb, display = _start_xvfb()
    env = dict(
        os.environ,
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        ECHO_VAULT_MASTER_KEY=key,
        ECHO_VAULT_NO_KEYRING="1",
        ECHO_VAULT_LOG_LEVEL="INFO",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_RUNTIME_DIR=str(tmp_path),
    )
    tray = subprocess.Popen(
        [trayer, "--edge", "top", "--align", "right", "--widthtype", "request"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = tmp_path / "app.log"
    app = None
    try:
        _wait(lambda: _tray_ready(env), "the tray host")
        command = [sys.executable, "-m", "echo_vault_app", "--vault", str(folder)]
        with log.open("wb") as sink:
            app = subprocess.Popen(
                [*command, "--tray"], env=env, cwd=REPO, stdout=sink, stderr=sink
            )
        text = lambda: log.read_text(errors="replace")  # noqa: E731
        _wait(lambda: "unlocked vault" in text() or app.poll() is not None, "the unlock")
        assert app.poll() is None, text()
        assert "started in the system tray" in text()
        time.sleep(0.5)
        assert _visible_windows(xdotool, env) == []

        # Login starts it again: nothing changes. Opening it from a launcher shows the window.
        again = subprocess.run([*command, "--tray"], env=env, cwd=REPO, timeout=60)
        assert again.returncode == 0
        time.sleep(0.5)
        assert _visible_windows(xdotool, env) == []
        shown = subprocess.run(command, env=env, cwd=REPO, timeout=60)
        assert shown.returncode == 0
        _wait(lambda: _visible_windows(xdotool, env) != [], "the window")

        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=30) == 0, text()
        assert "Traceback" not in text()
    finally:
        if app is not None and app.poll() is None:
            app.kill()
        tray.terminate()
        xvfb.terminate()
        tray.wait(timeout=10)
        xvfb.wait(timeout=10)
