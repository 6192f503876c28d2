"""Clipboard: secret markers on every copy, timed clear only while the value is ours."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from echo_vault_app.gui import clipboard as cb
from echo_vault_app.gui.clipboard import ClipboardGuard


def test_copy_marks_secret_for_every_platform(qtbot):
    guard = ClipboardGuard(0)
    guard.copy_secret("s3cret")
    data = QGuiApplication.clipboard().mimeData()
    assert data.text() == "s3cret"
    assert bytes(data.data(cb.KDE_HINT)) == b"secret"
    assert data.hasFormat(cb.MAC_CONCEALED)
    assert data.hasFormat(cb.WIN_EXCLUDE)
    assert bytes(data.data(cb.WIN_HISTORY)) == b"\x00\x00\x00\x00"
    assert bytes(data.data(cb.WIN_CLOUD)) == b"\x00\x00\x00\x00"


def test_timed_clear_when_unchanged(qtbot):
    guard = ClipboardGuard(50)
    with qtbot.waitSignal(guard.cleared, timeout=2000):
        guard.copy_secret("s3cret")
    assert QGuiApplication.clipboard().text() == ""


def test_timed_clear_leaves_newer_content(qtbot):
    guard = ClipboardGuard(50)
    guard.copy_secret("s3cret")
    QGuiApplication.clipboard().setText("something the user copied")
    with qtbot.waitSignal(guard.cleared, timeout=2000):
        pass
    assert QGuiApplication.clipboard().text() == "something the user copied"


def test_copy_through_app_is_audited_and_cleared_on_lock(unlocked_app, qtbot):
    app = unlocked_app
    assert app.copier.copy_secret("github/token")
    assert QGuiApplication.clipboard().text() == "ghp_exampletoken123"
    assert "Clipboard clears in 10 s" in app.window.status_label.text()
    assert app.service.manager.audit_events(action="copy")[-1].target == "github/token"
    app.service.lock()
    assert QGuiApplication.clipboard().text() == ""


def test_quit_clears_clipboard(unlocked_app):
    unlocked_app.copier.copy_secret("github/token")
    unlocked_app.quit()
    assert QGuiApplication.clipboard().text() == ""
    assert not unlocked_app.service.is_unlocked


def test_clear_seconds_from_settings(make_app, demo_vault, gui_settings, qtbot):
    gui_settings.clipboard_seconds = 1
    app = make_app(demo_vault.folder)
    app.service.unlock(recovery_key=demo_vault.recovery_key)
    assert app.clipboard.clear_ms == 1000
    with qtbot.waitSignal(app.clipboard.cleared, timeout=3000):
        app.copier.copy_secret("github/token")
    assert QGuiApplication.clipboard().text() == ""
