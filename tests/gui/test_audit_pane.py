"""Audit log viewer: filters, and chain verification naming a tampered row."""

from __future__ import annotations

from PySide6.QtCore import Qt


def _open(app):
    pane = app.window.show_pane("audit")
    assert pane is app.audit
    return pane


def test_audit_model_and_filters(unlocked_app, qtmodeltester, qtbot):
    pane = _open(unlocked_app)
    qtmodeltester.check(pane.model)
    total = pane.model.rowCount()
    assert total > 5
    pane.action_box.setCurrentIndex(pane.action_box.findData("write"))
    writes = [pane.model.event_at(r) for r in range(pane.model.rowCount())]
    assert writes and all(e.action == "write" for e in writes)
    qtbot.keyClicks(pane.target_edit, "stripe")
    assert {pane.model.event_at(r).target for r in range(pane.model.rowCount())} == {
        "stripe/production",
        "stripe/staging",
    }
    pane.action_box.setCurrentIndex(0)
    pane.target_edit.clear()
    qtbot.keyClicks(pane.text_edit, "unlock")
    assert all(
        "unlock" in " ".join(map(str, (e.action, e.detail)))
        for e in (pane.model.event_at(r) for r in range(pane.model.rowCount()))
    )


def test_verify_intact_chain(unlocked_app, qtbot):
    pane = _open(unlocked_app)
    qtbot.mouseClick(pane.verify_button, Qt.MouseButton.LeftButton)
    assert "intact" in pane.message.message()


def test_verify_names_tampered_row(unlocked_app, qtbot):
    vault = unlocked_app.service.manager.vault
    with vault.transaction() as tx:
        tx.execute("UPDATE audit_log SET action = 'x' WHERE seq = 2")
    pane = _open(unlocked_app)
    pane.reload()
    qtbot.mouseClick(pane.verify_button, Qt.MouseButton.LeftButton)
    text = pane.message.message()
    assert "broken at event 2" in text
    selected = pane.table.selectionModel().selectedRows()
    assert [pane.model.event_at(i.row()).seq for i in selected] == [2]
