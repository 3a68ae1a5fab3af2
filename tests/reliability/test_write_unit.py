"""The rule for writing on SQLite, in one process (deps.py, db.write_unit, sqlite_gate.WriteGate.turn):
a request's write — its first statement, the endpoint's work and the commit — runs in one thread-pool hop;
waiting for the turn holds no thread; the dependencies only read; a login verifies the password before
the write that records it. These use the real request session on a database of their own."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from civicgrid import deps
from civicgrid.db import make_engine, unit_of_work, write_gate
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.sqlite_gate import WriteGate

EVENTS: list[tuple[str, int]] = []
RELEASE = threading.Event()


def _mark(what: str) -> None:
    EVENTS.append((what, threading.get_ident()))


def count_rows(session: DbSession) -> int:
    """A dependency that reads, as the ones that identify the caller do."""
    return int(session.execute(text("SELECT count(*) FROM t")).scalar_one())


router = APIRouter(route_class=UnitOfWorkRoute)


@router.post("/write")
def write(session: DbSession, _seen: Annotated[int, Depends(count_rows)]) -> dict[str, int]:
    _mark("endpoint starts")
    # What the dependency read may be stale by now; what the endpoint reads inside its write is not.
    rows = int(session.execute(text("SELECT count(*) FROM t")).scalar_one()) + 1
    session.execute(text("INSERT INTO t VALUES (:n)"), {"n": rows})
    _mark("endpoint ends")
    return {"rows": rows}


@router.post("/slow-write")
def slow_write(session: DbSession) -> dict[str, bool]:
    session.execute(text("INSERT INTO t VALUES (0)"))
    return {"released": RELEASE.wait(10)}  # holds the turn until the test lets go


@router.get("/read")
def read(session: DbSession) -> dict[str, int]:
    return {"rows": int(session.execute(text("SELECT count(*) FROM t")).scalar_one())}


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'unit.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    monkeypatch.setattr(deps, "get_engine", lambda: engine)
    EVENTS.clear()
    RELEASE.clear()
    real_acquire, real_release = WriteGate.acquire, WriteGate.release

    def acquire(self: WriteGate, timeout_s: float) -> None:
        real_acquire(self, timeout_s)
        _mark("turn taken")

    def release(self: WriteGate) -> None:
        _mark("turn given back")
        real_release(self)

    monkeypatch.setattr(WriteGate, "acquire", acquire)
    monkeypatch.setattr(WriteGate, "release", release)
    yield engine
    RELEASE.set()
    engine.dispose()


def _app() -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    return app


def test_a_write_takes_and_gives_back_the_turn_in_the_endpoints_thread(engine: Engine) -> None:
    with TestClient(_app()) as c:
        r = c.post("/write")
    assert r.status_code == 200 and r.json() == {"rows": 1}
    # The dependency's read took no turn; the turn was taken by the endpoint's first write and given back by
    # the commit right after it, in the same thread.
    assert [e for e, _ in EVENTS] == ["endpoint starts", "turn taken", "endpoint ends", "turn given back"]
    assert len({thread for _, thread in EVENTS}) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [1]


def test_waiting_for_the_turn_holds_no_thread(engine: Engine) -> None:
    """One writer holds the turn (in its hop); a second writer waits for it on the event loop, so a reader
    still finds the second of the two threads free."""

    async def main() -> tuple[list[int], float]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2
        transport = httpx.ASGITransport(app=_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as c:
            first = asyncio.create_task(c.post("/slow-write"))
            while not any(e == "turn taken" for e, _ in EVENTS):
                await asyncio.sleep(0.01)
            second = asyncio.create_task(c.post("/write"))
            await asyncio.sleep(0.2)  # the second writer is now waiting for its turn
            t0 = time.monotonic()
            reader = await asyncio.wait_for(c.get("/read"), 5)
            read_s = time.monotonic() - t0
            RELEASE.set()
            statuses = [reader.status_code, (await first).status_code, (await second).status_code]
        return statuses, read_s

    statuses, read_s = asyncio.run(main())
    assert statuses == [200, 200, 200]
    assert read_s < 1.0
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT n FROM t")).scalars()) == [0, 2]


def test_a_failed_commit_is_a_500_keeps_nothing_and_gives_the_turn_back(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_commit = Session.commit
    failures = [OperationalError("COMMIT", {}, Exception("disk I/O error"))]

    def commit(self: Session) -> None:
        if failures and self.in_transaction() and (self.new or self.dirty or EVENTS):
            raise failures.pop()
        real_commit(self)

    monkeypatch.setattr(Session, "commit", commit)
    with TestClient(_app(), raise_server_exceptions=False) as c:
        assert c.post("/write").status_code == 500
        t0 = time.monotonic()
        assert c.post("/write").json() == {"rows": 1}  # the turn is free at once
        assert time.monotonic() - t0 < 2
    assert [e for e, _ in EVENTS].count("turn taken") == [e for e, _ in EVENTS].count("turn given back") == 2
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [1]


# --- Logins -------------------------------------------------------------------------------------------------


@pytest.fixture
def accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A migrated database of its own with one operator (password "correct-horse")."""
    from civicgrid.migrate import upgrade
    from civicgrid.org.service import create_user

    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as s:
        create_user(s, "op1", "correct-horse", ["operator"])
    monkeypatch.setattr(deps, "get_engine", lambda: engine)
    yield engine
    engine.dispose()


def test_a_login_verifies_the_password_without_holding_the_write_turn(
    accounts: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civicgrid.app import create_app
    from civicgrid.models import User
    from civicgrid.org import service

    gate = write_gate(accounts)
    assert gate is not None
    held: list[bool] = []
    real_check = service.check_password

    def check(user: Any, password: str) -> bool:
        held.append(gate._threads.locked())
        return real_check(user, password)

    monkeypatch.setattr(service, "check_password", check)
    with TestClient(create_app()) as c:
        wrong = c.post("/api/v1/auth/token", data={"username": "op1", "password": "not-it-at-all"})
        with unit_of_work(accounts, write=False) as s:
            failed = s.scalar(select(User.failed_logins).where(User.username == "op1"))
        right = c.post("/api/v1/auth/token", data={"username": "op1", "password": "correct-horse"})
    assert wrong.status_code == 401
    assert failed == 1  # the refusal was recorded and committed
    assert right.status_code == 200 and right.json()["access_token"]
    assert held == [False, False]  # argon2 ran once per login, never inside the write
