"""The numbers of the command center's wall screen (大屏, web/views_wall.py): today's flow through the loop,
the rankings and the overdue list. Overdue is the one definition the leader's cockpit and the case list use
(``cases.disposal.sa_overdue_now``), so the wall and the leader page never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.analytics.cockpit import departments, overdue_cases
from civicgrid.cases.disposal import sa_overdue_now
from civicgrid.geo.service import active_generation, area_names
from civicgrid.models import Case
from civicgrid.settings import get_settings

# Today's flow: the stage timestamp that says a case passed each step today.
FLOW = (
    ("received", "今日受理", Case.received_at),
    ("registered", "今日立案", Case.registered_at),
    ("dispatched", "今日派遣", Case.dispatched_at),
    ("disposed", "今日处置", Case.feedback_at),
    ("closed", "今日结案", Case.closed_at),
)


@dataclass(frozen=True)
class FlowStep:
    key: str
    label: str
    count: int


def start_of_day(now: datetime) -> datetime:
    """Local midnight (the district's time zone) of ``now``, as an aware datetime."""
    tz = ZoneInfo(get_settings().timezone)
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def today_flow(session: Session, now: datetime) -> list[FlowStep]:
    """How many cases passed each step of the loop since local midnight."""
    since = start_of_day(now)
    row = session.execute(select(*(func.count(col).filter(col >= since) for _, _, col in FLOW))).one()
    return [FlowStep(key, label, int(n or 0)) for (key, label, _), n in zip(FLOW, row, strict=True)]


def overdue_total(session: Session, now: datetime) -> int:
    return int(session.scalar(select(func.count(Case.id)).where(sa_overdue_now(now))) or 0)


def street_ranking(session: Session, now: datetime, days: int = 7) -> list[tuple[str, int]]:
    """Streets by cases reported in the last ``days`` days, most first."""
    gen = active_generation(session)
    names = area_names(session, gen.id)
    rows = session.execute(
        select(Case.street_code, func.count(Case.id))
        .where(Case.received_at >= now - timedelta(days=days))
        .group_by(Case.street_code)
        .order_by(func.count(Case.id).desc(), Case.street_code)
    ).all()
    return [(names.get(code, code), int(n)) for code, n in rows]


def overdue_panel(session: Session, now: datetime) -> dict[str, Any]:
    """超期案卷: how many are overdue now and the longest overdue first."""
    return {"total": overdue_total(session, now), "cases": overdue_cases(session, now, limit=12)}


def rankings_panel(session: Session, now: datetime) -> dict[str, Any]:
    """排行: departments with the most overdue cases now (then the lowest on-time rate over 30 days), and
    streets by reports in the last 7 days."""
    depts = [d for d in departments(session, now - timedelta(days=30), now) if d.due or d.overdue_now]
    worst = sorted(depts, key=lambda d: (-d.overdue_now, d.rate if d.rate is not None else 1.0, d.code))
    return {"departments": worst[:8], "streets": street_ranking(session, now)[:8]}
