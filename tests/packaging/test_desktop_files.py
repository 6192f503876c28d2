"""Desktop entry, AppStream metainfo, icons and version: validated with the freedesktop tools
and checked against the app's id, its icon master and the one version string."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from echo_vault_app import __version__
from echo_vault_app.gui.app import APP_ID
from tests.packaging.conftest import REPO, require_tool

LINUX = REPO / "packaging" / "linux"
DESKTOP = LINUX / f"{APP_ID}.desktop"
AUTOSTART = LINUX / f"{APP_ID}-autostart.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def _validate_desktop(path: Path) -> str:
    tool = require_tool("desktop-file-validate")
    result = subprocess.run([tool, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def _entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",))
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entries_pass_desktop_file_validate() -> None:
    for path in (DESKTOP, AUTOSTART):
        output = _validate_desktop(path)
        assert "error:" not in output and "warning:" not in output, output


def test_desktop_entry_names_the_app_and_its_window() -> None:
    entry = _entry(DESKTOP)

    assert entry["Exec"].split()[0] == "echo-vault"
    assert entry["Icon"] == APP_ID
    assert entry["Categories"] == "Utility;Security;"
    assert "password" in entry["Keywords"].split(";")
    # Qt sets WM_CLASS to (program name, application name); the app calls itself "Echo Vault".
    assert entry["StartupWMClass"] == "Echo Vault"
    assert _entry(AUTOSTART)["Exec"].split() == ["echo-vault", "--tray"]  # login: tray icon only


def test_metainfo_passes_appstreamcli() -> None:
    tool = require_tool("appstreamcli")
    result = subprocess.run([tool, "validate", "--no-net", str(METAINFO)], capture_output=True)
    output = result.stdout.decode() + result.stderr.decode()

    assert result.returncode == 0, output
    assert not re.search(r"^\s*[EW]: ", output, re.MULTILINE), output


def test_installed_tree_passes_appstreamcli_validate_tree(tmp_path) -> None:
    tool = require_tool("appstreamcli")
    install = [sys.executable, str(LINUX / "install_desktop_files.py")]
    staged = subprocess.run(
        [*install, "--prefix", "/usr", "--destdir", str(tmp_path)], capture_output=True, text=True
    )
    result = subprocess.run(
        [tool, "validate-tree", "--no-net", str(tmp_path)], capture_output=True, text=True
    )

    assert staged.returncode == 0, staged.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    for size in SIZES:
        assert (tmp_path / f"usr/share/icons/hicolor/{size}x{size}/apps/{APP_ID}.png").is_file()
    assert (tmp_path / f"usr/share/icons/hicolor/scalable/apps/{APP_ID}.svg").is_file()


def test_metainfo_matches_desktop_entry_and_version() -> None:
    root = ET.parse(METAINFO).getroot()
    releases = [r.get("version") for r in root.iter("release")]

    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert releases[0] == __version__
    assert re.search(
        rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$",
        (REPO / "CHANGELOG.md").read_text("utf-8"),
        re.MULTILINE,
    )


def test_icon_pngs_are_rendered_from_the_svg_master() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    script = REPO / "packaging" / "render_icons.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, env=env
    )

    assert result.returncode == 0, result.stderr
    for size in SIZES:
        png = (REPO / f"resources/icons/app/{size}x{size}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (width, height) == (size, size)


def test_icon_check_allows_one_level_of_rounding_and_no_more(qapp) -> None:
    sys.path.insert(0, str(REPO / "packaging"))
    try:
        from render_icons import MASTER, render, same_pixels
    finally:
        sys.path.remove(str(REPO / "packaging"))
    image = render(MASTER.read_bytes(), 32)
    nudged, changed = image.copy(), image.copy()
    centre = image.pixel(16, 16)
    blue = centre & 0xFF
    nudged.setPixel(16, 16, (centre & ~0xFF) | (blue - 1 if blue else 1))
    changed.setPixel(16, 16, (centre & ~0xFF) | (blue - 2 if blue > 1 else blue + 2))

    assert same_pixels(image, image.copy())
    assert same_pixels(image, nudged)
    assert not same_pixels(image, changed)
    assert not same_pixels(image, render(MASTER.read_bytes(), 24))
