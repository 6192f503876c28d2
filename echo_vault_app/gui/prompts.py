"""Every message box, file dialog and input the app shows goes through here.

Tests call :func:`preset` with the answers the next prompts should get; a preset prompt is
recorded in :data:`shown` and never opens a window, so no test hangs on a modal dialog.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shown:
    """A prompt as it was asked: its kind, title and text (never a secret value)."""

    kind: str
    title: str
    text: str


_answers: deque[Any] = deque()
_test_mode = False
shown: list[Shown] = []


def preset(*answers: Any) -> None:
    """Queue answers for the next prompts (True/False, a path, text, or None for cancel)."""
    _answers.extend(answers)


def set_test_mode(enabled: bool) -> None:
    """In test mode a prompt without a preset answer is cancelled instead of opened."""
    global _test_mode
    _test_mode = enabled
    _answers.clear()
    shown.clear()


def _answer(kind: str, title: str, text: str, default: Any) -> tuple[bool, Any]:
    shown.append(Shown(kind, title, text))
    if _answers:
        return True, _answers.popleft()
    if _test_mode:
        return True, default
    return False, None


def info(parent: QWidget | None, title: str, text: str) -> None:
    answered, _ = _answer("info", title, text, None)
    if not answered:
        QMessageBox.information(parent, title, text)


def error(parent: QWidget | None, title: str, text: str) -> None:
    answered, _ = _answer("error", title, text, None)
    if not answered:
        QMessageBox.critical(parent, title, text)


def confirm(parent: QWidget | None, title: str, text: str, *, default: bool = False) -> bool:
    answered, value = _answer("confirm", title, text, default)
    if answered:
        return bool(value)
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    fallback = QMessageBox.StandardButton.Yes if default else QMessageBox.StandardButton.No
    reply = QMessageBox.question(parent, title, text, buttons, fallback)
    return reply == QMessageBox.StandardButton.Yes


def save_file(parent: QWidget | None, title: str, start: str, filters: str = "") -> str | None:
    answered, value = _answer("save_file", title, start, None)
    if answered:
        return value
    path, _ = QFileDialog.getSaveFileName(parent, title, start, filters)
    return path or None


def open_file(parent: QWidget | None, title: str, start: str, filters: str = "") -> str | None:
    answered, value = _answer("open_file", title, start, None)
    if answered:
        return value
    path, _ = QFileDialog.getOpenFileName(parent, title, start, filters)
    return path or None


def text(parent: QWidget | None, title: str, label: str, *, secret: bool = False) -> str | None:
    answered, value = _answer("text", title, label, None)
    if answered:
        return value
    mode = QLineEdit.EchoMode.Password if secret else QLineEdit.EchoMode.Normal
    value, ok = QInputDialog.getText(parent, title, label, mode)
    return value if ok else None
