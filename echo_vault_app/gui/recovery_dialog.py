"""The recovery key, shown once right after the vault is created.

It can be copied (marked secret, cleared like every copy) or saved to a file readable only by
the user (mode 0600). The dialog forgets the key when it closes.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.gui import prompts
from echo_vault_app.gui.clipboard import ClipboardGuard
from echo_vault_app.gui.icons import icon

log = logging.getLogger(__name__)


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only, even if the file existed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


class RecoveryKeyDialog(QDialog):
    """Shows the recovery key with copy and save; "Done" is enabled once the user confirms."""

    def __init__(
        self, recovery_key: str, clipboard: ClipboardGuard, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Your recovery key"))
        self._clipboard = clipboard
        self._key = recovery_key
        intro = QLabel(
            self.tr(
                "This key opens the vault if you forget the passphrase. It is shown only now:"
                " save it to a file you back up, or write it down."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.key_field = QLineEdit(recovery_key, self)
        self.key_field.setReadOnly(True)
        self.key_field.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.key_field.setAccessibleName(self.tr("Recovery key"))
        self.key_field.setMinimumWidth(520)
        self.copy_button = QPushButton(icon("copy"), self.tr("Copy"), self)
        self.copy_button.setAccessibleName(self.tr("Copy recovery key"))
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.save_button = QPushButton(icon("save"), self.tr("Save to file…"), self)
        self.save_button.setAccessibleName(self.tr("Save recovery key to a file"))
        self.save_button.clicked.connect(self._on_save_clicked)
        self.saved_label = QLabel(self)
        self.confirm = QCheckBox(self.tr("I have stored the recovery key somewhere safe"), self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        self.done_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.done_button.setText(self.tr("Done"))
        self.done_button.setEnabled(False)
        self.confirm.toggled.connect(self.done_button.setEnabled)
        self.buttons.accepted.connect(self.accept)

        row = QHBoxLayout()
        row.addWidget(self.copy_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(intro)
        layout.addWidget(self.key_field)
        layout.addLayout(row)
        layout.addWidget(self.saved_label)
        layout.addWidget(self.confirm)
        layout.addWidget(self.buttons)

    def _on_copy_clicked(self) -> None:
        self._clipboard.copy_secret(self._key)
        self.saved_label.setText(self.tr("Copied. The clipboard is cleared shortly."))

    def _on_save_clicked(self) -> None:
        start = str(Path.home() / "echo-vault-recovery-key.txt")
        chosen = prompts.save_file(
            self, self.tr("Save recovery key"), start, self.tr("Text files (*.txt)")
        )
        if not chosen:
            return
        try:
            write_private_file(Path(chosen), self._key + "\n")
        except OSError as exc:
            prompts.error(
                self,
                self.tr("Recovery key not saved"),
                self.tr("Could not write the file: %1").replace("%1", exc.strerror or "error"),
            )
            return
        log.info("saved recovery key file")
        self.saved_label.setText(
            self.tr("Saved to %1 (readable only by you).").replace("%1", chosen)
        )

    def done(self, result: int) -> None:
        self._key = ""
        self.key_field.clear()
        super().done(result)

    def reject(self) -> None:
        # Closing without confirming is allowed only after an explicit "yes".
        if not self.confirm.isChecked() and not prompts.confirm(
            self,
            self.tr("Recovery key"),
            self.tr("Close without confirming you stored the recovery key? It is not shown again."),
        ):
            return
        super().reject()
