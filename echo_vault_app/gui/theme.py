"""Light, dark or the system's colour scheme, through Qt's own style hints.

Qt 6.8 and later let the app ask for a scheme (``QStyleHints.setColorScheme``); with "system"
the request is withdrawn and the platform's scheme applies, following it live. Icons are
re-tinted when the scheme changes because they are drawn in the palette's text colour.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from echo_vault_app.gui import icons

log = logging.getLogger(__name__)

_SCHEMES = {
    "system": Qt.ColorScheme.Unknown,
    "light": Qt.ColorScheme.Light,
    "dark": Qt.ColorScheme.Dark,
}
_watching = False


def apply_theme(theme: str) -> None:
    """Ask for ``theme`` (system, light or dark); unknown names mean system."""
    global _watching
    hints = QGuiApplication.styleHints()
    if not _watching:
        hints.colorSchemeChanged.connect(lambda _scheme: icons.clear_cache())
        _watching = True
    setter = getattr(hints, "setColorScheme", None)
    if setter is None:  # Qt before 6.8 can only follow the system
        log.info("colour scheme request not supported by this Qt; following the system")
        return
    setter(_SCHEMES.get(theme, Qt.ColorScheme.Unknown))
