"""Signing keys (never their material) and the JWKS export for verifiers elsewhere."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui import prompts
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.issuer_service import IssuerService
from echo_vault_app.gui.message_bar import MessageBar
from echo_vault_app.gui.messages import describe


def _when(seconds: float | None, never: str) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds)) if seconds else never


class SigningKeysTab(QWidget):
    """Lists kid, algorithm and the key's signing and publication window."""

    def __init__(self, issuer: IssuerService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.issuer = issuer
        self.message = MessageBar(self)
        intro = QLabel(
            self.tr(
                "Keys that sign this vault's tokens. EdDSA and ES256 public keys are published"
                " in the JWKS until they retire; HS256 keys never leave the vault. Rotate keys"
                " from Vault ▸ Rotate keys."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setAccessibleName(self.tr("Signing keys"))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setHeaderLabels(
            [
                self.tr("Key id"),
                self.tr("Algorithm"),
                self.tr("Created"),
                self.tr("Signs until"),
                self.tr("Retires"),
                self.tr("Source"),
            ]
        )
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.export_button = QPushButton(icon("save"), self.tr("Export JWKS…"), self)
        self.export_button.setAccessibleName(self.tr("Export the public JWKS to a file"))
        self.export_button.clicked.connect(self.export_jwks)
        self.refresh_button = QPushButton(icon("refresh"), self.tr("Refresh"), self)
        self.refresh_button.clicked.connect(self.reload)

        row = QHBoxLayout()
        row.addWidget(self.export_button)
        row.addWidget(self.refresh_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(intro)
        layout.addWidget(self.tree, 1)
        layout.addLayout(row)

    def reload(self) -> None:
        try:
            keys = self.issuer.signing_keys()
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")
            return
        self.tree.clear()
        for key in sorted(keys, key=lambda k: k["created_at"], reverse=True):
            QTreeWidgetItem(
                self.tree,
                [
                    key["kid"],
                    key["alg"],
                    _when(key["created_at"], "—"),
                    _when(key["sign_until"], self.tr("until rotated")),
                    _when(key["retire_at"], self.tr("not planned")),
                    key["source"],
                ],
            )
        for column in range(1, 6):
            self.tree.resizeColumnToContents(column)

    def export_jwks(self) -> None:
        start = str(Path.home() / "jwks.json")
        chosen = prompts.save_file(
            self, self.tr("Export JWKS"), start, self.tr("JSON files (*.json)")
        )
        if not chosen:
            return
        try:
            count = self.issuer.export_jwks(Path(chosen))
        except EchoVaultError as exc:
            self.message.show_message(describe(exc), kind="error")
            return
        except OSError as exc:
            text = self.tr("Could not write the file: %1").replace("%1", exc.strerror or "error")
            self.message.show_message(text, kind="error")
            return
        text = self.tr("Exported %1 public key(s) to %2.")
        self.message.show_message(text.replace("%1", str(count)).replace("%2", chosen), kind="ok")
