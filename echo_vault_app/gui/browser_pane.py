"""The secrets browser: groups, filter-as-you-type over the FTS index, table, details.

Everything works from the keyboard: Ctrl+F search, Down/Enter from the search field into the
table, Ctrl+C copy secret, Ctrl+B copy user name, Ctrl+N new, Ctrl+E or Enter edit, Delete to
trash (with Undo in the message bar).
"""

from __future__ import annotations

import dataclasses
import logging

import shiboken6
from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.errors import EchoVaultError, UsageError
from echo_vault_app.gui import worker
from echo_vault_app.gui.browser_types import Filter
from echo_vault_app.gui.copier import Copier
from echo_vault_app.gui.details_panel import DetailsPanel
from echo_vault_app.gui.groups_list import GroupsList
from echo_vault_app.gui.history_dialog import HistoryDialog
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.message_bar import MessageBar
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.secret_form import SecretFormDialog
from echo_vault_app.gui.secrets_model import SecretsTableModel
from echo_vault_app.gui.service import VaultService
from echo_vault_app.gui.signals import emit

log = logging.getLogger(__name__)

FIRST_PAGE = 200
REST_AFTER_TYPING_MS = 300
"""How long the rows after the first page wait once the user types.

Loading the rest of a broad match (tens of thousands of rows) on a worker thread competes with
the GUI thread for the interpreter lock and the vault connection. Started at once, it slowed
the next keystroke by 2-6 ms while the user was still typing, for rows that keystroke then threw
away; people pause for longer than this between words, not between letters.
"""


class BrowserPane(QWidget):
    """The Secrets pane."""

    rows_shown = Signal(int)

    def __init__(self, service: VaultService, copier: Copier, parent: QWidget | None = None):
        super().__init__(parent)
        self.service = service
        self.copier = copier
        self.dialog: QWidget | None = None
        self._group = Filter()
        self._generation = 0
        self.loading_task: worker.Task | None = None
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self._on_refresh_timer_timeout)
        self._rest_timer = QTimer(self)
        self._rest_timer.setSingleShot(True)
        self._rest_timer.setInterval(REST_AFTER_TYPING_MS)
        self._rest_timer.timeout.connect(self._load_rest)
        self._rest: tuple[int, Filter, str] | None = None

        self.groups = GroupsList(self)
        self.groups.group_chosen.connect(self._on_groups_group_chosen)
        self.search = QLineEdit(self)
        self.search.setAccessibleName(self.tr("Search secrets"))
        self.search.setPlaceholderText(
            self.tr("Search (Ctrl+F): words, name:, tag:, type:, is:expired, -exclude")
        )
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.textChanged.connect(lambda _text: self._refresh_timer.start())
        self.search.installEventFilter(self)
        self.add_button = QToolButton(self)
        self.add_button.setIcon(icon("add"))
        self.add_button.setText(self.tr("New"))
        self.add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.add_button.setAccessibleName(self.tr("New secret"))
        self.add_button.setToolTip(self.tr("New secret (Ctrl+N)"))
        self.add_button.clicked.connect(lambda: self.add_secret())
        self.count_label = QLabel(self)
        self.search_error = QLabel(self)
        self.search_error.hide()

        self.model = SecretsTableModel(self._template_name, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName(self.tr("Secrets"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        for column, width in ((1, 125), (2, 115), (3, 84), (4, 84)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        self.table.doubleClicked.connect(lambda _index: self.edit_current())
        self.table.installEventFilter(self)

        self.details = DetailsPanel(service, self)
        self.details.copy_field_requested.connect(self._on_details_copy_field_requested)
        self.details.copy_username_requested.connect(self.copier.copy_username)
        self.details.edit_requested.connect(self.edit_secret)
        self.details.history_requested.connect(self.show_history)
        self.details.delete_requested.connect(self.delete_secret)
        self.details.favourite_toggled.connect(self._on_details_favourite_toggled)
        self.details.error_raised.connect(self._show_error)
        self.message = MessageBar(self)

        self._build_layout()
        self._build_actions()
        service.vault_unlocked.connect(self._on_service_vault_unlocked)
        service.vault_locked.connect(self._on_service_vault_locked)
        service.secrets_changed.connect(self._on_service_secrets_changed)

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self.search, 1)
        top.addWidget(self.add_button)
        middle = QWidget(self)
        column = QVBoxLayout(middle)
        column.setContentsMargins(8, 8, 4, 8)
        column.setSpacing(6)
        column.addLayout(top)
        column.addWidget(self.search_error)
        column.addWidget(self.message)
        column.addWidget(self.table, 1)
        column.addWidget(self.count_label)
        self.splitter = QSplitter(self)
        self.splitter.addWidget(self.groups)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([175, 600, 325])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.setFocusProxy(self.search)

    def _build_actions(self) -> None:
        def action(text: str, keys: str | QKeySequence.StandardKey, slot) -> QAction:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(keys))
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.find_action = action(self.tr("Find"), "Ctrl+F", self.focus_search)
        self.new_action = action(self.tr("New secret"), "Ctrl+N", lambda: self.add_secret())
        self.edit_action = action(self.tr("Edit"), "Ctrl+E", self.edit_current)
        self.copy_action = action(self.tr("Copy secret"), "Ctrl+C", self.copy_current)
        self.user_action = action(self.tr("Copy user name"), "Ctrl+B", self.copy_current_user)
        self.delete_action = action(self.tr("Delete"), "Delete", self.delete_current)

    # -- loading --------------------------------------------------------------------------

    def current_filter(self) -> Filter:
        return dataclasses.replace(self._group, query=self.search.text())

    def _on_refresh_timer_timeout(self) -> None:
        self.refresh(typing=True)

    def refresh(self, *, typing: bool = False) -> None:
        """Re-run the filter through the FTS index and keep the selection when possible.

        The first screenful comes back at once, in name order, from the vault's name index;
        when there are more rows, the rest load off the GUI thread and are appended, so a
        keystroke or an unlock never waits for 100,000 summaries to be built. After a
        keystroke (``typing``) the rest wait until typing pauses (``REST_AFTER_TYPING_MS``).
        """
        if not self.service.is_unlocked:
            return
        self._generation += 1
        generation = self._generation
        self.service.cut_background_reads()  # an older filter's load would hold the vault
        selected = self.current_name()
        flt = self.current_filter()
        try:
            rows = self.service.search(flt, limit=FIRST_PAGE)
        except UsageError as exc:
            self.search_error.setText(describe(exc))
            self.search_error.show()
            return
        self.search_error.hide()
        self.model.set_rows(rows)
        self._select_name(selected)
        if len(rows) < FIRST_PAGE:
            self._loaded(len(rows))
            return
        self.count_label.setText(self.tr("Loading…"))
        self._rest = (generation, flt, rows[-1].name)
        if typing:
            self._rest_timer.start()
        else:
            self._load_rest()

    def _load_rest(self) -> None:
        """Start loading the rows after the first page, unless a newer filter replaced them."""
        rest, self._rest = self._rest, None
        self._rest_timer.stop()
        if rest is None or rest[0] != self._generation or not self.service.is_unlocked:
            return
        generation, flt, after = rest
        self.loading_task = worker.run_in_background(
            self.service.search_after,
            flt,
            after,
            cancelled=lambda g=generation: g != self._generation,
            on_result=lambda full, g=generation: self._on_rest_loaded(full, g),
            on_error=lambda exc, g=generation: self._on_rest_failed(exc, g),
            name="load-summaries",
        )

    def _on_rest_loaded(self, rows: list, generation: int) -> None:
        if generation != self._generation or not self.service.is_unlocked:
            return  # a newer filter or a lock superseded this load
        selected = self.current_name()
        self.model.extend_rows(rows)
        if selected and self.current_name() != selected:
            self._select_name(selected)
        self._loaded(self.model.rowCount())

    def _on_rest_failed(self, exc: BaseException, generation: int) -> None:
        if generation == self._generation:
            self._show_error(describe(exc))

    def _loaded(self, count: int) -> None:
        self.count_label.setText(self.tr("%n secret(s)", "", count))
        emit(self.rows_shown, count)

    def refresh_groups(self) -> None:
        """Recount the sidebar off the GUI thread (it walks every name)."""
        if self.service.is_unlocked:
            worker.run_in_background(
                self.service.groups, on_result=self._on_groups_counted, name="count-groups"
            )

    def _on_groups_counted(self, groups) -> None:
        if self.service.is_unlocked:
            self.groups.set_groups(groups)

    def _select_name(self, name: str | None) -> None:
        row = self.model.row_of(name) if name else -1
        if row < 0:
            self.details.show_secret(None)
            return
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)

    def select(self, name: str) -> bool:
        self._select_name(name)
        return self.current_name() is not None

    def current_name(self) -> str | None:
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row()):
            return None
        return self.model.summary(index.row()).name

    def _template_name(self, template_id: str) -> str:
        template = self.service.template(template_id) if self.service.is_unlocked else None
        return template.name if template else template_id

    # -- intents --------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def copy_current(self) -> None:
        name = self.current_name()
        if name:
            self.copier.copy_secret(name)

    def copy_current_user(self) -> None:
        name = self.current_name()
        if name:
            self.copier.copy_username(name)

    def add_secret(self, template_id: str | None = None) -> SecretFormDialog:
        dialog = SecretFormDialog(self.service, template_id=template_id, parent=self)
        self._open_form(dialog)
        return dialog

    def edit_current(self) -> None:
        name = self.current_name()
        if name:
            self.edit_secret(name)

    def edit_secret(self, name: str) -> SecretFormDialog | None:
        try:
            dialog = SecretFormDialog(self.service, name=name, parent=self)
        except EchoVaultError as exc:
            self._show_error(describe(exc))
            return None
        self._open_form(dialog)
        return dialog

    def _open_form(self, dialog: SecretFormDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda d=dialog: self._on_form_accepted(d))
        self.dialog = dialog
        dialog.open()

    def _on_form_accepted(self, dialog: SecretFormDialog) -> None:
        if dialog.saved is not None:
            self.refresh()
            self._select_name(dialog.saved.name)
            self.message.show_message(
                self.tr("Saved %1.").replace("%1", dialog.saved.name), kind="ok", timeout_ms=4000
            )

    def show_history(self, name: str) -> HistoryDialog | None:
        try:
            dialog = HistoryDialog(self.service, name, self)
        except EchoVaultError as exc:
            self._show_error(describe(exc))
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda n=name: self._on_history_accepted(n, dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _on_history_accepted(self, name: str, dialog: HistoryDialog) -> None:
        text = self.tr("Restored version %1 of %2.").replace("%1", str(dialog.restored))
        self.message.show_message(text.replace("%2", name), kind="ok", timeout_ms=4000)
        self.details.show_secret(name)

    def delete_current(self) -> None:
        name = self.current_name()
        if name:
            self.delete_secret(name)

    def delete_secret(self, name: str) -> None:
        """Move to the trash at once; the message bar offers Undo."""
        row = self.table.currentIndex().row()
        try:
            self.service.delete(name)
        except EchoVaultError as exc:
            self._show_error(describe(exc))
            return
        self.message.show_message(
            self.tr("Moved %1 to the trash.").replace("%1", name),
            action=self.tr("Undo"),
            callback=lambda n=name: self.undo_delete(n),
        )
        if self.model.rowCount():
            self.table.selectRow(min(row, self.model.rowCount() - 1))
        self.table.setFocus()

    def undo_delete(self, name: str) -> None:
        try:
            self.service.undo_delete(name)
        except EchoVaultError as exc:
            self._show_error(describe(exc))
            return
        self._select_name(name)
        self.message.show_message(
            self.tr("Restored %1.").replace("%1", name), kind="ok", timeout_ms=4000
        )

    def _show_error(self, text: str) -> None:
        self.message.show_message(text, kind="error")

    # -- slots ----------------------------------------------------------------------------

    def _on_groups_group_chosen(self, flt: Filter) -> None:
        self._group = flt
        self.refresh()

    def _on_table_current_row_changed(self, current, _previous) -> None:
        name = self.model.summary(current.row()).name if current.isValid() else None
        self.details.show_secret(name)

    def _on_details_copy_field_requested(self, name: str, field: str) -> None:
        self.copier.copy_secret(name, field or None)

    def _on_details_favourite_toggled(self, name: str, favourite: bool) -> None:
        try:
            self.service.set_favourite(name, favourite)
        except EchoVaultError as exc:
            self._show_error(describe(exc))

    def _on_service_vault_unlocked(self) -> None:
        self.search.clear()
        # No row is selected yet: showing details would wait for the vault behind the
        # background load. Down or Enter in the search field selects the first row.
        self.refresh()
        # The sidebar's counts walk every name: fill it after the table has painted.
        QTimer.singleShot(0, self.refresh_groups)

    def _on_service_vault_locked(self) -> None:
        self._generation += 1
        # A form or history dialog left open must not outlive the keys it was opened with.
        if self.dialog is not None and shiboken6.isValid(self.dialog):
            self.dialog.close()
        self.dialog = None
        self.details.show_secret(None)
        self.model.set_rows([])
        self.groups.clear()
        self.message.hide()
        self.search.clear()

    def _on_service_secrets_changed(self) -> None:
        self.refresh_groups()
        self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if event.type() != QEvent.Type.KeyPress:
            return False
        key = event.key()
        if watched is self.search and key in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.table.setFocus()
            if self.current_name() is None and self.model.rowCount():
                self.table.selectRow(0)
            return True
        if watched is self.table and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.edit_current()
            return True
        return False
