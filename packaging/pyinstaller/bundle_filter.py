"""What the frozen build keeps of the binaries PyInstaller collects (used by the spec).

PyInstaller's Qt hooks collect every plugin of the modules the app imports, then every library
those plugins link; most serve QML, embedded Linux, GTK theming or image formats the app never
opens. :func:`prune` keeps the plugins listed here, drops the Qt libraries only unused modules
need, and then drops system libraries that nothing kept still links. The frozen-build tests
check afterwards that every kept binary finds all of its libraries.

The GTK platform theme is left out on purpose: it would pull in GTK, GDK, Cairo and Pango from
the build machine (about 25 MB), and those rarely mix well with the user's own GTK themes;
without it Qt's own Fusion-based theme and the XDG desktop portal theme serve GNOME users.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import PurePosixPath

# Plugins kept, as ``folder/file stem`` under Qt's plugin folder.
KEEP_PLUGINS = frozenset(
    {
        "platforms/libqxcb",
        "platforms/libqwayland",
        "platforms/libqoffscreen",
        "platforms/libqminimal",
        "xcbglintegrations/libqxcb-egl-integration",
        "xcbglintegrations/libqxcb-glx-integration",
        "wayland-shell-integration/libxdg-shell",
        "wayland-decoration-client/libbradient",
        "wayland-graphics-integration-client/libqt-plugin-wayland-egl",
        "platformthemes/libqxdgdesktopportal",
        "platforminputcontexts/libcomposeplatforminputcontextplugin",
        "platforminputcontexts/libibusplatforminputcontextplugin",
        "imageformats/libqsvg",
        "iconengines/libqsvgicon",
    }
)

# Qt libraries that only dropped plugins or unused modules need.
DROP_LIBRARY_PREFIXES = (
    "libQt6Qml",
    "libQt6Quick",
    "libQt6Labs",
    "libQt6Lottie",
    "libQt6VirtualKeyboard",
    "libQt6Pdf",
    "libQt6EglFS",
    "libQt6EglFs",
    "libQt6WaylandCompositor",
    "libQt6WaylandEgl",
    "libQt6WlShell",
    "libQt6Designer",
    "libQt6Help",
    "libQt6Test",
    "libQt6Sql",
    "libQt6UiTools",
    "libQt6Concurrent",
    "libQt6PrintSupport",
    "libQt6ShaderTools",
    "libQt6Xml",
)

_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[(.+?)\]")


def keep_binary(dest: str) -> bool:
    """Whether a collected binary, by its path inside the bundle, is wanted at all."""
    path = PurePosixPath(dest.replace("\\", "/"))
    parts = path.parts
    if "plugins" in parts:
        below = parts[parts.index("plugins") + 1 :]
        stem = "/".join(below).split(".so")[0]
        return stem in KEEP_PLUGINS
    return not path.name.startswith(DROP_LIBRARY_PREFIXES)


def needed_libraries(path: str) -> list[str]:
    """The sonames an ELF file links (``readelf`` comes with binutils, which PyInstaller needs)."""
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=False)
    return _NEEDED.findall(out.stdout)


def prune(binaries: list[tuple], datas: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """Filter PyInstaller TOC lists: unwanted Qt parts, then system libraries nothing links.

    System libraries are the ones PyInstaller places at the top of the bundle; everything else
    (extension modules, Qt's own libraries and plugins, libpython) is a root of the search.
    """
    kept = [entry for entry in binaries if keep_binary(entry[0])]
    by_name = {PurePosixPath(dest).name: (dest, src) for dest, src, _kind in kept}
    system = {
        PurePosixPath(dest).name
        for dest, _src, _kind in kept
        if "/" not in dest and dest.startswith("lib") and not dest.startswith("libpython")
    }

    reached: set[str] = set()
    stack = [PurePosixPath(dest).name for dest, _src, _kind in kept]
    stack = [name for name in stack if name not in system]
    while stack:
        name = stack.pop()
        if name in reached or name not in by_name:
            continue
        reached.add(name)
        stack.extend(needed_libraries(by_name[name][1]))

    binaries = [e for e in kept if PurePosixPath(e[0]).name not in system - reached]
    kept_names = {e[0] for e in binaries}
    # Symbolic links (PyInstaller 6 records them in datas) must not point at dropped files.
    datas = [
        e
        for e in datas
        if e[2] != "SYMLINK" or str(PurePosixPath(e[0]).parent / e[1]) in kept_names
    ]
    return binaries, datas
