"""A tree that lists what an import would do or did: added, changed, conflicts, unchanged.

Shared by the backup import and foreign import dialogs, so both read the same way.
"""

from __future__ import annotations

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from echo_vault_app.gui.icons import icon


class ImportSummaryTree(QTreeWidget):
    """One top-level row per category with its count; the names beneath it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setAccessibleName(self.tr("Import preview"))
        self.setUniformRowHeights(True)
        self.counts: dict[str, int] = {}

    def show_preview(self, preview, *, done: bool = False) -> None:
        """``preview`` is an ImportPreview or ImportResult (both carry the same lists)."""
        self.clear()
        self.counts = {}
        rows = (
            ("added", "add", self.tr("Added") if done else self.tr("Will be added")),
            ("changed", "edit", self.tr("Changed") if done else self.tr("Will change")),
            ("conflicts", "warning", self.tr("Differ from the vault (conflicts)")),
            ("skipped", "undo", self.tr("Skipped (kept as in the vault)")),
            ("unchanged", "check", self.tr("Already the same")),
        )
        for key, glyph, title in rows:
            names = list(getattr(preview, key))
            self.counts[key] = len(names)
            top = QTreeWidgetItem(self, [f"{title}: {len(names)}"])
            top.setIcon(0, icon(glyph))
            for name in names[:500]:
                QTreeWidgetItem(top, [name])
            if len(names) > 500:
                QTreeWidgetItem(
                    top, [self.tr("… and %1 more").replace("%1", str(len(names) - 500))]
                )
            top.setExpanded(key != "unchanged" and 0 < len(names) <= 20)
        warnings = list(getattr(preview, "warnings", []))
        if warnings:
            top = QTreeWidgetItem(self, [self.tr("Warnings: %1").replace("%1", str(len(warnings)))])
            top.setIcon(0, icon("info"))
            for text in warnings[:500]:
                QTreeWidgetItem(top, [text])
            top.setExpanded(len(warnings) <= 20)

    def summary_line(self) -> str:
        c = self.counts
        return (
            self.tr("%1 added, %2 changed, %3 conflicts, %4 unchanged, %5 skipped")
            .replace("%1", str(c.get("added", 0)))
            .replace("%2", str(c.get("changed", 0)))
            .replace("%3", str(c.get("conflicts", 0)))
            .replace("%4", str(c.get("unchanged", 0)))
            .replace("%5", str(c.get("skipped", 0)))
        )
