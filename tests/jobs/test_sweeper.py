"""The SLA sweeper: 黄灯 at 80 %, 红灯 when overdue, exactly once per case and level, even with two
sweepers."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from builders import advance, make_case
from civicgrid.jobs.sweeper import sweep
from civicgrid.models import Case, Notification, Supervision


def _dispatched(session, at: datetime) -> Case:
    case = make_case(session, source="inspector", category="C0111", now=at)  # 燃气井盖: 2 natural hours
    advance(session, case, [("register", "shiftlead", {}), ("dispatch", "dispatcher", {})], now=at)
    session.flush()
    return case


def test_warning_then_overdue_once_each(session) -> None:
    t0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    case = _dispatched(session, t0)
    assert case.due_at == t0 + timedelta(hours=2)
    assert sweep(session, now=t0 + timedelta(minutes=60)).warnings == 0
    r = sweep(session, now=t0 + timedelta(minutes=100))  # 83 %
    assert (r.warnings, r.overdue) == (1, 0)
    assert sweep(session, now=t0 + timedelta(minutes=110)).warnings == 0
    r = sweep(session, now=t0 + timedelta(minutes=121))
    assert (r.warnings, r.overdue) == (0, 1)
    assert sweep(session, now=t0 + timedelta(minutes=200)).overdue == 0
    levels = [
        s.level
        for s in session.scalars(
            select(Supervision).where(Supervision.case_id == case.id).order_by(Supervision.id)
        )
    ]
    assert levels == ["warning", "overdue"]
    kinds = sorted(
        n.kind for n in session.scalars(select(Notification).where(Notification.case_id == case.id))
    )
    assert kinds.count("supervise_warning") == 1 and kinds.count("supervise_overdue") == 2  # handler + leader
    assert case.warning_level == 2


def test_held_and_fed_back_cases_are_not_swept(session) -> None:
    t0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    held = _dispatched(session, t0)
    advance(session, held, [("hold", "shiftlead", {"note": "需资金"})], now=t0)
    done = _dispatched(session, t0)
    advance(
        session,
        done,
        [("sign", "handler_rq", {}), ("feedback", "handler_rq", {"note": "已修复"})],
        now=t0 + timedelta(minutes=30),
    )
    assert sweep(session, now=t0 + timedelta(hours=5)).overdue == 0


@pytest.fixture
def fresh_url():
    """A separate committed database for tests that need several connections at once."""
    from civicgrid.catalog.service import load_reference_data
    from civicgrid.db import make_engine, unit_of_work
    from civicgrid.demo.build import build_district
    from civicgrid.migrate import upgrade

    if os.environ.get("CIVICGRID_TEST_DB") == "postgresql":
        name = "cg_sweep_" + uuid.uuid4().hex[:8]
        admin = create_engine(
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    else:
        import tempfile

        url = f"sqlite:///{tempfile.mkdtemp()}/sweep.db"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as s:
        load_reference_data(s)
        build_district(s)
    yield engine
    engine.dispose()
    if url.startswith("postgresql"):
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def test_two_sweepers_at_once_send_one_notification(fresh_url) -> None:
    from civicgrid.db import session_factory, unit_of_work
    from civicgrid.geo import service

    service.invalidate()
    engine = fresh_url
    t0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    with unit_of_work(engine) as s:
        for _ in range(5):
            _dispatched(s, t0)
    service.invalidate()
    barrier = threading.Barrier(2)
    results = []

    def run() -> None:
        factory = session_factory(engine, write=True)
        barrier.wait()
        with factory() as s:
            results.append(sweep(s, now=t0 + timedelta(hours=3)))
            s.commit()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.overdue for r in results) == 5
    with unit_of_work(engine, write=False) as s:
        assert (
            s.scalar(select(func.count()).select_from(Supervision).where(Supervision.level == "overdue")) == 5
        )
        per_case = s.execute(
            select(Notification.case_id, func.count())
            .where(Notification.kind == "supervise_overdue")
            .group_by(Notification.case_id)
        ).all()
        assert len(per_case) == 5 and {n for _, n in per_case} == {
            2
        }  # the gas company's handler + the leader
