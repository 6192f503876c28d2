"""Backup export and import dialogs, and foreign-format import, on real vaults."""

from __future__ import annotations

import threading

from echo_vault_app.core.vault import Vault
from echo_vault_app.gui import prompts, worker
from echo_vault_app.gui.backup_export_dialog import BackupExportDialog
from echo_vault_app.gui.backup_import_dialog import BackupImportDialog
from echo_vault_app.gui.foreign_import_dialog import ForeignImportDialog

PASSWORD = "quartz-lantern orbit meadow 42"
DEMO_NAMES = {"db/orders", "github/token", "legacy/ftp", "stripe/production", "stripe/staging"}


def _export(app, qtbot, path, password=PASSWORD, **scope):
    dialog = app.open_backup_export()
    assert isinstance(dialog, BackupExportDialog)
    dialog.file.set_path(path)
    qtbot.keyClicks(dialog.password.first.edit, password)
    qtbot.keyClicks(dialog.password.second.edit, password)
    if "tags" in scope:
        dialog.tags_edit.setText(scope["tags"])
    return dialog


def _second_app(make_app, tmp_path):
    created = Vault.create(tmp_path / "second", passphrase="unused " * 4, use_keyring=False,
                           kdf_seconds=0)  # fmt: skip
    created.vault.lock()
    app = make_app(tmp_path / "second")
    app.service.unlock(recovery_key=created.recovery_key)
    return app


def _import(app, path, password=PASSWORD, mode="merge"):
    dialog = app.open_backup_import()
    assert isinstance(dialog, BackupImportDialog)
    dialog.file.set_path(path)
    dialog.password.setText(password)
    dialog.mode_box.setCurrentIndex(dialog.mode_box.findData(mode))
    return dialog


def test_export_then_import_into_second_vault(unlocked_app, make_app, tmp_path, qtbot):
    target = tmp_path / "out.evbackup"
    dialog = _export(unlocked_app, qtbot, target)
    assert dialog.export_button.isEnabled()
    with qtbot.waitSignal(dialog.exported) as exported:
        dialog.export()
    assert exported.args == [5] and target.exists()
    assert "Exported 5 secret(s)" in dialog.status.text()
    assert dialog.password.passphrase() == ""
    dialog.close()

    second = _second_app(make_app, tmp_path)
    importer = _import(second, target)
    importer.run_preview()
    assert importer.preview is not None and not importer.import_button.isHidden()
    assert importer.tree.counts == {
        "added": 5, "changed": 0, "conflicts": 0, "skipped": 0, "unchanged": 0,
    }  # fmt: skip
    assert second.service.manager.list_secrets() == []  # a preview writes nothing
    with qtbot.waitSignal(importer.imported):
        importer.run_import()
    assert set(second.service.manager.list_secrets()) == DEMO_NAMES
    assert second.service.reveal("db/orders", "password") == "pw-two"
    assert len(second.service.history("db/orders")) >= 1
    assert importer.status.text().startswith("Imported: 5 added")
    assert second.browser.model.rowCount() == 5


def test_preview_counts_changes_and_conflicts(unlocked_app, make_app, qtbot, tmp_path):
    target = tmp_path / "out.evbackup"
    _export(unlocked_app, qtbot, target).export()
    second = _second_app(make_app, tmp_path)
    second.service.manager.store_secret("github/token", "ghp_made_in_the_second_vault")
    second.service.manager.store_secret("new/only-here", "x")

    dialog = _import(second, target, mode="skip")
    dialog.run_preview()
    assert dialog.tree.counts == {
        "added": 4, "changed": 0, "conflicts": 1, "skipped": 1, "unchanged": 0,
    }  # fmt: skip
    dialog.mode_box.setCurrentIndex(dialog.mode_box.findData("merge"))  # re-previews
    assert dialog.tree.counts["changed"] == 1 and dialog.tree.counts["conflicts"] == 1
    assert dialog.tree.counts["added"] == 4
    dialog.run_import()
    # merge: the newer local value stays current, the backup's goes to history
    assert second.service.reveal("github/token") == "ghp_made_in_the_second_vault"
    assert second.service.reveal("new/only-here") == "x"


def test_wrong_password_is_shown_on_the_field(unlocked_app, qtbot, tmp_path):
    target = tmp_path / "out.evbackup"
    _export(unlocked_app, qtbot, target).export()
    dialog = _import(unlocked_app, target, password="not the password at all")
    dialog.run_preview()
    assert dialog.preview is None and not dialog.import_button.isEnabled()
    assert "password" in dialog.password.error_text().lower()
    assert not dialog.message.message()


def test_weak_password_reason_is_inline(unlocked_app, qtbot, tmp_path):
    dialog = _export(unlocked_app, qtbot, tmp_path / "x.evbackup", password="short")
    assert "at least 12 characters" in dialog.password.first.error_text()
    assert not dialog.export_button.isEnabled()
    dialog.password.clear()
    qtbot.keyClicks(dialog.password.first.edit, "password1234")
    assert "too easy to guess" in dialog.password.first.error_text()
    assert dialog.export() is None
    assert not (tmp_path / "x.evbackup").exists()


def test_fair_password_needs_a_yes_and_scope_by_tag(unlocked_app, make_app, qtbot, tmp_path):
    target = tmp_path / "tagged.evbackup"
    fair = "kettle-harbor-91"
    dialog = _export(unlocked_app, qtbot, target, password=fair, tags="payments")
    assert dialog.password.first.error_text() == "" and dialog.export_button.isEnabled()
    if dialog.password.score < 3:
        prompts.preset(False)
        assert dialog.export() is None and not target.exists()
        prompts.preset(True)
    dialog.export()
    assert dialog.exported_count == 2
    second = _second_app(make_app, tmp_path)
    importer = _import(second, target, password=fair)
    importer.run_preview()
    importer.run_import()
    assert set(second.service.manager.list_secrets()) == {"stripe/production", "stripe/staging"}


def test_existing_file_is_replaced_only_after_yes(unlocked_app, qtbot, tmp_path):
    target = tmp_path / "out.evbackup"
    target.write_text("keep me")
    dialog = _export(unlocked_app, qtbot, target)
    prompts.preset(False)
    assert dialog.export() is None and target.read_text() == "keep me"
    prompts.preset(True)
    dialog.export()
    assert dialog.exported_count == 5 and target.read_bytes() != b"keep me"


def test_import_runs_off_the_gui_thread_with_progress(unlocked_app, qtbot, tmp_path):
    target = tmp_path / "out.evbackup"
    _export(unlocked_app, qtbot, target).export()
    dialog = _import(unlocked_app, target, mode="replace-all")
    seen: list[tuple[str, int, int, bool]] = []
    gui = threading.current_thread()

    def record(stage: str, done: int, total: int) -> None:
        seen.append((stage, done, total, threading.current_thread() is gui))

    dialog.relay.progressed.connect(record)
    worker_threads: list[bool] = []
    original = dialog.backups.import_backup

    def spy(*args, **kwargs):
        worker_threads.append(threading.current_thread() is not gui)
        return original(*args, **kwargs)

    dialog.backups.import_backup = spy
    dialog.run_preview()
    worker.set_synchronous(False)
    try:
        with qtbot.waitSignal(dialog.imported, timeout=20000):
            dialog.run_import()
    finally:
        worker.set_synchronous(True)
    assert worker_threads == [True]
    assert seen and all(on_gui for *_rest, on_gui in seen)
    assert any(stage == "reading" and total > 0 for stage, _d, total, _g in seen)


def test_foreign_dotenv_import(unlocked_app, qtbot, tmp_path):
    env = tmp_path / "payments.env"
    env.write_text(
        "# payment service\nSTRIPE_KEY=sk_test_abc123\nexport DB_URL='postgres://u:p@h/db'\n"
        "STRIPE_KEY=sk_test_second\nHOME_DIR=${HOME}/x\n"
    )
    dialog = unlocked_app.open_foreign_import()
    assert isinstance(dialog, ForeignImportDialog)
    dialog.file.set_path(env)
    assert dialog.fmt() == "dotenv"
    dialog.per_key.setChecked(True)
    dialog.read_file()
    assert dialog.report is not None
    names = {dialog.report_tree.topLevelItem(i).text(0)
             for i in range(dialog.report_tree.topLevelItemCount())}  # fmt: skip
    assert {"payments/STRIPE_KEY", "payments/DB_URL", "payments/HOME_DIR"} <= names
    assert "Warnings" in names  # the duplicate key and the ${HOME} reference
    assert dialog.plan_tree.counts["added"] == 3
    assert "payments/STRIPE_KEY" not in unlocked_app.service.manager.list_secrets()

    with qtbot.waitSignal(dialog.imported):
        dialog.run_import()
    assert unlocked_app.service.reveal("payments/STRIPE_KEY") == "sk_test_second"
    assert unlocked_app.service.reveal("payments/DB_URL") == "postgres://u:p@h/db"
    assert dialog.status.text().startswith("Imported: 3 added")
    assert dialog.report_tree.topLevelItemCount() == len(names)  # the report stays after writing


def test_foreign_unmapped_fields_listed_per_entry(unlocked_app, qtbot, tmp_path):
    export = tmp_path / "bitwarden.json"
    export.write_text(
        '{"encrypted": false, "folders": [], "items": [{"id": "1", "type": 1, "name": "mail",'
        ' "login": {"username": "me", "password": "pw", "uris": [{"uri": "https://m.example"}],'
        ' "fido2Credentials": [{"credentialId": "x"}]}, "attachments": [{"fileName": "a.pdf"}]}]}'
    )
    dialog = unlocked_app.open_foreign_import()
    dialog.file.set_path(export)
    assert dialog.fmt() == "bitwarden-json"
    dialog.read_file()
    report = dialog.report
    assert report.entries and report.unmapped
    first = dialog.report_tree.topLevelItem(0)
    children = [first.child(i).text(0) for i in range(first.childCount())]
    assert children and all(c.startswith("not imported") for c in children)
    assert len(children) == sum(1 for u in report.unmapped if u.entry == first.text(0))


def test_bad_foreign_file_is_one_line(unlocked_app, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    dialog = unlocked_app.open_foreign_import()
    dialog.file.set_path(bad)
    dialog.read_file()
    assert dialog.report is None and dialog.message.message()
    assert "\n" not in dialog.message.message()


def test_progress_relay_sends_a_few_updates_and_always_the_last(qtbot):
    from echo_vault_app.gui.dialog_parts import ProgressRelay

    relay = ProgressRelay()
    seen: list[tuple[str, int, int]] = []
    relay.progressed.connect(lambda stage, done, total: seen.append((stage, done, total)))
    for done in range(1, 100_001):
        relay.report("writing", done, 100_000)
    relay.report("audit", 0, 0)

    assert len(seen) < 100  # one per interval, not one per secret
    assert seen[0] == ("writing", 1, 100_000)
    assert ("writing", 100_000, 100_000) in seen
    assert seen[-1] == ("audit", 0, 0)
