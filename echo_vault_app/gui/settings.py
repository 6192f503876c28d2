"""GUI preferences kept in QSettings: only non-secret UI choices live here.

Vault settings (history depth, keyring slot) are stored by the library inside the vault.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

DEFAULT_AUTO_LOCK_MINUTES = 5
DEFAULT_CLIPBOARD_SECONDS = 10
THEMES = ("system", "light", "dark")


def _switch(key: str, default: bool, doc: str | None = None) -> property:
    """An on/off preference stored under ``key``."""

    def get(self: GuiSettings) -> bool:
        return bool(self._get(key, default, bool))

    def set_(self: GuiSettings, value: bool) -> None:
        self.store.setValue(key, bool(value))

    return property(get, set_, doc=doc)


class GuiSettings:
    """Typed access to the app's QSettings (tests pass a QSettings on a temporary file)."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store or QSettings()

    def _get(self, key: str, default: object, kind: type) -> object:
        value = self.store.value(key, default)
        if kind is bool and isinstance(value, str):
            return value.lower() in {"1", "true", "yes"}
        try:
            return kind(value)
        except (TypeError, ValueError):
            return default

    auto_lock_enabled = _switch("lock/idle_enabled", True)
    lock_on_screen_lock = _switch("lock/on_screen_lock", True)
    close_to_tray = _switch(
        "window/close_to_tray",
        False,
        "Closing the window leaves the app running in the tray (only where a tray exists).",
    )

    @property
    def auto_lock_minutes(self) -> int:
        minutes = int(self._get("lock/idle_minutes", DEFAULT_AUTO_LOCK_MINUTES, int))
        return min(max(minutes, 1), 24 * 60)

    @auto_lock_minutes.setter
    def auto_lock_minutes(self, value: int) -> None:
        self.store.setValue("lock/idle_minutes", int(value))

    @property
    def clipboard_seconds(self) -> int:
        seconds = int(self._get("clipboard/clear_seconds", DEFAULT_CLIPBOARD_SECONDS, int))
        return min(max(seconds, 0), 3600)

    @clipboard_seconds.setter
    def clipboard_seconds(self, value: int) -> None:
        self.store.setValue("clipboard/clear_seconds", int(value))

    @property
    def theme(self) -> str:
        value = str(self._get("ui/theme", "system", str))
        return value if value in THEMES else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        self.store.setValue("ui/theme", value if value in THEMES else "system")

    def notice_shown(self, key: str) -> bool:
        return bool(self._get(f"notices/{key}", False, bool))

    def mark_notice_shown(self, key: str) -> None:
        self.store.setValue(f"notices/{key}", True)
