"""SecretsTableModel: the browser's rows, metadata only.

The model holds the list of :class:`SecretSummary` the service returned (names, types, tags,
dates; never a value) and formats cells only when the view asks for them, so 100,000 rows cost
one list assignment. Filtering is the vault's FTS index, not a proxy model: the browser swaps
in a new list on every keystroke.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from echo_vault_app.gui.icons import icon
from echo_vault_app.secrets.model import SecretSummary

SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("name", "type", "tags", "updated", "expires")
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_SERVED = frozenset({_DISPLAY, _ACCESSIBLE, _DECORATION, _TOOLTIP, int(SUMMARY_ROLE)})
_Index = QModelIndex | QPersistentModelIndex


def _day(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts)) if ts else ""


class SecretsTableModel(QAbstractTableModel):
    """Rows of summaries with sortable columns.

    Args:
        template_name: maps a template id to the name shown in the Type column.
    """

    def __init__(self, template_name: Callable[[str], str] | None = None, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[SecretSummary] = []
        self._template_name = template_name or (lambda template_id: template_id)
        self._sort: tuple[int, Qt.SortOrder] = (0, Qt.SortOrder.AscendingOrder)
        self._headers = (
            self.tr("Name"),
            self.tr("Type"),
            self.tr("Tags"),
            self.tr("Updated"),
            self.tr("Expires"),
        )

    # -- content --------------------------------------------------------------------------

    def set_rows(self, rows: list[SecretSummary]) -> None:
        """Replace every row; rows arrive sorted by name, other orders are applied here."""
        self.beginResetModel()
        self._rows = rows
        if self._sort != (0, Qt.SortOrder.AscendingOrder):
            self._apply_sort()
        self.endResetModel()

    def extend_rows(self, rows: list[SecretSummary]) -> None:
        """Append rows that follow the current ones in name order (the rest of a staged load)."""
        if not rows:
            return
        if self._sort != (0, Qt.SortOrder.AscendingOrder):
            self.set_rows(self._rows + rows)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows = self._rows + rows
        self.endInsertRows()

    def summary(self, row: int) -> SecretSummary:
        return self._rows[row]

    def row_of(self, name: str) -> int:
        folded = name.casefold()
        return next((i for i, s in enumerate(self._rows) if s.name.casefold() == folded), -1)

    def rows(self) -> list[SecretSummary]:
        return self._rows

    # -- Qt model API ---------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt API)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:  # noqa: N802
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(COLUMNS):
            return self._headers[section]
        return None

    def data(self, index: _Index, role: int = _DISPLAY) -> object:
        # Called for every visible cell and role on each repaint (seven roles a cell, about 800
        # calls a screen), so roles the model does not serve leave at the first line.
        if role not in _SERVED:
            return None
        row = index.row()
        if not 0 <= row < len(self._rows):
            return None
        summary = self._rows[row]
        column = index.column()
        if role in (_DISPLAY, _ACCESSIBLE):
            return self._display(summary, column)
        if role == _DECORATION:
            return icon("star") if column == 0 and summary.favourite else None
        if role == _TOOLTIP:
            return summary.name if column == 0 else None
        return summary

    def _display(self, summary: SecretSummary, column: int) -> str:
        if column == 0:
            return summary.name
        if column == 1:
            return self._template_name(summary.template)
        if column == 2:
            return ", ".join(summary.tags)
        if column == 3:
            return _day(summary.updated)
        if summary.expires is None:
            return ""
        if summary.expires <= time.time():
            return self.tr("expired")
        return _day(summary.expires)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self.beginResetModel()
        self._sort = (column, order)
        self._apply_sort()
        self.endResetModel()

    def _apply_sort(self) -> None:
        column, order = self._sort
        keys: dict[str, Callable[[SecretSummary], object]] = {
            "name": lambda s: s.name.casefold(),
            "type": lambda s: self._template_name(s.template).casefold(),
            "tags": lambda s: ",".join(s.tags).casefold(),
            "updated": lambda s: s.updated,
            "expires": lambda s: (s.expires is None, s.expires or 0.0),
        }
        self._rows = sorted(
            self._rows,
            key=keys[COLUMNS[column]],
            reverse=order == Qt.SortOrder.DescendingOrder,
        )
