"""The REST API switch in Settings: starts a loopback server that answers, and stops it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from echo_vault_app.gui import worker
from echo_vault_app.gui.settings_dialog import SettingsDialog


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture
def dialog(unlocked_app, gui_settings, qtbot):
    dialog = SettingsDialog(
        unlocked_app.service, gui_settings, False, unlocked_app.window,
        api_switch=unlocked_app.api_switch,
    )  # fmt: skip
    qtbot.addWidget(dialog)
    return dialog


def test_switch_starts_server_that_answers_and_stops(unlocked_app, dialog, qtbot):
    switch = unlocked_app.api_switch
    assert dialog.api_status.text() == "Off" and not dialog.api_check.isChecked()
    dialog.api_port.setValue(0)
    worker.set_synchronous(False)
    try:
        with qtbot.waitSignal(switch.state_changed, timeout=15000):
            dialog.api_check.setChecked(True)
        assert switch.running and switch.url.startswith("http://127.0.0.1:")
        assert dialog.api_status.text() == f"Running at {switch.url}"
        assert dialog.api_check.isChecked() and not dialog.api_port.isEnabled()
        status, body = _get(switch.url + "/vault/health")
        assert status == 200 and body
        status, _body = _get(switch.url + "/vault/secrets/stripe%2Fproduction")
        assert status == 401  # the GUI's switch serves the same authenticated API

        url = switch.url
        with qtbot.waitSignal(switch.state_changed, timeout=15000):
            dialog.api_check.setChecked(False)
    finally:
        worker.set_synchronous(True)
        switch.stop_now()
    assert not switch.running and dialog.api_status.text() == "Off"
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/vault/health", timeout=2)
    events = [e.action for e in unlocked_app.service.audit_events(limit=20)]
    assert "api.serve.start" in events and "api.serve.stop" in events


def test_switch_binds_loopback_only_and_reports_a_taken_port(unlocked_app, dialog):
    import socket

    switch = unlocked_app.api_switch
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        dialog.api_port.setValue(taken.getsockname()[1])
        dialog.api_check.setChecked(True)
        assert not switch.running and not dialog.api_check.isChecked()
        assert dialog.api_status.text().startswith("Not running: ")
        assert "Cannot listen on 127.0.0.1" in dialog.api_status.text()
    finally:
        taken.close()
    dialog.api_port.setValue(0)
    dialog.api_check.setChecked(True)
    try:
        assert switch.running and switch._server.config.host == "127.0.0.1"
    finally:
        switch.stop_now()


def test_server_stops_when_the_app_closes(make_app, demo_vault):
    app = make_app(demo_vault.folder)
    app.service.unlock(recovery_key=demo_vault.recovery_key)
    app.api_switch.start(0)
    url = app.api_switch.url
    assert url
    app.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/vault/health", timeout=2)
