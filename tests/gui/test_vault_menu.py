"""Panes built on first use, the Vault menu and its shortcuts, and clearing an expiry."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from echo_vault_app.gui.secret_form import SecretFormDialog


def test_panes_are_built_after_unlock_only(make_app, demo_vault):
    app = make_app(demo_vault.folder)
    window = app.window
    assert not any(window.is_built(key) for key in window.pane_keys())
    app.service.unlock(recovery_key=demo_vault.recovery_key)
    assert window.is_built("secrets")
    assert not window.is_built("issuer") and not window.is_built("audit")
    assert app.browser.model.rowCount() == 5  # the late-built pane loaded the vault
    audit = window.show_pane("audit")
    assert audit.model.rowCount() > 0
    assert window.current_pane() is audit


def test_pane_shortcuts_and_order(unlocked_app, qtbot):
    window = unlocked_app.window
    assert window.pane_keys() == ["secrets", "templates", "issuer", "audit"]
    shortcuts = [window._panes[k][1].shortcut().toString() for k in window.pane_keys()]
    assert shortcuts == ["Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4"]
    window._panes["issuer"][1].trigger()
    assert window.current_pane() is unlocked_app.issuer
    assert unlocked_app.issuer.accessibleName() == "Issuer"


def test_vault_menu_entries_open_their_dialogs(unlocked_app):
    window = unlocked_app.window
    texts = [a.text().replace("&", "") for a in window.vault_menu.actions() if a.text()]
    assert texts == [
        "Export backup…", "Import backup…", "Import from another app…", "Rotate keys…",
    ]  # fmt: skip
    keys = [a.shortcut().toString() for a in window.vault_actions]
    assert keys == ["Ctrl+Shift+E", "Ctrl+Shift+I", "Ctrl+Shift+O", "Ctrl+Shift+R"]
    expected = ["BackupExportDialog", "BackupImportDialog", "ForeignImportDialog", "RotationWizard"]
    for action, name in zip(window.vault_actions, expected, strict=True):
        action.trigger()
        assert type(unlocked_app.dialog).__name__ == name
        assert unlocked_app.dialog.isVisible()
        unlocked_app.dialog.close()
    assert any(a.shortcut() == QKeySequence("Alt+V") for a in window.actions())


def test_vault_menu_needs_an_unlocked_vault(make_app, demo_vault):
    app = make_app(demo_vault.folder)
    app.window.vault_actions[0].trigger()
    assert app.dialog is None


def test_unticking_expiry_removes_it(unlocked_app, qtbot):
    service = unlocked_app.service
    assert service.details("legacy/ftp").summary.expires is not None
    form = SecretFormDialog(service, name="legacy/ftp", parent=unlocked_app.window)
    qtbot.addWidget(form)
    assert form.expires_check.isChecked()
    qtbot.mouseClick(form.expires_check, Qt.MouseButton.LeftButton)
    form._on_buttons_accepted()
    assert form.saved is not None
    assert service.details("legacy/ftp").summary.expires is None
    assert service.reveal("legacy/ftp") == "old-ftp-pass"


def test_expiry_kept_when_left_alone_and_set_when_ticked(unlocked_app, qtbot):
    service = unlocked_app.service
    before = service.details("legacy/ftp").summary.expires
    form = SecretFormDialog(service, name="legacy/ftp", parent=unlocked_app.window)
    qtbot.addWidget(form)
    form.notes_edit.setPlainText("still in use")
    form._on_buttons_accepted()
    assert abs(service.details("legacy/ftp").summary.expires - before) < 86400
    form = SecretFormDialog(service, name="github/token", parent=unlocked_app.window)
    qtbot.addWidget(form)
    form.expires_check.setChecked(True)
    form._on_buttons_accepted()
    assert service.details("github/token").summary.expires > time.time()
