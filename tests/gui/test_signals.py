"""The emit helper keeps the interpreter's count of True steady across many emits."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from echo_vault_app.gui.signals import emit


class _Sender(QObject):
    changed = Signal(object)


def test_many_emits_leave_true_refcount_unchanged():
    sender = _Sender()
    seen = []
    sender.changed.connect(seen.append)
    emit(sender.changed, 0)
    before = sys.getrefcount(True)
    for i in range(2000):
        emit(sender.changed, i)
    assert abs(sys.getrefcount(True) - before) <= 2
    assert len(seen) == 2001
