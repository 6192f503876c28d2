"""The rotation wizard end to end on a real vault: the vault then opens only with new keys."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QTimer

from echo_vault_app.auth import AuthManager
from echo_vault_app.core.keyfile import KeyFile
from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import EchoVaultError, WrongPassphrase, WrongRecoveryKey
from echo_vault_app.gui import worker
from echo_vault_app.gui.rotation_pages import (
    PAGE_AUTH,
    PAGE_BACKUP,
    PAGE_CONFIRM,
    PAGE_PASSPHRASE,
    PAGE_SUMMARY,
)
from echo_vault_app.gui.rotation_wizard import RotationWizard

NEW_PASSPHRASE = "violet tundra copper whistle"


def _wizard(app, *choices: str) -> RotationWizard:
    wizard = app.open_rotation()
    assert isinstance(wizard, RotationWizard)
    for key in choices:
        wizard.choose_page.boxes[key].setChecked(True)
    wizard.next()
    assert wizard.currentId() == PAGE_BACKUP
    return wizard


def _run(wizard: RotationWizard, qtbot) -> None:
    while wizard.currentId() != PAGE_CONFIRM:
        assert wizard.currentPage().isComplete()
        wizard.next()
    wizard.next()  # "Rotate now"
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_SUMMARY, timeout=30000)


def _summary(wizard: RotationWizard) -> list[str]:
    lines = wizard.summary_page.lines
    return [lines.item(i).text() for i in range(lines.count())]


def _lock(app, folder):
    app.service.lock()
    assert not app.service.is_unlocked
    return KeyFile.load(folder)


def test_nothing_chosen_cannot_go_on(unlocked_app):
    wizard = unlocked_app.open_rotation()
    assert not wizard.choose_page.isComplete()
    wizard.choose_page.boxes["data-key"].setChecked(True)
    assert wizard.choose_page.isComplete()


def test_data_key_signing_and_api_keys(unlocked_app, demo_vault, qtbot):
    issuer = unlocked_app.issuer_service
    old_key = issuer.create_api_key("ci", ["secrets:read"], name="ci")
    issuer.issue_jwt("x", [], {}, algorithm="EdDSA", lifetime_seconds=60)
    before = KeyFile.load(demo_vault.folder).data_key.version

    wizard = _wizard(unlocked_app, "data-key", "signing-keys", "api-keys")
    wizard.next()
    assert wizard.currentId() == PAGE_AUTH
    page = wizard.auth_page
    assert page.algorithms["HS256"].isChecked() and page.algorithms["EdDSA"].isChecked()
    page.algorithms["HS256"].setChecked(False)
    page.grace.setValue(3)
    assert not page.isComplete()  # API keys chosen but none ticked yet
    page.api_list.item(0).setCheckState(page.api_list.item(0).checkState().Checked)
    _run(wizard, qtbot)

    report = wizard.run_page.report
    assert report.failed_step is None and report.done == ["api-keys", "signing-keys", "data-key"]
    assert report.resealed_values > 0 and set(report.new_kids) == {"EdDSA"}
    new_key = wizard.summary_page.keys.item(0, 1).text()
    auth = AuthManager(vault=unlocked_app.service.manager.vault)
    assert auth.check_api_key(new_key).ok
    grace = auth.check_api_key(old_key)
    assert grace.ok and grace.record.expires_at - time.time() <= 3 * 3600
    assert [k["kid"] for k in auth.jwks()["keys"]].count(report.new_kids["EdDSA"]) == 1
    assert any("re-sealed" in line for line in _summary(wizard))
    wizard.summary_page.copy_key_button.click()
    assert unlocked_app.clipboard.clipboard.text() == new_key

    wizard.accept()
    assert wizard.summary_page.keys.rowCount() == 0 and not report.new_api_keys
    assert _lock(unlocked_app, demo_vault.folder).data_key.version == before + 1
    for kwargs in (
        {"passphrase": demo_vault.passphrase},
        {"recovery_key": demo_vault.recovery_key},
    ):
        vault = Vault.open(demo_vault.folder, use_keyring=False, **kwargs)
        try:
            from echo_vault_app.secrets.manager import SecretsManager

            assert SecretsManager(vault=vault).reveal("github/token") == "ghp_exampletoken123"
        finally:
            vault.lock()


def test_passphrase_change_opens_only_with_new(unlocked_app, demo_vault, qtbot):
    wizard = _wizard(unlocked_app, "passphrase")
    wizard.next()
    assert wizard.currentId() == PAGE_PASSPHRASE
    assert not wizard.passphrase_page.isComplete()
    qtbot.keyClicks(wizard.passphrase_page.passphrase.first.edit, NEW_PASSPHRASE)
    qtbot.keyClicks(wizard.passphrase_page.passphrase.second.edit, NEW_PASSPHRASE)
    _run(wizard, qtbot)
    assert wizard.run_page.report.done == ["passphrase"]
    assert wizard.passphrase_page.passphrase.passphrase() == ""  # cleared when the run began
    _lock(unlocked_app, demo_vault.folder)
    with pytest.raises(WrongPassphrase):
        Vault.open(demo_vault.folder, passphrase=demo_vault.passphrase, use_keyring=False)
    Vault.open(demo_vault.folder, passphrase=NEW_PASSPHRASE, use_keyring=False).lock()
    Vault.open(demo_vault.folder, recovery_key=demo_vault.recovery_key, use_keyring=False).lock()


def test_reseal_opens_only_with_new_passphrase_and_recovery_key(unlocked_app, demo_vault, qtbot):
    old_keyfile = (demo_vault.folder / "vault.keys").read_bytes()
    wizard = _wizard(unlocked_app, "reseal", "data-key")
    wizard.next()
    qtbot.keyClicks(wizard.passphrase_page.passphrase.first.edit, NEW_PASSPHRASE)
    qtbot.keyClicks(wizard.passphrase_page.passphrase.second.edit, NEW_PASSPHRASE)
    _run(wizard, qtbot)
    assert wizard.run_page.report.done == ["data-key", "reseal"]
    dialog = wizard.recovery_dialog
    assert dialog is not None and dialog.isVisible()
    new_recovery = dialog.key_field.text()
    assert new_recovery and new_recovery != demo_vault.recovery_key
    dialog.confirm.setChecked(True)
    dialog.accept()
    wizard.accept()

    _lock(unlocked_app, demo_vault.folder)
    with pytest.raises(WrongRecoveryKey):
        Vault.open(demo_vault.folder, recovery_key=demo_vault.recovery_key, use_keyring=False)
    with pytest.raises(WrongPassphrase):
        Vault.open(demo_vault.folder, passphrase=demo_vault.passphrase, use_keyring=False)
    Vault.open(demo_vault.folder, passphrase=NEW_PASSPHRASE, use_keyring=False).lock()
    Vault.open(demo_vault.folder, recovery_key=new_recovery, use_keyring=False).lock()
    # With the data key rotated too, an old copy of vault.keys no longer opens the database.
    (demo_vault.folder / "vault.keys").write_bytes(old_keyfile)
    with pytest.raises(EchoVaultError):
        Vault.open(demo_vault.folder, recovery_key=demo_vault.recovery_key, use_keyring=False)


def test_recovery_key_reissue(unlocked_app, demo_vault, qtbot):
    wizard = _wizard(unlocked_app, "recovery-key")
    _run(wizard, qtbot)
    new_recovery = wizard.recovery_dialog.key_field.text()
    wizard.recovery_dialog.confirm.setChecked(True)
    wizard.recovery_dialog.accept()
    wizard.accept()
    _lock(unlocked_app, demo_vault.folder)
    with pytest.raises(WrongRecoveryKey):
        Vault.open(demo_vault.folder, recovery_key=demo_vault.recovery_key, use_keyring=False)
    Vault.open(demo_vault.folder, recovery_key=new_recovery, use_keyring=False).lock()
    Vault.open(demo_vault.folder, passphrase=demo_vault.passphrase, use_keyring=False).lock()


def test_backup_offer_exports_through_the_dialog(unlocked_app, qtbot, tmp_path):
    wizard = _wizard(unlocked_app, "data-key")
    wizard.backup_page.export_button.click()
    dialog = wizard.export_dialog
    assert dialog is not None
    dialog.file.set_path(tmp_path / "before-rotation.evbackup")
    password = "quartz-lantern orbit meadow 42"
    qtbot.keyClicks(dialog.password.first.edit, password)
    qtbot.keyClicks(dialog.password.second.edit, password)
    dialog.export()
    assert (tmp_path / "before-rotation.evbackup").exists()
    assert "5 secret(s)" in wizard.backup_page.status.text()


def test_failed_step_is_reported_and_later_steps_not_run(unlocked_app, qtbot):
    wizard = _wizard(unlocked_app, "api-keys", "data-key")
    wizard.next()
    wizard.auth_page.isComplete()
    # No API keys exist: tick nothing, the page stays incomplete, so plan one by hand.
    assert wizard.auth_page.api_list.count() == 0 and not wizard.auth_page.isComplete()
    from echo_vault_app.gui.rotation_service import RotationPlan, run_rotation

    report = run_rotation(
        unlocked_app.service,
        unlocked_app.issuer_service,
        RotationPlan(data_key=True, api_key_ids=("nosuchkey000",)),
        lambda *_args: None,
        kdf_seconds=0,
    )
    assert report.failed_step == "api-keys" and report.done == []
    assert "nosuchkey000" in report.error


def test_gui_thread_not_blocked_and_lock_waits_for_the_run(unlocked_app, qtbot):
    """The run is off the GUI thread: the event loop keeps ticking (no library reads here:
    the library holds its lock for the whole re-seal transaction, so a read on the GUI thread
    would wait for it; see the note in rotation_service)."""
    manager = unlocked_app.service.manager
    for number in range(300):
        manager.store_secret(f"bulk/item-{number:04d}", f"value-{number}")
    wizard = _wizard(unlocked_app, "data-key")
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(tick)
    while wizard.currentId() != PAGE_CONFIRM:
        wizard.next()
    worker.set_synchronous(False)
    try:
        probe.start()
        last[0] = time.perf_counter()
        wizard.next()  # "Rotate now": the run starts on the thread pool
        qtbot.waitUntil(lambda: wizard.run_page.report is not None, timeout=30000)
        probe.stop()
        print(f"longest GUI-thread gap {max(gaps) * 1000:.0f} ms in {len(gaps)} ticks")
    finally:
        worker.set_synchronous(True)
    assert wizard.run_page.report.done == ["data-key"]
    assert max(gaps) < 0.1, f"GUI thread stalled {max(gaps) * 1000:.0f} ms"


def test_lock_asked_during_the_run_waits_for_it(unlocked_app, qtbot):
    wizard = _wizard(unlocked_app, "data-key")
    while wizard.currentId() != PAGE_CONFIRM:
        wizard.next()
    worker.set_synchronous(False)
    try:
        wizard.next()
        unlocked_app.service.lock()  # the run is still going: the lock waits
        assert unlocked_app.service.is_unlocked
        qtbot.waitUntil(lambda: not unlocked_app.service.is_unlocked, timeout=30000)
    finally:
        worker.set_synchronous(True)
    assert wizard.run_page.report.done == ["data-key"]


def test_lock_requested_during_run_happens_after_it(unlocked_app, qtbot):
    wizard = _wizard(unlocked_app, "data-key")
    started: list[bool] = []
    unlocked_app.service.set_busy(True)
    unlocked_app.service.lock()
    started.append(unlocked_app.service.is_unlocked)
    unlocked_app.service.set_busy(False)
    assert started == [True] and not unlocked_app.service.is_unlocked
    wizard.close()
