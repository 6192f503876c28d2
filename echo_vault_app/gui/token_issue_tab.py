"""Issue a JWT: subject, permissions, custom claims, algorithm and key, lifetime.

The signed token appears on the right with its decoded header and claims beneath it, so the
user sees exactly what a verifier will see.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui.apikeys_tab import split_list
from echo_vault_app.gui.claims_editor import ClaimsEditor, ClaimsError
from echo_vault_app.gui.clipboard import ClipboardGuard
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.issuer_service import ALGORITHMS, IssuedToken, IssuerService
from echo_vault_app.gui.message_bar import MessageBar
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.token_view import DecodedTokenView


class TokenIssueTab(QWidget):
    """The form on the left, the token and its decoded parts on the right."""

    def __init__(
        self, issuer: IssuerService, clipboard: ClipboardGuard, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.issuer = issuer
        self.clipboard = clipboard
        self.issued: IssuedToken | None = None
        self._lifetime_set = False
        self.message = MessageBar(self)

        self.subject_edit = QLineEdit(self)
        self.subject_edit.setAccessibleName(self.tr("Subject"))
        self.subject_edit.setPlaceholderText(self.tr("user@example.com"))
        self.permissions_edit = QLineEdit(self)
        self.permissions_edit.setAccessibleName(self.tr("Permissions"))
        self.permissions_edit.setPlaceholderText(self.tr("secrets:read, audit:read"))
        self.algorithm_box = QComboBox(self)
        self.algorithm_box.setAccessibleName(self.tr("Signing algorithm"))
        for alg in ALGORITHMS:
            self.algorithm_box.addItem(alg, alg)
        self.algorithm_box.currentIndexChanged.connect(lambda _i: self.update_key_label())
        self.key_label = QLabel(self)
        self.key_label.setAccessibleName(self.tr("Signing key"))
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.lifetime = QDoubleSpinBox(self)
        self.lifetime.setRange(0.05, 24 * 366)
        self.lifetime.setDecimals(2)
        self.lifetime.setSuffix(self.tr(" h"))
        self.lifetime.setAccessibleName(self.tr("Lifetime in hours"))
        self.claims_editor = ClaimsEditor(self)
        self.issue_button = QPushButton(icon("key"), self.tr("Issue token"), self)
        self.issue_button.setDefault(True)
        self.issue_button.clicked.connect(self.issue)

        self.token_edit = QPlainTextEdit(self)
        self.token_edit.setReadOnly(True)
        self.token_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.token_edit.setAccessibleName(self.tr("Issued token"))
        self.token_edit.setPlaceholderText(self.tr("The signed token appears here."))
        self.token_edit.setMaximumHeight(120)
        self.token_edit.setTabChangesFocus(True)
        self.copy_button = QPushButton(icon("copy"), self.tr("Copy token"), self)
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.decoded = DecodedTokenView(self)

        form_box = QGroupBox(self.tr("New token"), self)
        form = QFormLayout(form_box)
        form.addRow(self.tr("Subject"), self.subject_edit)
        form.addRow(self.tr("Permissions"), self.permissions_edit)
        alg_row = QHBoxLayout()
        alg_row.addWidget(self.algorithm_box)
        alg_row.addWidget(self.key_label, 1)
        form.addRow(self.tr("Algorithm"), alg_row)
        form.addRow(self.tr("Lifetime"), self.lifetime)
        form.addRow(QLabel(self.tr("Custom claims"), self))
        form.addRow(self.claims_editor)
        button_row = QHBoxLayout()
        button_row.addStretch(1)
        button_row.addWidget(self.issue_button)
        form.addRow(button_row)
        token_box = QGroupBox(self.tr("Token"), self)
        token_layout = QVBoxLayout(token_box)
        token_layout.addWidget(self.token_edit)
        copy_row = QHBoxLayout()
        copy_row.addStretch(1)
        copy_row.addWidget(self.copy_button)
        token_layout.addLayout(copy_row)
        token_layout.addWidget(self.decoded, 1)
        splitter = QSplitter(self)
        splitter.addWidget(form_box)
        splitter.addWidget(token_box)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([460, 540])
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(splitter, 1)

    def reload(self) -> None:
        try:
            if not self._lifetime_set:  # the vault's default, once; the user's choice after
                self.lifetime.setValue(self.issuer.default_lifetime_hours())
                self._lifetime_set = True
            self.update_key_label()
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")

    def update_key_label(self) -> None:
        alg = self.algorithm_box.currentData()
        signers = [
            k for k in self.issuer.signing_keys()
            if k["alg"] == alg and k["sign_until"] is None
        ]  # fmt: skip
        if signers:
            newest = max(signers, key=lambda k: k["created_at"])
            self.key_label.setText(self.tr("key %1").replace("%1", newest["kid"]))
        else:
            self.key_label.setText(self.tr("a new key is created on first use"))

    def issue(self) -> None:
        self.message.hide()
        subject = self.subject_edit.text().strip()
        if not subject:
            self.message.show_message(self.tr("Enter the token's subject."), kind="error")
            self.subject_edit.setFocus()
            return
        try:
            claims = self.claims_editor.claims()
        except ClaimsError:
            self.claims_editor.setFocus()
            return
        try:
            self.issued = self.issuer.issue_jwt(
                subject,
                split_list(self.permissions_edit.text()),
                claims,
                algorithm=self.algorithm_box.currentData(),
                lifetime_seconds=self.lifetime.value() * 3600.0,
            )
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")
            return
        self.token_edit.setPlainText(self.issued.token)
        self.decoded.show_token(self.issued.header, self.issued.claims)
        self.copy_button.setEnabled(True)
        self.update_key_label()

    def _on_copy_clicked(self) -> None:
        if self.issued is not None:
            self.clipboard.copy_secret(self.issued.token)
            self.message.show_message(
                self.tr("Token copied. The clipboard is cleared shortly."), kind="ok"
            )
