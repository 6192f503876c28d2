"""A decoded token beside its text: header and claims as indented JSON, times in local time."""

from __future__ import annotations

import json
import time
from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QGroupBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

TIME_CLAIMS = ("iat", "nbf", "exp")


def pretty_json(value: dict[str, Any]) -> str:
    """Indented JSON with keys in the order the token has them.

    >>> pretty_json({"alg": "HS256"})
    '{\\n  "alg": "HS256"\\n}'
    """
    return json.dumps(value, indent=2, ensure_ascii=False) if value else ""


def claim_times(claims: dict[str, Any]) -> str:
    """``iat``, ``nbf`` and ``exp`` as local times on one line ("" when none is a number)."""
    parts = []
    for name in TIME_CLAIMS:
        value = claims.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                parts.append(f"{name} {time.strftime('%Y-%m-%d %H:%M', time.localtime(value))}")
            except (OverflowError, OSError, ValueError):
                parts.append(f"{name} {value}")
    return "   ·   ".join(parts)


def _json_box(title: str, parent: QWidget) -> tuple[QGroupBox, QPlainTextEdit]:
    box = QGroupBox(title, parent)
    edit = QPlainTextEdit(box)
    edit.setReadOnly(True)
    edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    edit.setAccessibleName(title)
    edit.setTabChangesFocus(True)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 6, 8, 8)
    layout.addWidget(edit)
    return box, edit


class DecodedTokenView(QWidget):
    """Header above claims; the claims box takes the extra height."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        header_box, self.header = _json_box(self.tr("Header"), self)
        self.header.setMaximumHeight(110)
        claims_box, self.claims = _json_box(self.tr("Claims"), self)
        self.times = QLabel(self)
        self.times.setWordWrap(True)
        self.times.setAccessibleName(self.tr("Token times"))
        claims_box.layout().addWidget(self.times)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(header_box)
        layout.addWidget(claims_box, 1)

    def show_token(self, header: dict[str, Any], claims: dict[str, Any]) -> None:
        self.header.setPlainText(pretty_json(header))
        self.claims.setPlainText(pretty_json(claims))
        self.times.setText(claim_times(claims))

    def clear(self) -> None:
        self.show_token({}, {})
