"""Verify a pasted token: its decoded header and claims, and exactly why it is refused.

The verdict comes from the library's strict verifier (``decode_jwt_token``), whose refusal
names the reason (expired, bad signature, unknown key …); this tab turns the reason into a
headline and keeps the library's own sentence beneath it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.issuer_service import IssuerService, TokenInspection
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.token_view import DecodedTokenView


class TokenVerifyTab(QWidget):
    """Paste on the left; the verdict and the decoded token on the right."""

    def __init__(self, issuer: IssuerService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.issuer = issuer
        self.result: TokenInspection | None = None
        self._headlines = {
            "malformed": self.tr("Not a well-formed token"),
            "too_large": self.tr("Token too large"),
            "missing_claim": self.tr("A required claim is missing"),
            "algorithm_not_allowed": self.tr("Algorithm refused"),
            "unknown_key": self.tr("Signed by a key this vault does not know"),
            "bad_signature": self.tr("Forged or altered: the signature does not verify"),
            "expired": self.tr("Expired"),
            "not_yet_valid": self.tr("Not valid yet"),
            "wrong_audience": self.tr("Meant for another audience"),
            "wrong_issuer": self.tr("From another issuer"),
            "revoked": self.tr("Revoked"),
        }
        self.paste = QPlainTextEdit(self)
        self.paste.setAccessibleName(self.tr("Token to verify"))
        self.paste.setPlaceholderText(self.tr("Paste a JWT (eyJ…) here."))
        self.paste.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.paste.setTabChangesFocus(True)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.verify)
        self.paste.textChanged.connect(self._timer.start)
        self.glyph = QLabel(self)
        self.verdict = QLabel(self)
        self.verdict.setAccessibleName(self.tr("Verdict"))
        font = self.verdict.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.verdict.setFont(font)
        self.verdict.setWordWrap(True)
        self.detail = QLabel(self)
        self.detail.setAccessibleName(self.tr("Reason"))
        self.detail.setWordWrap(True)
        self.decoded = DecodedTokenView(self)

        paste_box = QGroupBox(self.tr("Token"), self)
        paste_layout = QVBoxLayout(paste_box)
        paste_layout.addWidget(self.paste)
        verdict_row = QHBoxLayout()
        verdict_row.addWidget(self.glyph)
        verdict_row.addWidget(self.verdict, 1)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(verdict_row)
        right_layout.addWidget(self.detail)
        right_layout.addWidget(self.decoded, 1)
        splitter = QSplitter(self)
        splitter.addWidget(paste_box)
        splitter.addWidget(right)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([420, 580])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        self.show_verdict(None)

    def verify(self) -> TokenInspection | None:
        self._timer.stop()
        text = self.paste.toPlainText().strip()
        if not text:
            self.result = None
            self.show_verdict(None)
            return None
        try:
            self.result = self.issuer.inspect_token(text)
        except EchoVaultError as exc:
            self.result = None
            self.verdict.setText(describe(exc))
            return None
        self.show_verdict(self.result)
        return self.result

    def show_verdict(self, result: TokenInspection | None) -> None:
        if result is None:
            self.glyph.setPixmap(icon("info").pixmap(QSize(22, 22)))
            self.verdict.setText(self.tr("Paste a token to see what it says and whether it holds."))
            self.detail.setText("")
            self.decoded.clear()
            return
        self.decoded.show_token(result.header, result.claims)
        if result.valid:
            self.glyph.setPixmap(icon("check").pixmap(QSize(22, 22)))
            self.verdict.setText(self.tr("Valid: signed by this vault and in date."))
            subject = result.claims.get("sub", "")
            self.detail.setText(self.tr("Subject: %1").replace("%1", str(subject)))
            return
        self.glyph.setPixmap(icon("warning").pixmap(QSize(22, 22)))
        headline = self._headlines.get(result.reason, self.tr("Refused"))
        exp = result.claims.get("exp")
        if result.reason == "expired" and isinstance(exp, int | float):
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(exp))
            headline = self.tr("Expired at %1").replace("%1", stamp)
        self.verdict.setText(headline)
        self.detail.setText(result.message)
