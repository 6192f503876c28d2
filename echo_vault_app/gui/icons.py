"""SVG icons from ``resources/icons``, drawn in the palette's text colour.

The line icons use ``currentColor``; it is replaced with the palette colour for the icon's
mode before rendering, so icons follow light and dark schemes. Icons are rendered on demand,
once per size, mode and colour, and cached.
"""

from __future__ import annotations

import functools
from importlib import resources

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QIcon,
    QIconEngine,
    QPainter,
    QPalette,
    QPixmap,
)


@functools.cache
def svg_text(name: str) -> str:
    """The icon's SVG source; raises FileNotFoundError for an unknown icon."""
    folder = resources.files("echo_vault_app") / "resources" / "icons"
    return (folder / f"{name}.svg").read_text("utf-8")


def _render(source: str, size: int, ratio: float) -> QPixmap:
    from PySide6.QtSvg import QSvgRenderer  # not needed to paint the unlock window

    renderer = QSvgRenderer(QByteArray(source.encode("utf-8")))
    pixels = round(size * ratio)
    pixmap = QPixmap(pixels, pixels)
    pixmap.fill(QColor(0, 0, 0, 0))  # transparent
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, pixels, pixels))
    painter.end()
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


class _SvgIconEngine(QIconEngine):
    """Renders the tinted SVG at the size and mode Qt asks for, once per size and mode."""

    def __init__(self, normal: str, disabled: str) -> None:
        super().__init__()
        self._sources = {QIcon.Mode.Disabled: disabled}
        self._normal = normal
        self._pixmaps: dict[tuple[int, int, QIcon.Mode, float], QPixmap] = {}

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(  # noqa: N802 (Qt naming)
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        side = max(1, min(size.width(), size.height()))
        key = (side, side, mode, scale)
        cached = self._pixmaps.get(key)
        if cached is None:
            cached = _render(self._sources.get(mode, self._normal), side, scale)
            self._pixmaps[key] = cached
        return cached

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State):
        ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
        painter.drawPixmap(rect, self.scaledPixmap(rect.size(), mode, state, ratio))

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:  # noqa: N802
        side = min(size.width(), size.height())
        return QSize(side, side)

    def clone(self) -> QIconEngine:
        return _SvgIconEngine(self._normal, self._sources[QIcon.Mode.Disabled])


_cache: dict[tuple[str, str, str], QIcon] = {}


def icon(name: str, role: QPalette.ColorRole = QPalette.ColorRole.WindowText) -> QIcon:
    """A QIcon for ``name`` tinted with the application palette's ``role`` colour."""
    palette = QGuiApplication.palette()
    normal = palette.color(QPalette.ColorGroup.Active, role).name()
    disabled = palette.color(QPalette.ColorGroup.Disabled, role).name()
    key = (name, normal, disabled)
    cached = _cache.get(key)
    if cached is None:
        source = svg_text(name)
        engine = _SvgIconEngine(
            source.replace("currentColor", normal), source.replace("currentColor", disabled)
        )
        cached = QIcon(engine)
        _cache[key] = cached
    return cached


APP_ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)


@functools.cache
def app_icon() -> QIcon:
    """The application's own icon (full colour, not tinted), from its packaged PNGs.

    The unlock window shows it first thing, and decoding the small PNGs costs a fraction of
    drawing ``app.svg``; ``packaging/render_icons.py --check`` keeps them equal to the SVG.
    """
    folder = resources.files("echo_vault_app") / "resources" / "icons" / "app"
    result = QIcon()
    for side in APP_ICON_SIZES:
        pixmap = QPixmap()
        if pixmap.loadFromData((folder / f"{side}x{side}.png").read_bytes(), "PNG"):
            result.addPixmap(pixmap)
    return result if not result.isNull() else icon("app")


def clear_cache() -> None:
    """Forget rendered icons, e.g. after the colour scheme changed."""
    _cache.clear()
