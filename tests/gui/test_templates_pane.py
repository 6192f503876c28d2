"""Templates pane: browse, start a secret from a template, reload a folder with a bad file."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_browse_and_create_from_template(unlocked_app, qtbot):
    pane = unlocked_app.window.show_pane("templates")
    names = [pane.model.template(r).id for r in range(pane.model.rowCount())]
    assert "stripe" in names and "aws" in names
    row = names.index("aws")
    pane.list.setCurrentIndex(pane.model.index(row, 0))
    assert pane.title.text() == pane.model.template(row).name
    assert pane.fields.rowCount() == len(pane.model.template(row).fields)
    assert pane.folder_label.text().endswith("templates")

    qtbot.mouseClick(pane.create_button, Qt.MouseButton.LeftButton)
    form = unlocked_app.browser.dialog
    assert form.isVisible() and form.template().id == "aws"
    assert unlocked_app.window.current_pane() is unlocked_app.browser
    form.name_edit.setText("aws/ci")
    form.editors["access_key_id"].set_value("AKIAIOSFODNN7EXAMPLE")
    form.editors["secret_access_key"].set_value("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    form.buttons.button(form.buttons.StandardButton.Save).click()
    assert form.saved is not None
    assert unlocked_app.service.manager.get("aws/ci").summary.template == "aws"


def test_reload_reports_malformed_user_template(unlocked_app, qtbot):
    pane = unlocked_app.window.show_pane("templates")
    folder = unlocked_app.service.templates_folder()
    folder.mkdir(exist_ok=True)
    (folder / "broken.json").write_text('{"format": 1, "id": "broken", "fields": [')
    good = {
        "format": 1,
        "id": "acme",
        "name": "Acme token",
        "description": "Token for the Acme API.",
        "primary_field": "token",
        "username_field": None,
        "allow_extra_fields": False,
        "fields": [
            {
                "name": "token",
                "label": "Token",
                "secret": True,
                "required": True,
                "kind": "password",
                "pattern": None,
                "validator": None,
                "help": "",
                "example": "",
            }
        ],
    }
    import json

    (folder / "acme.json").write_text(json.dumps(good))
    before = pane.model.rowCount()
    qtbot.mouseClick(pane.reload_button, Qt.MouseButton.LeftButton)
    text = pane.message.message()
    assert "broken.json" in text and "skipped" in text
    assert pane.model.rowCount() == before + 1
    assert "acme" in [pane.model.template(r).id for r in range(pane.model.rowCount())]
