"""First run: create a vault through the pane, see the recovery key once, save it 0600."""

from __future__ import annotations

import stat

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from echo_vault_app.core.vault import Vault
from echo_vault_app.gui import prompts
from echo_vault_app.gui.clipboard import KDE_HINT
from echo_vault_app.gui.secret_inputs import PassphraseConfirmWidget

STRONG = "quartz lantern orbit meadow 42"


def test_weak_and_mismatched_passphrases_are_refused(qtbot):
    widget = PassphraseConfirmWidget()
    qtbot.addWidget(widget)
    qtbot.keyClicks(widget.first.edit, "password1")
    assert widget.score < 3
    assert "too easy" in widget.problem()
    widget.first.clear()
    qtbot.keyClicks(widget.first.edit, STRONG)
    assert widget.meter.value() >= 3
    qtbot.keyClicks(widget.second.edit, STRONG + "x")
    assert "differ" in widget.problem()
    widget.second.clear()
    qtbot.keyClicks(widget.second.edit, STRONG)
    assert widget.problem() == ""


def test_create_vault_shows_recovery_key_once(make_app, tmp_path, qtbot):
    folder = tmp_path / "new-vault"
    app = make_app(folder)
    pane = app.window.create_pane
    assert app.window.pages.currentWidget() is pane
    assert not pane.keyring.isEnabled()  # ECHO_VAULT_NO_KEYRING is set for the tests
    assert not pane.create_button.isEnabled()

    qtbot.keyClicks(pane.passphrase.first.edit, STRONG)
    qtbot.keyClicks(pane.passphrase.second.edit, STRONG)
    assert pane.create_button.isEnabled()
    qtbot.mouseClick(pane.create_button, Qt.MouseButton.LeftButton)

    assert app.service.is_unlocked
    dialog = app.window.recovery_dialog
    assert dialog is not None and dialog.isVisible()
    key = dialog.key_field.text()
    assert key.startswith("EVRK-")

    # Copy: the clipboard holds the key, marked as secret.
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    data = QGuiApplication.clipboard().mimeData()
    assert data.text() == key and bytes(data.data(KDE_HINT)) == b"secret"

    # Save: a file only the user can read.
    target = tmp_path / "recovery.txt"
    prompts.preset(str(target))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert target.read_text().strip() == key
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    assert not dialog.done_button.isEnabled()
    dialog.confirm.setChecked(True)
    qtbot.mouseClick(dialog.done_button, Qt.MouseButton.LeftButton)
    assert app.window.recovery_dialog is None
    assert app.window.pages.currentWidget() is app.window.workspace

    # The key works, and the passphrase chosen in the pane too.
    app.service.lock()
    Vault.open(folder, recovery_key=key, use_keyring=False).lock()
    Vault.open(folder, passphrase=STRONG, use_keyring=False).lock()


def test_closing_recovery_dialog_unconfirmed_asks_first(make_app, tmp_path, qtbot):
    app = make_app(tmp_path / "v")
    pane = app.window.create_pane
    qtbot.keyClicks(pane.passphrase.first.edit, STRONG)
    qtbot.keyClicks(pane.passphrase.second.edit, STRONG)
    qtbot.keyClick(pane.passphrase.second.edit, Qt.Key.Key_Return)
    dialog = app.window.recovery_dialog
    prompts.preset(False)
    dialog.reject()
    assert dialog.isVisible()
    assert prompts.shown[-1].kind == "confirm"
    prompts.preset(True)
    dialog.reject()
    assert app.window.recovery_dialog is None
