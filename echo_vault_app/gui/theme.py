"""Light, dark or the system's colour scheme, through Qt's own style hints.

Qt 6.8 and later let the app ask for a scheme (``QStyleHints.setColorScheme``); with "system"
the request is withdrawn and the platform's scheme applies, following it live. Icons are
re-tinted when the scheme changes because they are drawn in the palette's text colour.
"""

from __future__ import annotations

import logging

from PySide6 import QtCore
from PySide6.QtGui import QGuiApplication

from echo_vault_app.gui import icons

log = logging.getLogger(__name__)

_SCHEMES = {"light": "Light", "dark": "Dark"}
_watching = False
_requested = False


def watch_scheme_changes() -> None:
    """Re-tint icons when the scheme changes; connected once the window has painted, since the
    signal carries a ``Qt`` enum (see :mod:`echo_vault_app.gui.first_paint`)."""
    global _watching
    if not _watching:
        QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _scheme: icons.clear_cache())
        _watching = True


def apply_theme(theme: str) -> None:
    """Ask for ``theme`` (system, light or dark); unknown names mean system."""
    global _requested
    hints = QGuiApplication.styleHints()
    setter = getattr(hints, "setColorScheme", None)
    if setter is None:  # Qt before 6.8 can only follow the system
        log.info("colour scheme request not supported by this Qt; following the system")
        return
    if theme not in _SCHEMES and not _requested:
        return  # nothing was asked for yet: leave the Qt namespace unbuilt (first_paint)
    _requested = True
    setter(getattr(QtCore.Qt.ColorScheme, _SCHEMES.get(theme, "Unknown")))
