"""Small parts the backup and rotation dialogs share: a file chooser row and a progress relay.

:class:`ProgressRelay` exists because library progress callbacks run on the worker thread:
the callback emits a signal, and Qt delivers it to the progress bar on the GUI thread.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QProgressBar, QPushButton, QWidget

from echo_vault_app.gui import prompts
from echo_vault_app.gui.icons import icon
from echo_vault_app.gui.signals import emit

REPORT_INTERVAL = 0.05
"""Seconds between progress signals within one stage."""


class ProgressRelay(QObject):
    """``report(stage, done, total)`` may be called from any thread; ``progressed`` arrives on
    the thread this object lives in (the GUI thread)."""

    progressed = Signal(str, int, int)

    def __init__(self, parent: QObject | None = None, interval: float = REPORT_INTERVAL) -> None:
        super().__init__(parent)
        self._interval = interval
        self._last = (0.0, "")

    def report(self, stage: str, done: int, total: int) -> None:
        # An export calls this once per secret; a queued signal each would pile 100,000 events
        # onto the GUI thread, which then handles them in one long stretch. The bar is a
        # person's view: a few updates a second, plus every change of stage and the end.
        now = time.monotonic()
        last_time, last_stage = self._last
        if stage == last_stage and done < total and now - last_time < self._interval:
            return
        self._last = (now, stage)
        emit(self.progressed, stage, done, total)

    def drive(self, bar: QProgressBar) -> None:
        """Show each report on ``bar``: a busy bar while the total is unknown."""

        def show(_stage: str, done: int, total: int) -> None:
            if total <= 0:
                bar.setRange(0, 0)
                return
            bar.setRange(0, 1000)
            bar.setValue(min(1000, round(done * 1000 / total)))

        self.progressed.connect(show)


class FileChooser(QWidget):
    """A path field with a "Choose…" button that asks through :mod:`.prompts`."""

    changed = Signal()

    def __init__(
        self, title: str, filters: str, *, save: bool, start: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._title, self._filters, self._save, self._start = title, filters, save, start
        self.edit = QLineEdit(self)
        self.edit.setAccessibleName(title)
        self.edit.textChanged.connect(lambda _text: emit(self.changed))
        self.button = QPushButton(icon("folder"), self.tr("Choose…"), self)
        self.button.setAccessibleName(self.tr("Choose a file"))
        self.button.clicked.connect(self.choose)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)
        self.setFocusProxy(self.edit)

    def choose(self) -> None:
        start = self.edit.text() or self._start
        ask = prompts.save_file if self._save else prompts.open_file
        chosen = ask(self, self._title, start, self._filters)
        if chosen:
            self.edit.setText(chosen)

    def path(self) -> Path | None:
        text = self.edit.text().strip()
        return Path(text).expanduser() if text else None

    def set_path(self, path: str | Path) -> None:
        self.edit.setText(str(path))
