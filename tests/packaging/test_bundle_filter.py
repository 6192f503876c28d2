"""Which collected binaries the frozen build keeps; the build itself is checked in
test_frozen_build.py, this pins the decision table without running PyInstaller."""

from __future__ import annotations

import sys

import pytest

from tests.packaging.conftest import REPO

sys.path.insert(0, str(REPO / "packaging" / "pyinstaller"))
from bundle_filter import keep_binary  # noqa: E402

PLUGINS = "PySide6/Qt/plugins"


@pytest.mark.parametrize(
    "dest",
    [
        f"{PLUGINS}/platforms/libqxcb.so",
        f"{PLUGINS}/platforms/libqwayland.so",
        f"{PLUGINS}/platforms/libqoffscreen.so",
        f"{PLUGINS}/imageformats/libqsvg.so",
        f"{PLUGINS}/iconengines/libqsvgicon.so",
        f"{PLUGINS}/platforminputcontexts/libcomposeplatforminputcontextplugin.so",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "PySide6/Qt/lib/libQt6DBus.so.6",
        "sqlcipher3/_sqlite3.cpython-311-x86_64-linux-gnu.so",
        "libcrypto.so.3",
    ],
)
def test_kept(dest: str) -> None:
    assert keep_binary(dest)


@pytest.mark.parametrize(
    "dest",
    [
        f"{PLUGINS}/platforms/libqeglfs.so",
        f"{PLUGINS}/platforms/libqvnc.so",
        f"{PLUGINS}/platformthemes/libqgtk3.so",
        f"{PLUGINS}/platforminputcontexts/libqtvirtualkeyboardplugin.so",
        f"{PLUGINS}/imageformats/libqpdf.so",
        f"{PLUGINS}/imageformats/libqjpeg.so",
        f"{PLUGINS}/tls/libqopensslbackend.so",
        f"{PLUGINS}/sqldrivers/libqsqlite.so",
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "PySide6/Qt/lib/libQt6Qml.so.6",
        "PySide6/Qt/lib/libQt6Pdf.so.6",
        "libQt6EglFSDeviceIntegration.so.6",
    ],
)
def test_dropped(dest: str) -> None:
    assert not keep_binary(dest)
