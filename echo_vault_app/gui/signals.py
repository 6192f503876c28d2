"""Emit Qt signals from Python without tripping PySide6 6.12's reference-count bug.

In PySide6 6.12.0, ``SignalInstance.emit()`` returns ``True`` without taking a reference to
it, so every emit from Python lowers the interpreter's count of ``True`` by one; after a few
hundred emits the interpreter aborts ("deallocating True or False"). Every emit in the app goes
through :func:`emit`, which checks once whether this PySide6 has the bug and, if so, gives back
the reference the emit took. With a PySide6 that does not have the bug it is a plain emit.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

_drops_true: bool | None = None


@functools.cache
def _py_incref() -> Callable[[object], None]:
    """``Py_IncRef``, loaded only where a reference must be given back (ctypes costs start-up)."""
    import ctypes

    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None
    return incref


def _incref(obj: object) -> None:
    _py_incref()(obj)


class _Probe(QObject):
    fired = Signal()


def _emit_drops_true() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.fired.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(0, lost)):
        _incref(True)
    return lost >= 8


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, repairing the reference PySide6 6.12 drops."""
    global _drops_true
    if _drops_true is None:
        _drops_true = _emit_drops_true()
    signal.emit(*args)
    if _drops_true:
        _incref(True)
