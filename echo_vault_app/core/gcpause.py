"""Pause the cyclic garbage collector while a worker builds a large, acyclic structure.

An export or import of 100,000 secrets builds a million short-lived dicts and lists. Each
allocation burst triggers full collections, and a full collection walks every live object of
the process (in the desktop app: the browser's 100,000 summaries too) while holding the
interpreter lock: half-second stalls of every other thread, the GUI thread included. The
records are plain dicts, lists and strings, freed by reference counting; nothing they hold
needs the cycle collector, so it is paused for the duration, and :func:`release` frees them
in small steps before it resumes.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator
from typing import Any

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic full collections inside the block (nestable, and safe across threads)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()


def release(items: list[Any]) -> None:
    """Empty a large list one item at a time, inside :func:`gc_paused`.

    Dropping the last reference to a list of 100,000 nested records frees them all in one
    cascade that holds the interpreter lock for a fifth of a second; popping them one by one
    frees the same memory in small steps between which other threads run.
    """
    while items:
        items.pop()
