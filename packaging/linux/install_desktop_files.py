"""Install the desktop entry, AppStream metainfo and icons under a prefix.

Distribution packages and ``make install``-style scripts call this with their staging prefix;
the tests call it to validate the installed tree with ``appstreamcli validate-tree``:

    python packaging/linux/install_desktop_files.py --prefix ~/.local
    python packaging/linux/install_desktop_files.py --prefix /usr --destdir build/root

The autostart entry is optional and only installed with ``--autostart DIR`` (for one user,
``~/.config/autostart``), because starting at login is the user's choice.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

APP_ID = "io.echovault.EchoVault"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ICONS = ROOT / "resources" / "icons"
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def install(prefix: Path, autostart: Path | None = None) -> list[Path]:
    """Copy the files into ``prefix/share`` (and ``autostart``); returns what was written."""
    share = prefix / "share"
    plan = [
        (HERE / f"{APP_ID}.desktop", share / "applications" / f"{APP_ID}.desktop"),
        (HERE / f"{APP_ID}.metainfo.xml", share / "metainfo" / f"{APP_ID}.metainfo.xml"),
        (ICONS / "app.svg", share / "icons/hicolor/scalable/apps" / f"{APP_ID}.svg"),
    ]
    for size in PNG_SIZES:
        target = share / f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png"
        plan.append((ICONS / "app" / f"{size}x{size}.png", target))
    if autostart is not None:
        plan.append((HERE / f"{APP_ID}-autostart.desktop", autostart / f"{APP_ID}.desktop"))

    written = []
    for source, target in plan:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", type=Path, default=Path.home() / ".local")
    parser.add_argument("--destdir", type=Path, help="staging root placed before the prefix")
    parser.add_argument("--autostart", type=Path, help="also install the autostart entry here")
    args = parser.parse_args(argv)
    prefix = args.prefix.expanduser()
    if args.destdir is not None:
        prefix = args.destdir / prefix.relative_to(prefix.anchor)
    for path in install(prefix, args.autostart):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
