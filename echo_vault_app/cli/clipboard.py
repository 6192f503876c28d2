"""``clip``: hand a value to the desktop clipboard and clear it again after a timeout.

On X11 and Wayland the clipboard is owned by a running process, so a short-lived helper process
keeps the value and clears it when the time is up — only if the clipboard still holds our value,
and at once when another program takes the clipboard over. The value travels to the helper on a
pipe, never in argv or the environment. The copy is marked with the hint types clipboard
managers honour so it stays out of their history.
"""

from __future__ import annotations

import os
import subprocess
import sys

from echo_vault_app.errors import EchoVaultError, UsageError

HINT_FORMATS = {
    "x-kde-passwordManagerHint": b"secret",
    "application/x-nspasteboard-concealed-type": b"secret",
    'application/x-qt-windows-mime;value="ExcludeClipboardContentFromMonitorProcessing"': b"\x01",
    'application/x-qt-windows-mime;value="CanIncludeInClipboardHistory"': b"\x00\x00\x00\x00",
    'application/x-qt-windows-mime;value="CanUploadToCloudClipboard"': b"\x00\x00\x00\x00",
}


def hold_in_clipboard(value: str, seconds: int) -> None:
    if not 1 <= seconds <= 3600:
        raise UsageError("--seconds must be between 1 and 3600")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise UsageError("no graphical session (DISPLAY/WAYLAND_DISPLAY): nothing to copy to")
    child = subprocess.Popen(
        [sys.executable, "-m", "echo_vault_app.cli.clipboard", str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(value.encode("utf-8"))
    child.stdin.close()
    answer = child.stdout.readline().strip()
    if answer != b"ok":
        raise EchoVaultError("the clipboard could not be set")


def _run_holder(seconds: int) -> int:
    from PySide6.QtCore import QMimeData, QTimer
    from PySide6.QtGui import QGuiApplication

    value = sys.stdin.buffer.read().decode("utf-8")
    app = QGuiApplication([sys.argv[0]])
    clipboard = app.clipboard()
    mime = QMimeData()
    mime.setText(value)
    for fmt, data in HINT_FORMATS.items():
        mime.setData(fmt, data)
    clipboard.setMimeData(mime)

    def clear_if_ours() -> None:
        if clipboard.text() == value:
            clipboard.clear()
        app.quit()

    clipboard.dataChanged.connect(lambda: clipboard.text() != value and app.quit())
    QTimer.singleShot(seconds * 1000, clear_if_ours)
    sys.stdout.write("ok\n")
    sys.stdout.flush()
    return app.exec()


if __name__ == "__main__":
    sys.exit(_run_holder(int(sys.argv[1])))
