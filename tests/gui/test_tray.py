"""Tray menu (built by a plain function), quick-copy palette, and the no-tray notice."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu

from echo_vault_app.gui.tray import NO_TRAY_NOTICE, TrayCallbacks, build_tray_menu


def _callbacks(calls: list[str]) -> TrayCallbacks:
    return TrayCallbacks(
        quick=lambda: calls.append("quick"),
        show=lambda: calls.append("show"),
        lock=lambda: calls.append("lock"),
        quit=lambda: calls.append("quit"),
    )


def _texts(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions() if a.text()]


def test_menu_lists_favourites_and_recent_and_copies(unlocked_app):
    app = unlocked_app
    app.copier.copy_secret("db/orders")
    calls: list[str] = []
    menu = build_tray_menu(QMenu(), app.service, app.copier, _callbacks(calls))
    texts = _texts(menu)
    assert texts[:4] == ["Favourites", "stripe/production", "Recent", "db/orders"]
    assert "Lock" in texts and "Quick copy…" in texts and "Quit" in texts

    favourite = next(a for a in menu.actions() if a.objectName() == "copy:stripe/production")
    favourite.trigger()
    assert QGuiApplication.clipboard().text() == "sk_live_51Habcdefghijkl"
    next(a for a in menu.actions() if a.text() == "Lock").trigger()
    assert calls == ["lock"]


def test_menu_while_locked_offers_unlock_only(make_app, demo_vault):
    app = make_app(demo_vault.folder)
    calls: list[str] = []
    menu = build_tray_menu(QMenu(), app.service, app.copier, _callbacks(calls))
    texts = _texts(menu)
    assert "Unlock…" in texts and "Lock" not in texts
    assert not any(a.objectName().startswith("copy:") for a in menu.actions())
    next(a for a in menu.actions() if a.text() == "Unlock…").trigger()
    assert calls == ["show"]


def test_copy_while_locked_asks_to_unlock(make_app, demo_vault):
    app = make_app(demo_vault.folder)
    QGuiApplication.clipboard().setText("unchanged")
    assert not app.copier.copy_secret("github/token")
    assert "Unlock the vault" in app.window.message_bar.message()
    assert QGuiApplication.clipboard().text() == "unchanged"


def test_quick_copy_palette(unlocked_app, qtbot):
    app = unlocked_app
    app.open_quick()
    palette = app.quick_window
    assert palette.isVisible()
    qtbot.keyClicks(palette.search, "gith")
    assert palette.selected_name() == "github/token"
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert QGuiApplication.clipboard().text() == "ghp_exampletoken123"
    assert not palette.isVisible()

    app.open_quick()
    qtbot.keyClicks(palette.search, "db")
    qtbot.keyClick(palette.search, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "orders"


def test_quick_copy_while_locked_unlocks_first(make_app, demo_vault, qtbot):
    app = make_app(demo_vault.folder)
    app.open_quick()
    assert not app.quick_window.isVisible()
    app.service.unlock(recovery_key=demo_vault.recovery_key)
    assert app.quick_window.isVisible()


def test_no_tray_notice_shown_once(make_app, demo_vault, gui_settings):
    # The offscreen platform has no system tray, so the no-tray path runs.
    app = make_app(demo_vault.folder, with_tray=True)
    assert app.tray.icon is None
    app.service.unlock(recovery_key=demo_vault.recovery_key)
    assert "--quick" in app.window.message_bar.message()
    assert gui_settings.notice_shown(NO_TRAY_NOTICE)
    app.service.lock()
    app.service.unlock(recovery_key=demo_vault.recovery_key)
    assert "--quick" not in app.window.message_bar.message()
