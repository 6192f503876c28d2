"""Render the application icon's PNG sizes from its SVG master.

``resources/icons/app.svg`` is the one drawing; the PNGs under ``resources/icons/app/`` are
rendered from it for packages and desktops that want bitmaps (hicolor theme folders, window
managers that ignore SVG). Run after changing the drawing and commit the result:

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py

``--check`` renders into memory and fails when a committed PNG's pixels differ, so a test can
prove the bitmaps still match the master (pixels, not bytes: a newer PNG encoder may compress
the same picture differently). A channel may differ by one level: Qt's raster engine rounds
antialiased edges differently on different CPUs (its SIMD paths), which changes no drawing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
MASTER = ROOT / "resources" / "icons" / "app.svg"
OUT = ROOT / "resources" / "icons" / "app"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
TOLERANCE = 1
"""Largest difference, in levels of one 8-bit channel, that still counts as the same pixel."""


def render(source: bytes, size: int) -> QImage:
    """The master drawn at ``size`` x ``size`` pixels."""
    renderer = QSvgRenderer(QByteArray(source))
    if not renderer.isValid():
        raise ValueError(f"{MASTER} is not a valid SVG drawing")

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data)


def same_pixels(left: QImage, right: QImage) -> bool:
    """Whether two ARGB32 images match within :data:`TOLERANCE` in every channel."""
    if left.size() != right.size():
        return False
    a, b = bytes(left.constBits()), bytes(right.constBits())
    return a == b or all(abs(x - y) <= TOLERANCE for x, y in zip(a, b, strict=True))


def png_path(size: int) -> Path:
    return OUT / f"{size}x{size}.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])

    source = MASTER.read_bytes()
    stale = []
    for size in SIZES:
        image = render(source, size)
        target = png_path(size)
        if args.check:
            committed = QImage(str(target)).convertToFormat(QImage.Format.Format_ARGB32)
            if committed.isNull() or not same_pixels(committed, image):
                stale.append(target.name)
            continue
        OUT.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png_bytes(image))
    if stale:
        print(f"out of date with {MASTER.name}: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
