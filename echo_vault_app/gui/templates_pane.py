"""The credential templates pane: browse templates, start a secret from one, reload the
user templates folder and see which files were skipped and why."""

from __future__ import annotations

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    QStringListModel,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QDesktopServices, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.message_bar import MessageBar
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.service import VaultService
from echo_vault_app.gui.signals import emit
from echo_vault_app.secrets.templates import Template

TEMPLATE_ROLE = Qt.ItemDataRole.UserRole + 1


class TemplatesModel(QStringListModel):
    """Template names for the list; the template itself under ``TEMPLATE_ROLE``."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._templates: list[Template] = []

    def set_templates(self, templates: list[Template]) -> None:
        self._templates = list(templates)
        self.setStringList([t.name for t in self._templates])

    def template(self, row: int) -> Template:
        return self._templates[row]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        inside = index.isValid() and 0 <= index.row() < len(self._templates)
        if inside and role == TEMPLATE_ROLE:
            return self._templates[index.row()]
        if inside and role == Qt.ItemDataRole.DecorationRole:
            return icon("template")
        if inside and role == Qt.ItemDataRole.ToolTipRole:
            return self._templates[index.row()].description
        return super().data(index, role)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        return super().flags(index) & ~Qt.ItemFlag.ItemIsEditable & ~Qt.ItemFlag.ItemIsDragEnabled


class TemplatesPane(QWidget):
    """Emits ``create_requested(template_id)``; the app opens the form in the browser."""

    create_requested = Signal(str)

    def __init__(self, service: VaultService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.model = TemplatesModel(self)
        self.list = QListView(self)
        self.list.setModel(self.model)
        self.list.setAccessibleName(self.tr("Templates"))
        self.list.setMinimumWidth(200)
        self.list.setIconSize(QSize(16, 16))
        self.list.setSpacing(2)
        self.list.selectionModel().currentRowChanged.connect(self._on_list_current_row_changed)
        self.list.activated.connect(lambda _index: self._on_create_clicked())

        self.title = QLabel(self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.source = QLabel(self)
        self.source.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.fields = QTableWidget(0, 4, self)
        self.fields.setHorizontalHeaderLabels(
            [self.tr("Field"), self.tr("Kind"), self.tr("Secret"), self.tr("Format")]
        )
        self.fields.setAccessibleName(self.tr("Template fields"))
        self.fields.verticalHeader().hide()
        self.fields.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.fields.horizontalHeader().setStretchLastSection(True)
        self.fields.setShowGrid(False)
        self.create_button = QPushButton(icon("add"), self.tr("New secret from this template"))
        self.create_button.setAccessibleName(self.tr("New secret from this template"))
        self.create_button.clicked.connect(self._on_create_clicked)

        self.folder_label = QLabel(self)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.setWordWrap(True)
        self.open_button = QPushButton(icon("folder"), self.tr("Open folder"), self)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.reload_button = QPushButton(icon("refresh"), self.tr("Reload"), self)
        self.reload_button.setAccessibleName(self.tr("Reload user templates"))
        self.reload_button.clicked.connect(self.reload)
        self.message = MessageBar(self)

        detail = QWidget(self)
        right = QVBoxLayout(detail)
        right.setContentsMargins(12, 8, 8, 8)
        right.addWidget(self.title)
        right.addWidget(self.description)
        right.addWidget(self.source)
        right.addWidget(self.fields, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.create_button)
        right.addLayout(row)
        splitter = QSplitter(self)
        splitter.addWidget(self.list)
        splitter.addWidget(detail)
        splitter.setSizes([230, 790])
        splitter.setChildrenCollapsible(False)
        bottom = QHBoxLayout()
        bottom.addWidget(QLabel(self.tr("User templates:"), self))
        bottom.addWidget(self.folder_label, 1)
        bottom.addWidget(self.open_button)
        bottom.addWidget(self.reload_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.message)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        self.setFocusProxy(self.list)

        service.vault_unlocked.connect(self._on_service_vault_unlocked)
        service.vault_locked.connect(self._on_service_vault_locked)
        service.templates_changed.connect(self._fill)

    def _on_service_vault_unlocked(self) -> None:
        self.folder_label.setText(str(self.service.templates_folder()))
        self._fill()

    def _on_service_vault_locked(self) -> None:
        self.model.set_templates([])
        self.fields.setRowCount(0)
        self.message.hide()

    def _fill(self) -> None:
        if not self.service.is_unlocked:
            return
        self.model.set_templates(self.service.templates().all())
        if self.model.rowCount():
            self.list.setCurrentIndex(self.model.index(0, 0))

    def reload(self) -> None:
        """Read the user templates folder again and report every skipped file."""
        try:
            registry = self.service.reload_templates()
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")
            return
        if registry.problems:
            lines = [f"{p.path}: {p.message}" for p in registry.problems]
            head = self.tr("%n template file(s) skipped:", "", len(lines))
            self.message.show_message(head + "\n" + "\n".join(lines), kind="warning")
        else:
            count = len(registry.all())
            self.message.show_message(
                self.tr("Reloaded: %1 templates.").replace("%1", str(count)), kind="ok"
            )

    def current_template(self) -> Template | None:
        index = self.list.currentIndex()
        return self.model.template(index.row()) if index.isValid() else None

    def _on_list_current_row_changed(self, *_indexes: object) -> None:
        template = self.current_template()
        if template is None:
            return
        self.title.setText(template.name)
        self.description.setText(template.description)
        origin = self.tr("Built in") if template.source == "builtin" else (template.path or "")
        self.source.setText(f"{origin} · id {template.id}")
        self.fields.setRowCount(len(template.fields))
        for row, spec in enumerate(template.fields):
            required = " *" if spec.required else ""
            cells = [
                spec.label + required,
                spec.kind,
                self.tr("yes") if spec.secret else self.tr("no"),
                spec.help or spec.example,
            ]
            for column, text in enumerate(cells):
                self.fields.setItem(row, column, QTableWidgetItem(text))
        self.fields.resizeColumnsToContents()

    def _on_create_clicked(self) -> None:
        template = self.current_template()
        if template is not None:
            emit(self.create_requested, template.id)

    def _on_open_clicked(self) -> None:
        folder = self.service.templates_folder()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
