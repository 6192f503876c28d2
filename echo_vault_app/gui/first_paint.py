"""What waits until the window's first paint: PySide6's ``Qt`` namespace, and what needs it.

The first import of the ``Qt`` namespace builds a Python enum type for each of its ninety-odd
enums, about 16 ms that every start would spend before the window appears. Code that runs
before the first paint therefore sets such values through Qt's property system by name
(:func:`set_enum_props`), and modules reach ``QtCore.Qt`` only in code that runs later.

Until the namespace is built, PySide6 cannot hand a signal's ``Qt`` enum argument to Python:
the call fails with a TypeError on stderr and the receiver never runs. Connections to such
signals (application state, colour scheme) are therefore made by :func:`after_first_paint`
callbacks, which build the namespace first.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore
from PySide6.QtCore import QEvent, QObject


def set_enum_props(target: QObject, **values: str) -> None:
    """Set Qt properties of enum or flag type by name (``alignment="AlignHCenter"``).

    Raises:
        ValueError: ``target`` has no such property or the name is not one of its values.
    """
    for prop, value in values.items():
        if not target.setProperty(prop, value):
            raise ValueError(f"cannot set {prop}={value!r} on {type(target).__name__}")


def build_qt_namespace() -> None:
    """Build the ``Qt`` namespace's enum types now (idempotent; about 16 ms the first time)."""
    _ = QtCore.Qt.ApplicationState


class _FirstPaint(QObject):
    def __init__(self, widget: QObject, callback: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if event.type() == QEvent.Type.Paint:
            self._widget.removeEventFilter(self)
            # A zero timer runs once this paint has reached the screen; the second one lets
            # what the paint itself queued (the rest of the first frame) go first.
            QtCore.QTimer.singleShot(0, lambda: QtCore.QTimer.singleShot(0, self._run))
        return False

    def _run(self) -> None:
        build_qt_namespace()
        self._callback()
        self.deleteLater()


def after_first_paint(widget: QObject, callback: Callable[[], None]) -> None:
    """Run ``callback`` once ``widget`` has painted, with the ``Qt`` namespace built."""
    _FirstPaint(widget, callback)
