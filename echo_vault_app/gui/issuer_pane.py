"""The Issuer pane: API keys, issuing JWTs, verifying pasted tokens, signing keys and JWKS.

Each tab is its own module; this pane only hosts them and refreshes the visible one when the
pane is shown or the records change.
"""

from __future__ import annotations

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from echo_vault_app.gui.apikeys_tab import ApiKeysTab
from echo_vault_app.gui.clipboard import ClipboardGuard
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.issuer_service import IssuerService
from echo_vault_app.gui.signing_keys_tab import SigningKeysTab
from echo_vault_app.gui.token_issue_tab import TokenIssueTab
from echo_vault_app.gui.token_verify_tab import TokenVerifyTab


class IssuerPane(QWidget):
    """Tabs: API keys, Issue token, Verify token, Signing keys."""

    def __init__(
        self, issuer: IssuerService, clipboard: ClipboardGuard, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.issuer = issuer
        self.api_keys = ApiKeysTab(issuer, clipboard, self)
        self.issue = TokenIssueTab(issuer, clipboard, self)
        self.verify = TokenVerifyTab(issuer, self)
        self.signing_keys = SigningKeysTab(issuer, self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.setAccessibleName(self.tr("Issuer sections"))
        self.tabs.addTab(self.api_keys, icon("key"), self.tr("API keys"))
        self.tabs.addTab(self.issue, icon("add"), self.tr("Issue token"))
        self.tabs.addTab(self.verify, icon("check"), self.tr("Verify token"))
        self.tabs.addTab(self.signing_keys, icon("list"), self.tr("Signing keys"))
        self.tabs.currentChanged.connect(lambda _index: self.reload_current())
        issuer.api_keys_changed.connect(self._on_issuer_records_changed)
        issuer.signing_keys_changed.connect(self._on_issuer_records_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.setFocusProxy(self.tabs)

    def show_tab(self, widget: QWidget) -> QWidget:
        self.tabs.setCurrentWidget(widget)
        self.reload_current()
        return widget

    def reload_current(self) -> None:
        if not self.issuer.service.is_unlocked:
            return
        current = self.tabs.currentWidget()
        if hasattr(current, "reload"):
            current.reload()

    def _on_issuer_records_changed(self) -> None:
        if self.isVisible():
            self.reload_current()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self.reload_current()
