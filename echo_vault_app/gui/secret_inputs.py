"""Reusable inputs for secrets: a line edit with show/hide and an inline error, and a
passphrase-plus-confirmation widget with a strength meter.

Every place that takes a passphrase, a recovery key or a secret field uses these, so masking,
clearing and error display behave the same everywhere.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from echo_vault_app.gui.first_paint import set_enum_props
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.signals import emit

MIN_PASSPHRASE_SCORE = 3


class SecretLineEdit(QWidget):
    """A masked line edit with an eye toggle and an error line under it."""

    text_changed = Signal(str)
    return_pressed = Signal()

    def __init__(self, parent: QWidget | None = None, *, placeholder: str = "") -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setPlaceholderText(placeholder)
        self.edit.textChanged.connect(self._on_edit_text_changed)
        self.edit.returnPressed.connect(self.return_pressed)
        self.toggle = QToolButton(self)
        self.toggle.setCheckable(True)
        self.toggle.setIcon(icon("eye"))
        self.toggle.setToolTip(self.tr("Show or hide"))
        self.toggle.setAccessibleName(self.tr("Show text"))
        set_enum_props(self.toggle, focusPolicy="TabFocus")
        self.toggle.toggled.connect(self._on_toggle_toggled)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        self.error.setAccessibleName(self.tr("Error"))
        font = self.error.font()
        font.setBold(True)
        self.error.setFont(font)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.edit, 1)
        row.addWidget(self.toggle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.error)
        self.setFocusProxy(self.edit)

    def setAccessibleName(self, name: str) -> None:  # noqa: N802 (Qt naming)
        super().setAccessibleName(name)
        self.edit.setAccessibleName(name)

    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        self.edit.setText(text)

    def clear(self) -> None:
        """Forget the text and any error (called after every use of a passphrase)."""
        self.edit.clear()
        self.set_error("")
        self.toggle.setChecked(False)

    def set_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
        if message:
            self.error.setAccessibleDescription(message)

    def error_text(self) -> str:
        return self.error.text() if not self.error.isHidden() else ""

    def _on_toggle_toggled(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.edit.setEchoMode(mode)
        self.toggle.setIcon(icon("eye-off" if shown else "eye"))
        self.toggle.setAccessibleName(self.tr("Hide text") if shown else self.tr("Show text"))

    def _on_edit_text_changed(self, text: str) -> None:
        if not self.error.isHidden():
            self.set_error("")
        emit(self.text_changed, text)


class PassphraseConfirmWidget(QWidget):
    """A new passphrase typed twice, with a zxcvbn strength estimate.

    ``changed`` fires on every edit; :meth:`problem` says why the passphrase cannot be used
    yet (empty, too weak, not repeated), or returns "" when it can.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.first = SecretLineEdit(self, placeholder=self.tr("New passphrase"))
        self.first.setAccessibleName(self.tr("New passphrase"))
        self.second = SecretLineEdit(self, placeholder=self.tr("Repeat the passphrase"))
        self.second.setAccessibleName(self.tr("Repeat passphrase"))
        self.meter = QProgressBar(self)
        self.meter.setRange(0, 4)
        self.meter.setTextVisible(False)
        self.meter.setMaximumHeight(6)
        self.meter.setAccessibleName(self.tr("Passphrase strength"))
        self.verdict = QLabel(self)
        self.verdict.setWordWrap(True)
        self.score = 0
        self.first.text_changed.connect(self._on_first_text_changed)
        self.second.text_changed.connect(lambda _text: emit(self.changed))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.first)
        layout.addWidget(self.meter)
        layout.addWidget(self.verdict)
        layout.addWidget(self.second)
        self._on_first_text_changed("")

    def passphrase(self) -> str:
        return self.first.text()

    def clear(self) -> None:
        self.first.clear()
        self.second.clear()

    def problem(self) -> str:
        if not self.first.text():
            return self.tr("Choose a passphrase.")
        if self.score < MIN_PASSPHRASE_SCORE:
            return self.tr("This passphrase is too easy to guess. Add more words.")
        if self.first.text() != self.second.text():
            return self.tr("The two passphrases differ.")
        return ""

    def _on_first_text_changed(self, text: str) -> None:
        self.score, hint = estimate(text)
        self.meter.setValue(self.score if text else 0)
        labels = [
            self.tr("Very weak"),
            self.tr("Weak"),
            self.tr("Fair"),
            self.tr("Strong"),
            self.tr("Very strong"),
        ]
        summary = labels[self.score] if text else self.tr("Use four or more unrelated words.")
        self.verdict.setText(f"{summary}. {hint}".strip() if text and hint else summary)
        emit(self.changed)


def estimate(text: str) -> tuple[int, str]:
    """zxcvbn's score (0-4) and its first suggestion; imported late, it loads dictionaries."""
    if not text:
        return 0, ""
    from zxcvbn import zxcvbn

    result = zxcvbn(text[:256])
    feedback = result.get("feedback", {})
    hint = feedback.get("warning") or next(iter(feedback.get("suggestions", [])), "")
    return int(result["score"]), hint
