"""The SLA sweeper: gives 黄灯预警 (80 % of the disposal limit used) and 红灯预警 (overdue) to cases, as a
supervision record of level ``warning`` / ``overdue``, and notifies the department (and, when overdue, the
leaders) — exactly once per case, level and due time. These automatic warnings are 预警, never 督办: staff
reserve 督办 for a leader's supervision (level ``leader``).

It acts through the case engine (``transition(case, "supervise", SYSTEM, level=...)``), works from the stored
state (``warning_level`` below what the clock says), not from a time window, so a missed beat is caught up by
the next one. Several server processes may run it: on PostgreSQL an advisory lock decides who sweeps; on
SQLite the write transaction (BEGIN IMMEDIATE) serialises sweepers. A unique key on the supervision row is the
last guard.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from civicgrid.cases.states import SWEPT
from civicgrid.cases.transition import transition
from civicgrid.models import Case, Category, Supervision, utcnow
from civicgrid.org.roles import SYSTEM
from civicgrid.sla.deadlines import WARNING_FRACTION, get_clock

log = logging.getLogger("civicgrid.sweeper")
LOCK_KEY = 7_311_2026  # advisory lock id for the sweeper


@dataclass
class SweepResult:
    skipped: bool = False
    warnings: int = 0
    overdue: int = 0
    created: list[dict[str, Any]] = field(default_factory=list)


def _lock(session: Session) -> bool:
    if session.get_bind().dialect.name == "postgresql":
        return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}).scalar())
    return True  # SQLite: this session began with BEGIN IMMEDIATE, which already excludes other writers


def sweep(session: Session, now: datetime | None = None) -> SweepResult:
    now = now or utcnow()
    result = SweepResult()
    if not _lock(session):
        result.skipped = True
        return result
    clock = get_clock()
    units = dict(session.execute(select(Category.code, Category.limit_unit)).all())
    q = (
        select(Case)
        .where(
            Case.state.in_(SWEPT),
            Case.due_at.is_not(None),
            Case.held.is_(False),
            Case.warning_level < 2,
        )
        .order_by(Case.due_at)
    )
    for case in session.scalars(q):
        assert case.due_at is not None
        start = case.dispatched_at or case.received_at
        if now > case.due_at:
            level, note = "overdue", "已超过处置时限，请立即处置并反馈"
        else:
            working = units.get(case.category_code) in ("wh", "wd")
            frac = clock.elapsed_fraction(start, case.due_at, now, working=working)
            if frac < WARNING_FRACTION or case.warning_level >= 1:
                continue
            level, note = "warning", "处置时限已用去八成，请抓紧处置"
        transition(session, case, "supervise", SYSTEM, {"level": level, "note": note}, now=now)
        if level == "overdue":
            result.overdue += 1
        else:
            result.warnings += 1
        result.created.append(
            {
                "case_number": case.number,
                "level": level,
                "department_id": case.department_id,
                "due_at": case.due_at.isoformat(),
                "at": now.isoformat(),
            }
        )
    return result


def run_once(engine: Any = None) -> SweepResult:
    """One sweep in its own unit of work (the subscribers write its notices and webhook deliveries)."""
    from civicgrid.db import unit_of_work

    with unit_of_work(engine) as session:
        return sweep(session)


def run_job() -> str:
    """The periodic job (``civicgrid jobs run sla-sweep``): one sweep and a one-line summary."""
    r = run_once()
    return (
        "另一个进程正在扫描，本次跳过"
        if r.skipped
        else f"黄灯预警 {r.warnings} 件，红灯预警（超期） {r.overdue} 件"
    )


def count_supervisions(session: Session, level: str) -> int:
    return len(session.scalars(select(Supervision.id).where(Supervision.level == level)).all())
