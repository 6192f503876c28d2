"""SVG icons from ``resources/icons``, drawn in the palette's text colour.

The line icons use ``currentColor``; it is replaced with the palette colour for the icon's
mode before rendering, so icons follow light and dark schemes. Icons are rendered once per
size and colour and cached.
"""

from __future__ import annotations

import functools
from importlib import resources

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 20, 24, 32, 48, 64)


@functools.cache
def svg_text(name: str) -> str:
    """The icon's SVG source; raises FileNotFoundError for an unknown icon."""
    folder = resources.files("echo_vault_app") / "resources" / "icons"
    return (folder / f"{name}.svg").read_text("utf-8")


def _render(source: str, size: int, ratio: float) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(source.encode("utf-8")))
    pixels = round(size * ratio)
    pixmap = QPixmap(pixels, pixels)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, pixels, pixels))
    painter.end()
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


_cache: dict[tuple[str, str, str], QIcon] = {}


def icon(name: str, role: QPalette.ColorRole = QPalette.ColorRole.WindowText) -> QIcon:
    """A QIcon for ``name`` tinted with the application palette's ``role`` colour."""
    palette = QGuiApplication.palette()
    normal = palette.color(QPalette.ColorGroup.Active, role).name()
    disabled = palette.color(QPalette.ColorGroup.Disabled, role).name()
    key = (name, normal, disabled)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    source = svg_text(name)
    result = QIcon()
    for colour, mode in ((normal, QIcon.Mode.Normal), (disabled, QIcon.Mode.Disabled)):
        tinted = source.replace("currentColor", colour)
        for size in SIZES:
            for ratio in (1.0, 2.0):
                result.addPixmap(_render(tinted, size, ratio), mode)
    _cache[key] = result
    return result


def app_icon() -> QIcon:
    """The application's own icon (full colour, not tinted)."""
    return icon("app")


def clear_cache() -> None:
    """Forget rendered icons, e.g. after the colour scheme changed."""
    _cache.clear()
