"""Keeping several processes on one vault in step while its data key changes.

Every read and write holds a shared ``flock`` on a side file for its duration; a data-key
rotation holds it exclusively while it rewrites ``vault.keys`` and rekeys the database. Before
each operation a process compares ``vault.keys``'s identity (inode, size, mtime) with what it
last saw, and when it changed — or when it had to wait for an exclusive holder — it reloads the
keys and, if the database key moved, reconnects. Readers therefore wait briefly during the
rekey and never see an error or a value they cannot open. The locks cost two system calls and
one ``stat`` per operation.

Write transactions also queue on a second lock file (:meth:`KeySync.writing`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_NAME = ".vault.sync.lock"
WRITE_LOCK_NAME = ".vault.write.lock"


class KeySync:
    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._keyfile = folder / "vault.keys"
        self._fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        self._write_fd = os.open(folder / WRITE_LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        self._depth = 0
        self._write_depth = 0
        self._exclusive = False
        self._owner: int | None = None
        self._generation = self._read_generation()

    def _read_generation(self) -> tuple[int, int, int]:
        try:
            st = os.stat(self._keyfile)
        except FileNotFoundError:
            return (0, 0, 0)
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    @contextlib.contextmanager
    def shared(self, on_change: Callable[[bool], None]) -> Iterator[None]:
        """Hold the shared lock (re-entrant per thread); call ``on_change`` if keys moved."""
        if self._depth > 0:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        waited = False
        try:
            fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            waited = True
            fcntl.flock(self._fd, fcntl.LOCK_SH)
        self._depth = 1
        try:
            generation = self._read_generation()
            if waited or generation != self._generation:
                on_change(waited)
                self._generation = self._read_generation()
            yield
        finally:
            self._depth = 0
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the lock exclusively; nested shared sections inside it lock nothing more."""
        if self._exclusive:
            yield
            return
        if self._depth > 0:
            raise RuntimeError("cannot take the vault exclusively inside a shared section")
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._exclusive = True
        self._depth = 1
        self._owner = threading.get_ident()
        try:
            yield
        finally:
            self._generation = self._read_generation()
            self._exclusive = False
            self._depth = 0
            self._owner = None
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Hold the shared lock on a descriptor of its own, for a read that outlives a section.

        Taken inside :meth:`shared`, so it never waits. Until it ends, no process, this one
        included, can take the lock exclusively, so the data key stays as it is; unlike
        :meth:`shared` it belongs to no thread's nesting, and other threads' sections come and
        go meanwhile.
        """
        if self._depth == 0 or self._exclusive:
            raise RuntimeError("the keys can be pinned only inside a shared section")
        fd = os.open(self._folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the write lock that every process's write transactions queue on.

        SQLite makes a second writer retry on a timer that sleeps 1, 2, 5, 10… ms, so two busy
        processes writing at once lose most of their time sleeping while the lock is free; a
        blocking ``flock`` wakes the next writer as soon as the holder lets go. Callers in one
        process are already serialised by the vault's own lock.
        """
        if self._write_depth > 0:
            self._write_depth += 1
            try:
                yield
            finally:
                self._write_depth -= 1
            return
        fcntl.flock(self._write_fd, fcntl.LOCK_EX)
        self._write_depth = 1
        try:
            yield
        finally:
            self._write_depth = 0
            fcntl.flock(self._write_fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def uncontended(self, on_change: Callable[[bool], None]) -> Iterator[bool]:
        """Hold the shared lock and the write lock if both can be had without waiting.

        Yields False, holding nothing, when another process holds either (or this one is
        already inside a section). Code run inside a True section takes both again re-entrantly,
        so it cannot block on another process, short of SQLite's own lock held by a program
        that ignores the write lock.
        """
        if self._depth > 0 or self._write_depth > 0:
            yield False
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            try:
                fcntl.flock(self._write_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            self._depth = self._write_depth = 1
            try:
                if self._read_generation() != self._generation:
                    on_change(False)
                    self._generation = self._read_generation()
                yield True
            finally:
                self._depth = self._write_depth = 0
                fcntl.flock(self._write_fd, fcntl.LOCK_UN)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._write_fd >= 0:
            os.close(self._write_fd)
            self._write_fd = -1
