"""The queue in front of SQLite's single write lock.

SQLite lets one transaction write at a time; a second ``BEGIN IMMEDIATE`` fails at once and must be retried.
Polling for the lock wastes the moment it is freed and lets a late writer overtake one that has waited long,
which shows as a long latency tail when many reports arrive together. Writers therefore queue first: the
threads of one process on a lock, then the processes that share the database file on an advisory lock
(``flock``) of a companion file. Both wait in the kernel and wake as soon as the previous writer has
committed. Only writers that bypass this queue (the sqlite3 shell, a backup) still make ``BEGIN IMMEDIATE``
retry.

Requests queue once more, in front of those two: on the event loop (``WriteGate.turn``), so that a request
waiting for its turn holds no thread of the small thread pool. A request then runs its whole write —
``BEGIN IMMEDIATE``, the endpoint's work, ``COMMIT`` — in one thread-pool hop (deps.run_write); the thread
lock and the file lock are only ever held inside such a hop, never across hops or awaits, so the thread that
holds them never waits for another thread to become free.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path


class WriteGate:
    def __init__(self, database: str | None) -> None:
        # Not an RLock: a second write transaction in the thread that holds the lock would wait for itself.
        self._threads = threading.Lock()
        self._path = Path(database + "-writelock") if database else None
        self._fd: int | None = None
        self._pid = 0
        # One asyncio lock per event loop (uvicorn runs one; tests start a few): FIFO, so turns are fair.
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """This process's turn to write, waited for on the event loop (no thread is held while waiting)."""
        loop = asyncio.get_running_loop()
        lock = self._turns.get(loop)
        if lock is None:
            lock = self._turns.setdefault(loop, asyncio.Lock())
        async with lock:
            yield

    def _file(self) -> int:
        # One open file per process: a descriptor inherited through fork() would share its lock with the
        # parent.
        if self._fd is None or self._pid != os.getpid():
            assert self._path is not None
            self._fd, self._pid = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self._fd

    def acquire(self, timeout_s: float) -> None:
        if not self._threads.acquire(timeout=timeout_s):
            raise sqlite3.OperationalError("database is locked: no turn to write within the busy timeout")
        if self._path is None:
            return
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        if self._path is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()
