"""Secrets browser: model, filter, groups, details, add/edit through templates, history, trash."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from echo_vault_app.gui import prompts
from echo_vault_app.gui.browser_types import Filter
from echo_vault_app.gui.details_panel import MASK
from echo_vault_app.gui.secrets_model import SecretsTableModel


def names(app) -> list[str]:
    return [s.name for s in app.browser.model.rows()]


def test_models_pass_qtmodeltester(unlocked_app, qtmodeltester):
    qtmodeltester.check(unlocked_app.browser.model)
    empty = SecretsTableModel()
    qtmodeltester.check(empty)
    unlocked_app.browser.model.sort(3, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(unlocked_app.browser.model)


def test_model_holds_no_values(unlocked_app):
    model = unlocked_app.browser.model
    cells = [
        str(model.data(model.index(r, c)))
        for r in range(model.rowCount())
        for c in range(model.columnCount())
    ]
    assert not any("sk_live" in cell or "pw-two" in cell for cell in cells)


def test_filter_as_you_type_uses_the_index(unlocked_app, qtbot):
    browser = unlocked_app.browser
    assert len(names(unlocked_app)) == 5
    qtbot.keyClicks(browser.search, "stri")
    qtbot.waitUntil(lambda: names(unlocked_app) == ["stripe/production", "stripe/staging"])
    browser.search.setText("tag:ci")
    qtbot.waitUntil(lambda: names(unlocked_app) == ["github/token"])
    browser.search.setText("is:bogus")
    qtbot.waitUntil(lambda: not browser.search_error.isHidden())
    assert "is:bogus" in browser.search_error.text()
    assert names(unlocked_app) == ["github/token"]  # the last good result stays
    browser.search.setText("-stripe")
    qtbot.waitUntil(lambda: names(unlocked_app) == ["db/orders", "github/token", "legacy/ftp"])
    assert browser.search_error.isHidden()


def test_groups_sidebar_filters_by_prefix_tag_and_favourite(unlocked_app, qtbot):
    browser = unlocked_app.browser
    qtbot.waitUntil(lambda: browser.groups.count() > 3)
    browser.groups.choose(Filter(prefix="stripe"))
    assert names(unlocked_app) == ["stripe/production", "stripe/staging"]
    browser.groups.choose(Filter(tag="payments"))
    assert names(unlocked_app) == ["stripe/production", "stripe/staging"]
    browser.groups.choose(Filter(special="favourites"))
    assert names(unlocked_app) == ["stripe/production"]
    browser.groups.choose(Filter(special="expiring"))
    assert names(unlocked_app) == ["legacy/ftp"]
    browser.groups.choose(Filter())
    assert len(names(unlocked_app)) == 5


def test_sort_columns(unlocked_app):
    table = unlocked_app.browser.table
    table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert names(unlocked_app)[0] == "stripe/staging"
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert names(unlocked_app)[0] == "db/orders"


def test_details_masks_and_reveals(unlocked_app, qtbot):
    browser = unlocked_app.browser
    assert browser.select("stripe/production")
    details = browser.details
    row = details.row_for("secret_key")
    assert row.value.text() == MASK
    assert details.row_for("account_id").value.text() == "acct_1032D82eZvKYlo2C"
    row.reveal.click()
    assert row.value.text() == "sk_live_51Habcdefghijkl"
    events = unlocked_app.service.manager.audit_events(action="reveal")
    assert events[-1].target == "stripe/production"
    browser.select("db/orders")
    browser.select("stripe/production")
    assert details.row_for("secret_key").value.text() == MASK


def test_keyboard_copy_secret_and_user(unlocked_app, qtbot):
    browser = unlocked_app.browser
    browser.select("db/orders")
    browser.table.setFocus()
    qtbot.keyClick(browser.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "pw-two"
    qtbot.keyClick(browser.table, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "orders"
    copies = unlocked_app.service.manager.audit_events(action="copy")
    assert [e.target for e in copies] == ["db/orders"]
    assert unlocked_app.service.recent()[0] == "db/orders"


def test_keyboard_only_navigation(unlocked_app, qtbot):
    browser = unlocked_app.browser
    window = unlocked_app.window
    window.activateWindow()
    qtbot.keyClick(browser.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert browser.search.hasFocus() or QGuiApplication.focusObject() is browser.search
    qtbot.keyClicks(browser.search, "github")
    qtbot.waitUntil(lambda: names(unlocked_app) == ["github/token"])
    qtbot.keyClick(browser.search, Qt.Key.Key_Down)
    assert browser.current_name() == "github/token"


def test_add_from_template_with_inline_validation(unlocked_app, qtbot):
    browser = unlocked_app.browser
    qtbot.keyClick(browser.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = browser.dialog
    assert form is not None and form.isVisible()
    form.template_box.setCurrentIndex(form.template_box.findData("stripe"))
    assert set(form.editors) == {"secret_key", "publishable_key", "webhook_secret", "account_id"}
    qtbot.keyClicks(form.name_edit, "stripe/eu")
    qtbot.keyClicks(form.editors["secret_key"].secret_edit.edit, "pk_live_wrongkind")
    form.buttons.button(form.buttons.StandardButton.Save).click()
    assert form.isVisible()
    assert form.editors["secret_key"].error_text()

    form.editors["secret_key"].set_value("sk_live_goodkey123")
    qtbot.keyClicks(form.tags_edit, "payments, eu")
    form.buttons.button(form.buttons.StandardButton.Save).click()
    assert not form.isVisible()
    assert "stripe/eu" in names(unlocked_app)
    assert browser.current_name() == "stripe/eu"
    assert unlocked_app.service.manager.reveal("stripe/eu") == "sk_live_goodkey123"
    assert unlocked_app.service.manager.get("stripe/eu").summary.tags == ("payments", "eu")


def test_add_with_taken_name_says_so(unlocked_app, qtbot):
    form = unlocked_app.browser.add_secret("generic")
    form.name_edit.setText("github/token")
    form.editors["value"].set_value("x")
    form.buttons.button(form.buttons.StandardButton.Save).click()
    assert form.isVisible()
    assert "already exists" in form.name_error.text()


def test_edit_keeps_values_and_records_history(unlocked_app, qtbot):
    browser = unlocked_app.browser
    form = browser.edit_secret("github/token")
    assert form.editors["value"].value() == "ghp_exampletoken123"
    form.editors["value"].set_value("ghp_rotated456")
    form.buttons.button(form.buttons.StandardButton.Save).click()
    assert not form.isVisible()
    manager = unlocked_app.service.manager
    assert manager.reveal("github/token") == "ghp_rotated456"
    assert [h.version for h in manager.history("github/token")] == [1]


def test_restore_from_history(unlocked_app, qtbot):
    browser = unlocked_app.browser
    browser.select("db/orders")
    qtbot.mouseClick(browser.details.history_button, Qt.MouseButton.LeftButton)
    dialog = browser.dialog
    assert dialog.selected_version() == 1
    prompts.preset(True)
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    manager = unlocked_app.service.manager
    assert manager.reveal("db/orders") == "pw-one"
    assert manager.get("db/orders").version == 3
    assert "Restored version 1" in browser.message.message()


def test_delete_to_trash_and_undo(unlocked_app, qtbot):
    browser = unlocked_app.browser
    browser.select("github/token")
    browser.table.setFocus()
    qtbot.keyClick(browser.table, Qt.Key.Key_Delete)
    assert "github/token" not in names(unlocked_app)
    assert [s.name for s in unlocked_app.service.manager.trash()] == ["github/token"]
    assert "trash" in browser.message.message()
    qtbot.mouseClick(browser.message.action, Qt.MouseButton.LeftButton)
    assert "github/token" in names(unlocked_app)
    assert browser.current_name() == "github/token"
    assert unlocked_app.service.manager.trash() == []


def test_favourite_toggle(unlocked_app, qtbot):
    browser = unlocked_app.browser
    browser.select("github/token")
    qtbot.mouseClick(browser.details.favourite_button, Qt.MouseButton.LeftButton)
    assert [s.name for s in unlocked_app.service.favourites()] == [
        "github/token",
        "stripe/production",
    ]


def test_expiring_secrets_shown_after_unlock(unlocked_app):
    text = unlocked_app.window.message_bar.message()
    assert "legacy/ftp" in text


def test_staged_load_first_page_then_rest(unlocked_app, qtbot, monkeypatch):
    from echo_vault_app.gui import browser_pane, worker

    monkeypatch.setattr(browser_pane, "FIRST_PAGE", 2)
    worker.set_synchronous(False)
    browser = unlocked_app.browser
    browser.select("db/orders")
    with qtbot.waitSignal(browser.rows_shown, timeout=5000) as blocker:
        browser.refresh()
        assert browser.model.rowCount() == 2
        assert browser.count_label.text() == "Loading…"
    assert blocker.args == [5]
    assert names(unlocked_app) == sorted(names(unlocked_app), key=str.casefold)
    assert len(names(unlocked_app)) == 5
    assert browser.current_name() == "db/orders"
    qtmodel_rows = [browser.model.summary(r).name for r in range(browser.model.rowCount())]
    assert qtmodel_rows == names(unlocked_app)


def test_stale_load_is_dropped(unlocked_app, qtbot, monkeypatch):
    from echo_vault_app.gui import browser_pane, worker

    monkeypatch.setattr(browser_pane, "FIRST_PAGE", 2)
    worker.set_synchronous(False)
    browser = unlocked_app.browser
    browser.refresh()  # starts a background load of all five rows
    stale = browser.loading_task
    browser.search.setText("github")
    browser.refresh()  # newer, small result: the older load must not append to it
    qtbot.waitUntil(lambda: stale.done, timeout=5000)
    assert names(unlocked_app) == ["github/token"]


def test_rows_past_the_first_page_wait_while_the_user_types(unlocked_app, qtbot, monkeypatch):
    from echo_vault_app.gui import browser_pane, worker

    monkeypatch.setattr(browser_pane, "FIRST_PAGE", 2)
    worker.set_synchronous(False)
    browser = unlocked_app.browser
    browser._rest_timer.setInterval(200)
    every = sorted(names(unlocked_app), key=str.casefold)
    browser.search.setText("-nothing-matches-this")
    qtbot.waitUntil(lambda: not browser._refresh_timer.isActive(), timeout=2000)
    browser.loading_task = None
    browser.search.setText("-github")  # typed: all demo secrets but one, more than a page
    qtbot.waitUntil(lambda: not browser._refresh_timer.isActive(), timeout=2000)
    assert len(names(unlocked_app)) == 2 and browser.loading_task is None
    assert browser._rest_timer.isActive()
    qtbot.waitUntil(lambda: len(names(unlocked_app)) == len(every) - 1, timeout=5000)
    assert names(unlocked_app) == [n for n in every if not n.startswith("github/")]


def test_a_refresh_that_is_not_typing_loads_the_rest_at_once(unlocked_app, monkeypatch):
    from echo_vault_app.gui import browser_pane

    monkeypatch.setattr(browser_pane, "FIRST_PAGE", 2)
    browser = unlocked_app.browser
    browser.refresh()  # as after unlock or a change to the vault; the worker runs inline here
    assert not browser._rest_timer.isActive()
    assert names(unlocked_app) == sorted(names(unlocked_app), key=str.casefold)
    assert len(names(unlocked_app)) > 2


def test_superseded_load_stops_reading_pages(unlocked_app):
    service = unlocked_app.service
    pages: list[int] = []
    everything = service.search_after(Filter(), "", page=1)
    assert [s.name for s in everything] == sorted(names(unlocked_app), key=str.casefold)

    def cancelled() -> bool:
        pages.append(1)
        return len(pages) > 2  # a newer filter arrived while the second page was read

    partial = service.search_after(Filter(), "", page=1, cancelled=cancelled)
    assert len(partial) == 2 and len(pages) == 3


def test_a_search_loads_in_pages_after_one_query_and_stops_when_superseded(unlocked_app):
    service = unlocked_app.service
    search = Filter(query="-github")  # every demo secret but one, as a search
    every = service.search(search)
    assert len(every) >= 4
    first = every[0].name
    assert service.search_after(search, first, page=1) == every[1:]

    asked: list[int] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 1  # a newer filter arrived while the first page was read

    partial = service.search_after(search, first, page=1, cancelled=cancelled)
    assert partial == every[1:2]


def test_a_load_cut_short_inside_a_statement_ends_quietly_and_the_next_search_runs(
    unlocked_app,
):
    """What a keystroke does to an older filter's load (``refresh`` cuts it from the GUI
    thread); here the cut comes from SQLite's progress callback, inside the load's statement."""
    service = unlocked_app.service
    search = Filter(query="-github")
    every = service.search(search)
    cuts: list[bool] = []

    def cut_once() -> int:
        if not cuts:
            cuts.append(service.manager.vault.cut_yielding_reads())
        return 0

    with service.manager.vault.read() as conn:
        conn.set_progress_handler(cut_once, 1)
    try:
        partial = service.search_after(search, "", page=1)
    finally:
        with service.manager.vault.read() as conn:
            conn.set_progress_handler(None, 1)
    assert cuts == [True]
    assert partial == []  # stopped in the search itself, before any page was read
    assert service.search(search) == every
    assert service.search_after(search, every[0].name, page=1) == every[1:]
