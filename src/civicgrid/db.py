"""Engine and session factory. One session per request (or CLI command) commits or rolls back; services only
flush.

SQLite runs in WAL mode with foreign keys on and a busy timeout. Python's sqlite3 driver manages transactions
on its own, which breaks SAVEPOINTs; we take that over (the documented SQLAlchemy recipe) and begin write
sessions with ``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of failing on a lock
upgrade.

A request's session is made for reads; ``write_unit`` turns it into a writer for one stretch of work in one
thread (see deps.run_write): the write turn is then taken and given back in that same thread.
"""

from __future__ import annotations

import sqlite3
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from civicgrid import refcache  # noqa: F401  (its watcher empties caches on reference writes)
from civicgrid.settings import get_settings
from civicgrid.sqlite_gate import WriteGate

_gates: weakref.WeakKeyDictionary[Engine, WriteGate] = weakref.WeakKeyDictionary()


def make_engine(url: str, *, busy_timeout_ms: int = 10_000, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
        )
        gate = WriteGate(path if path and path != ":memory:" else None)
        _configure_sqlite(engine, busy_timeout_ms, gate)
        _gates[engine] = gate
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, gate: WriteGate) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        # Readers never wait in WAL mode; writers wait in _begin_immediate below, in small steps. (SQLite's
        # own busy handler sleeps up to 100 ms at a time, which makes a long tail under concurrent writes.)
        cur.execute("PRAGMA busy_timeout=0")
        # Cases and the audit chain must survive a power cut: FULL syncs the WAL on every commit.
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("sqlite_immediate"):
            gate.acquire(busy_timeout_ms / 1000)
            try:
                _begin_immediate(conn.connection.dbapi_connection, busy_timeout_ms / 1000)
            except BaseException:
                gate.release()
                raise
            conn.connection.info["holds_write_gate"] = True
        else:
            conn.exec_driver_sql("BEGIN")

    # The turn to write ends when the session gives its connection back (right after COMMIT or ROLLBACK).
    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None and record.info.pop("holds_write_gate", False):
            gate.release()

    @event.listens_for(engine.pool, "invalidate")
    def _on_invalidate(_dbapi_conn: Any, record: Any, _exc: Any) -> None:
        if record is not None and record.info.pop("holds_write_gate", False):
            gate.release()


def _begin_immediate(dbapi_conn: Any, timeout_s: float) -> None:
    """Take SQLite's write lock, retrying every few hundred microseconds until ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    delay = 0.0002
    while True:
        try:
            dbapi_conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 1.5, 0.004)


@lru_cache
def get_engine() -> Engine:
    s = get_settings()
    return make_engine(s.database_url, busy_timeout_ms=s.sqlite_busy_timeout_ms)


def session_factory(engine: Engine | None = None, *, write: bool = True) -> sessionmaker[Session]:
    engine = engine or get_engine()
    bind = (
        engine.execution_options(sqlite_immediate=True)
        if write and engine.dialect.name == "sqlite"
        else engine
    )
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)


def write_gate(engine: Engine) -> WriteGate | None:
    """The queue of the writers of ``engine``'s SQLite database; None where none is needed (PostgreSQL)."""
    return _gates.get(engine)


@contextmanager
def write_unit(session: Session) -> Iterator[Session]:
    """A request's write, in the calling thread: the (read) session becomes a writer — on SQLite its next
    transaction begins with ``BEGIN IMMEDIATE`` and takes the write turn — and commits when the block ends
    (rolls back on any error), which gives the turn back in this same thread; afterwards it reads again, so
    nothing run later (in another thread) can take the turn by accident. Sessions bound to something other
    than a SQLite engine (PostgreSQL, a test's connection) only get the commit or rollback."""
    read_bind = session.bind
    switch = isinstance(read_bind, Engine) and read_bind.dialect.name == "sqlite"
    if switch:
        assert isinstance(read_bind, Engine)
        if session.in_transaction():
            session.commit()  # what the request's dependencies read: a deferred transaction, nothing to keep
            session.expire_all()  # the write acts on the rows as they are now, not as they were read
        session.bind = read_bind.execution_options(sqlite_immediate=True)
    try:
        with committing(session, close=False):
            yield session
    finally:
        if switch:
            session.bind = read_bind


@contextmanager
def committing(session: Session, *, close: bool = True) -> Iterator[Session]:
    """The one unit-of-work rule: commit when the block ends, roll back on any error, then close."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        if close:
            session.close()


@contextmanager
def unit_of_work(engine: Engine | None = None, *, write: bool = True) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error (CLI commands and jobs)."""
    with committing(session_factory(engine, write=write)()) as session:
        yield session
