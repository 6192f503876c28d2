"""Unlock pane: each way in and each way it refuses, on a real vault."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from echo_vault_app.core import throttle
from echo_vault_app.gui import worker


def test_passphrase_unlock_shows_browser(make_app, demo_vault, qtbot):
    app = make_app(demo_vault.folder)
    pane = app.window.unlock_pane
    assert app.window.pages.currentWidget() is pane

    qtbot.keyClicks(pane.passphrase.edit, demo_vault.passphrase)
    qtbot.keyClick(pane.passphrase.edit, Qt.Key.Key_Return)

    assert app.service.is_unlocked
    assert app.window.pages.currentWidget() is app.window.workspace
    assert pane.passphrase.text() == ""
    assert app.browser.model.rowCount() == 5


def test_wrong_passphrase_message(make_app, demo_vault, qtbot):
    app = make_app(demo_vault.folder)
    pane = app.window.unlock_pane

    qtbot.keyClicks(pane.passphrase.edit, "not the passphrase")
    qtbot.mouseClick(pane.unlock_button, Qt.MouseButton.LeftButton)

    assert not app.service.is_unlocked
    assert "Wrong passphrase" in pane.passphrase.error_text()


def test_recovery_key_unlock_and_wrong_key(make_app, demo_vault, qtbot):
    app = make_app(demo_vault.folder)
    pane = app.window.unlock_pane
    qtbot.mouseClick(pane.switch, Qt.MouseButton.LeftButton)
    assert pane.using_recovery_key()

    wrong = demo_vault.recovery_key[:-4] + (
        "AAAA" if not demo_vault.recovery_key.endswith("AAAA") else "BBBB"
    )
    qtbot.keyClicks(pane.recovery.edit, wrong)
    qtbot.keyClick(pane.recovery.edit, Qt.Key.Key_Return)
    assert not app.service.is_unlocked
    assert pane.recovery.error_text()
    assert "recovery key" in pane.recovery.error_text().lower()

    pane.recovery.clear()
    qtbot.keyClicks(pane.recovery.edit, "EV-not-a-key")
    qtbot.keyClick(pane.recovery.edit, Qt.Key.Key_Return)
    assert "not a recovery key" in pane.recovery.error_text()

    pane.recovery.clear()
    qtbot.keyClicks(pane.recovery.edit, demo_vault.recovery_key)
    qtbot.keyClick(pane.recovery.edit, Qt.Key.Key_Return)
    assert app.service.is_unlocked


def test_throttled_unlock_counts_down(make_app, demo_vault, qtbot):
    # Four recorded failures: the library now asks for a 2 s wait before the next try.
    state = throttle.load(demo_vault.folder)
    for _ in range(4):
        throttle.record_failure(demo_vault.folder, "passphrase")
    assert throttle.load(demo_vault.folder).retry_after() > 0
    del state

    app = make_app(demo_vault.folder)
    pane = app.window.unlock_pane
    assert "Try again in" in pane.countdown_text()
    assert not pane.unlock_button.isEnabled()

    # The countdown ends by itself and the button comes back; the passphrase then works.
    qtbot.waitUntil(lambda: pane.unlock_button.isEnabled(), timeout=5000)
    assert pane.countdown_text() == ""
    qtbot.keyClicks(pane.passphrase.edit, demo_vault.passphrase)
    qtbot.keyClick(pane.passphrase.edit, Qt.Key.Key_Return)
    assert app.service.is_unlocked


def test_throttle_reported_by_library_starts_countdown(make_app, demo_vault, qtbot):
    app = make_app(demo_vault.folder)
    pane = app.window.unlock_pane
    for _ in range(3):
        throttle.record_failure(demo_vault.folder, "passphrase")
    # Three failures: the next attempt waits 1 s; trying now hits UnlockThrottled.
    qtbot.keyClicks(pane.passphrase.edit, "wrong again")
    qtbot.keyClick(pane.passphrase.edit, Qt.Key.Key_Return)
    assert "Try again in" in pane.countdown_text()
    doc = json.loads((demo_vault.folder / throttle.STATE_NAME).read_text())
    assert doc["failures"] == 3  # the throttled try was refused before any Argon2 work


def test_unlock_runs_off_the_gui_thread(make_app, demo_vault, qtbot):
    worker.set_synchronous(False)
    app = make_app(demo_vault.folder)
    pane = app.window.unlock_pane
    qtbot.keyClicks(pane.passphrase.edit, demo_vault.passphrase)
    with qtbot.waitSignal(app.service.vault_unlocked, timeout=20000):
        qtbot.keyClick(pane.passphrase.edit, Qt.Key.Key_Return)
        # The call returned before the Argon2 work finished: the button waits for it.
        assert not pane.unlock_button.isEnabled()
    assert app.service.is_unlocked


def test_lock_returns_to_unlock_page_and_does_not_retry_keyring(unlocked_app, qtbot):
    app = unlocked_app
    qtbot.keyClick(app.window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert not app.service.is_unlocked
    assert app.window.pages.currentWidget() is app.window.unlock_pane
    assert not app.window.toolbar.isVisible()


def test_master_key_from_environment_unlocks_without_typing(make_app, tmp_path, monkeypatch):
    from cryptography.fernet import Fernet

    from echo_vault_app.core.vault import Vault

    key = Fernet.generate_key().decode()
    folder = tmp_path / "headless"
    Vault.create(folder, master_key=key, use_keyring=False, kdf_seconds=0).vault.lock()
    monkeypatch.setenv("ECHO_VAULT_MASTER_KEY", key)
    app = make_app(folder)
    assert app.service.is_unlocked
    assert app.service.manager.vault.unlock_method == "master-key"
