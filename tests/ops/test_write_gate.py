"""SQLite writers queue in the write gate: threads of one process on a lock, processes on flock."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

from sqlalchemy import text

from civicgrid.db import make_engine, session_factory
from civicgrid.sqlite_gate import WriteGate


def test_concurrent_writers_all_commit_in_turn(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (writer INTEGER, step INTEGER)"))
    factory = session_factory(engine)

    def writer(n: int) -> None:
        for _ in range(25):
            with factory() as s:
                s.execute(text("INSERT INTO t VALUES (:n, 0)"), {"n": n})
                time.sleep(0.0005)  # Python work inside the transaction, as a report's intake does
                s.execute(text("INSERT INTO t VALUES (:n, 1)"), {"n": n})
                s.commit()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT writer, step FROM t ORDER BY rowid")).all()
    assert len(rows) == 6 * 25 * 2
    # Transactions never interleave: each writer's two rows are adjacent.
    assert all(
        rows[i][0] == rows[i + 1][0] and (rows[i][1], rows[i + 1][1]) == (0, 1)
        for i in range(0, len(rows), 2)
    )
    # A failed transaction gives its turn back.
    with factory() as s, contextlib.suppress(Exception):
        s.execute(text("INSERT INTO missing VALUES (1)"))
    with factory() as s:
        s.execute(text("INSERT INTO t VALUES (99, 0)"))
        s.commit()


def test_a_second_process_waits_for_the_file_lock(tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    first, second = WriteGate(db), WriteGate(db)  # two open files behave as two processes do
    first.acquire(1.0)
    order: list[str] = []

    def other() -> None:
        second.acquire(5.0)
        order.append("second")
        second.release()

    t = threading.Thread(target=other)
    t.start()
    time.sleep(0.2)
    order.append("first")
    first.release()
    t.join(5)
    assert order == ["first", "second"]
    assert (tmp_path / "g.db-writelock").exists()
