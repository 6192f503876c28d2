"""Reading and writing settings: checked on the way in, re-checked on the way out.

Settings live in ``state_settings`` as JSON, except ``history_depth``, which belongs to the
secrets store (it prunes history with it) and is read and written through ``SecretStore`` so
there is one source of truth. That one is audited by the secrets store as ``settings``; the
others as ``config-set``/``config-reset`` with the new value (settings are not secret).

A stored value that no longer passes its spec (bounds tightened by an upgrade, a hand-edited
database) reads as the default, and a warning names the setting.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from echo_vault_app.state.settings import SETTINGS, spec_for

log = logging.getLogger(__name__)

ROUTED_TO_SECRETS = "history_depth"


class Settings:
    """``get``/``set``/``all``/``reset``/``describe`` over one backend."""

    def __init__(self, backend: Any, clock: Callable[[], float] = time.time) -> None:
        self._backend = backend
        self._clock = clock
        self._secrets = None
        if backend.persistent:
            from echo_vault_app.secrets.store import SecretStore

            self._secrets = SecretStore(backend.vault)

    def get(self, name: str) -> Any:
        """The current value, or the default when none was set."""
        spec = spec_for(name)
        if name == ROUTED_TO_SECRETS and self._secrets is not None:
            return self._secrets.history_depth()
        with self._backend.read() as conn:
            row = conn.execute(
                "SELECT value FROM state_settings WHERE name = ?", (name,)
            ).fetchone()
        return self._decode(spec, row)

    def _decode(self, spec: Any, row: Any) -> Any:
        if row is None:
            return spec.default_value()
        try:
            return spec.coerce(json.loads(row[0]))
        except Exception:
            log.warning("stored setting %s is unusable; using its default", spec.name)
            return spec.default_value()

    def set(self, name: str, value: Any) -> Any:
        """Check and store ``value``; returns the value as stored (``"15"`` becomes ``15``).

        Raises:
            ValidationError: unknown setting or a value outside what it accepts.
        """
        spec = spec_for(name)
        checked = spec.coerce(value)
        if name == ROUTED_TO_SECRETS and self._secrets is not None:
            self._secrets.set_history_depth(checked)
            return checked

        with self._backend.transaction() as tx:
            tx.execute(
                "INSERT INTO state_settings (name, value, updated) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value,"
                " updated = excluded.updated",
                (name, json.dumps(checked), self._clock()),
            )
            self._backend.record(tx, "config-set", name, {"value": checked})
        log.info("changed setting %s", name)
        return checked

    def reset(self, name: str) -> Any:
        """Go back to the default; returns it."""
        spec = spec_for(name)
        default = spec.default_value()
        if name == ROUTED_TO_SECRETS and self._secrets is not None:
            self._secrets.set_history_depth(default)
            return default

        with self._backend.transaction() as tx:
            if tx.execute("DELETE FROM state_settings WHERE name = ?", (name,)).rowcount:
                self._backend.record(tx, "config-reset", name, {"value": default})
        return default

    def all(self) -> dict[str, Any]:
        """Every known setting's current value, in a stable order."""
        with self._backend.read() as conn:
            rows = dict(conn.execute("SELECT name, value FROM state_settings").fetchall())
        values = {}
        for name, spec in SETTINGS.items():
            stored = rows.get(name)
            values[name] = self._decode(spec, None if stored is None else (stored,))
        if self._secrets is not None:
            values[ROUTED_TO_SECRETS] = self._secrets.history_depth()
        return values

    def describe(self) -> list[dict[str, Any]]:
        """Name, type, default, bounds, help and current value of each setting, for a form."""
        current = self.all()
        return [{**spec.describe(), "value": current[name]} for name, spec in SETTINGS.items()]
