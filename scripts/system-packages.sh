#!/usr/bin/env bash
# Install the Debian packages Echo Vault needs beyond Python: Qt's X11/Wayland libraries for
# the desktop app, and for the tests a real Secret Service (gnome-keyring on D-Bus), Xvfb, the
# desktop-file validators, and a tray host (trayer) with xdotool for the start-in-tray test.
# Installs only what is missing; without root it prints the command instead.
# Usage: scripts/system-packages.sh [app|test]
set -euo pipefail

app_packages=(
    libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
    libxcb-randr0 libxcb-render-util0 libxcb-image0
)
test_packages=(gnome-keyring dbus dbus-x11 xvfb xauth desktop-file-utils appstream binutils trayer xdotool)

wanted=("${app_packages[@]}")
if [ "${1:-app}" = "test" ]; then
    wanted+=("${test_packages[@]}")
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
    exit 0  # not a Debian-like system: the platform's own Qt libraries are used
fi
missing=()
for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "Echo Vault needs these system packages: sudo apt-get install ${missing[*]}" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}"
