"""The browser's sidebar: all, favourites, expiring, then folders (path prefixes) and tags."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from echo_vault_app.gui.browser_types import Filter, Groups
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.signals import emit

GROUP_ROLE = Qt.ItemDataRole.UserRole + 1


class GroupsList(QListWidget):
    """Emits ``group_chosen`` with a :class:`Filter` holding only the group part."""

    group_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Groups"))
        self.setMinimumWidth(170)
        self.setMaximumWidth(260)
        self.setFrameShape(QListWidget.Shape.NoFrame)
        self.setIconSize(QSize(16, 16))
        self.setSpacing(1)
        self.currentItemChanged.connect(self._on_current_item_changed)

    def set_groups(self, groups: Groups) -> None:
        """Rebuild the list, keeping the current group selected when it still exists."""
        current = self.current_filter()
        self.blockSignals(True)
        self.clear()
        self._add(self.tr("All secrets"), "list", Filter(), groups.total)
        self._add(self.tr("Favourites"), "star", Filter(special="favourites"), groups.favourites)
        self._add(self.tr("Expiring soon"), "clock", Filter(special="expiring"), groups.expiring)
        if groups.prefixes:
            self._header(self.tr("Folders"))
            for prefix, count in groups.prefixes:
                self._add(prefix, "folder", Filter(prefix=prefix), count)
        if groups.tags:
            self._header(self.tr("Tags"))
            for tag, count in groups.tags:
                self._add(tag, "tag", Filter(tag=tag), count)
        self._select(current)
        self.blockSignals(False)

    def _add(self, text: str, icon_name: str, flt: Filter, count: int) -> None:
        item = QListWidgetItem(icon(icon_name), f"{text}  ({count:,})", self)
        item.setData(GROUP_ROLE, flt)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{text}, {count}")

    def _header(self, text: str) -> None:
        item = QListWidgetItem(text.upper(), self)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        font = QFont(item.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 0.85)
        item.setFont(font)

    def _select(self, wanted: Filter) -> None:
        for row in range(self.count()):
            if self.item(row).data(GROUP_ROLE) == wanted:
                self.setCurrentRow(row)
                return
        self.setCurrentRow(0)

    def current_filter(self) -> Filter:
        item = self.currentItem()
        flt = item.data(GROUP_ROLE) if item is not None else None
        return flt if isinstance(flt, Filter) else Filter()

    def choose(self, flt: Filter) -> None:
        self._select(flt)

    def _on_current_item_changed(self, *_items: object) -> None:
        emit(self.group_chosen, self.current_filter())
