"""Settings dialog and locking: idle lock with a short timeout, preferences, vault settings."""

from __future__ import annotations

from PySide6.QtCore import Qt

from echo_vault_app.gui.settings_dialog import SettingsDialog
from echo_vault_app.gui.signals import emit


def test_auto_lock_after_idle(make_app, demo_vault, qtbot):
    app = make_app(demo_vault.folder, idle_ms=150)
    app.service.unlock(recovery_key=demo_vault.recovery_key)
    assert app.idle.is_running()
    with qtbot.waitSignal(app.service.vault_locked, timeout=3000):
        pass
    assert not app.service.is_unlocked
    assert app.window.pages.currentWidget() is app.window.unlock_pane


def test_input_postpones_idle_lock(make_app, demo_vault, qtbot):
    app = make_app(demo_vault.folder, idle_ms=400)
    app.service.unlock(recovery_key=demo_vault.recovery_key)
    remaining_before = app.idle._timer.remainingTime()
    qtbot.wait(200)  # let part of the timeout pass, then type
    qtbot.keyClick(app.browser.search, Qt.Key.Key_A)
    assert app.idle._timer.remainingTime() > remaining_before - 200 + 100
    assert app.service.is_unlocked


def test_session_lock_signal_locks(unlocked_app):
    emit(unlocked_app.idle.session_locked)
    assert not unlocked_app.service.is_unlocked


def test_suspending_the_app_locks_the_vault_once_the_window_has_painted(unlocked_app, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    qtbot.waitUntil(lambda: unlocked_app.idle.watches_application_state)
    QApplication.instance().applicationStateChanged.emit(Qt.ApplicationState.ApplicationSuspended)
    qtbot.waitUntil(lambda: not unlocked_app.service.is_unlocked)


def test_default_idle_timeout_is_five_minutes(make_app, demo_vault):
    app = make_app(demo_vault.folder)
    assert app.idle_timeout_ms() == 5 * 60 * 1000


def test_settings_dialog_saves_preferences_and_vault_settings(unlocked_app, gui_settings, qtbot):
    app = unlocked_app
    dialog = SettingsDialog(app.service, gui_settings, False, app.window)
    qtbot.addWidget(dialog)
    assert dialog.history.value() == 10
    assert dialog.clipboard.value() == 10
    assert not dialog.keyring.isEnabled()  # no keyring in the tests
    dialog.minutes.setValue(2)
    dialog.clipboard.setValue(30)
    dialog.history.setValue(3)
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.accepted.connect(app._apply_settings)
    dialog._on_buttons_accepted()
    assert gui_settings.auto_lock_minutes == 2
    assert gui_settings.clipboard_seconds == 30
    assert gui_settings.theme == "dark"
    assert app.service.history_depth() == 3
    assert app.clipboard.clear_ms == 30_000
    assert app.idle.timeout_ms() == 2 * 60 * 1000
    events = app.service.manager.audit_events(action="settings")
    assert events[-1].target == "history_depth"


def test_settings_dialog_refuses_nothing_silently(unlocked_app, gui_settings, qtbot):
    dialog = SettingsDialog(unlocked_app.service, gui_settings, True, unlocked_app.window)
    qtbot.addWidget(dialog)
    dialog.auto_lock.setChecked(False)
    assert not dialog.minutes.isEnabled()
    dialog._on_buttons_accepted()
    assert gui_settings.auto_lock_enabled is False


def test_input_is_watched_only_while_the_idle_timer_runs(make_app, demo_vault):
    """Locked, the app installs no application-wide event filter; unlocked, it does."""
    app = make_app(demo_vault.folder, idle_ms=60_000)
    assert not app.idle._filtering and not app.idle.is_running()
    app.service.unlock(recovery_key=demo_vault.recovery_key)
    assert app.idle._filtering and app.idle.is_running()
    app.service.lock()
    assert not app.idle._filtering and not app.idle.is_running()
