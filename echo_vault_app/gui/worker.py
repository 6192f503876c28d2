"""Run a function off the GUI thread and hand its result or error back on the GUI thread.

One helper for all slow work (Argon2 unlock, vault creation, large loads), so no widget spins
the event loop or blocks it. Tests call :func:`set_synchronous` to run tasks inline and get
their results before the call returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from echo_vault_app.gui.signals import emit

log = logging.getLogger(__name__)

_synchronous = False
_pending: set[Task] = set()


def set_synchronous(enabled: bool) -> None:
    """Run every later task inline on the calling thread (for tests and scripts)."""
    global _synchronous
    _synchronous = enabled


def is_synchronous() -> bool:
    return _synchronous


class Task(QObject):
    """One submitted call; ``succeeded`` or ``failed`` fires once, on the GUI thread."""

    succeeded = Signal(object)
    failed = Signal(object)
    _finished_elsewhere = Signal(bool, object)

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._fn = fn
        self.done = False
        self._finished_elsewhere.connect(self._on_self_finished_elsewhere)

    def execute(self) -> tuple[bool, Any]:
        try:
            return True, self._fn()
        except Exception as exc:  # delivered to the caller's error handler, never swallowed
            log.debug("background task %s failed with %s", self.objectName(), type(exc).__name__)
            return False, exc

    @Slot(bool, object)
    def _on_self_finished_elsewhere(self, ok: bool, payload: object) -> None:
        self.deliver(ok, payload)

    def deliver(self, ok: bool, payload: object) -> None:
        self.done = True
        _pending.discard(self)
        emit(self.succeeded if ok else self.failed, payload)


class _Runnable(QRunnable):
    def __init__(self, task: Task) -> None:
        super().__init__()
        self._task = task

    def run(self) -> None:
        ok, payload = self._task.execute()
        emit(self._task._finished_elsewhere, ok, payload)


def run_in_background(
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    name: str = "task",
    **kwargs: Any,
) -> Task:
    """Call ``fn(*args, **kwargs)`` on the thread pool.

    Args:
        fn: the slow call; it must not touch widgets.
        on_result: called on the GUI thread with the return value.
        on_error: called on the GUI thread with the exception fn raised.
        name: a label for logs (never a value).

    Returns:
        The :class:`Task`, whose signals can also be waited on.
    """
    task = Task(lambda: fn(*args, **kwargs))
    task.setObjectName(name)
    if on_result is not None:
        task.succeeded.connect(on_result)
    if on_error is not None:
        task.failed.connect(on_error)
    _pending.add(task)
    if _synchronous:
        task.deliver(*task.execute())
    else:
        QThreadPool.globalInstance().start(_Runnable(task))
    return task
