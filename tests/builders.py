"""Small typed builders for tests: points in the demo district, users' tokens, cases in a given state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.cases.intake import ReportIn, report
from civicgrid.cases.transition import transition
from civicgrid.models import Area, Case, User
from civicgrid.org.auth import principal_of
from civicgrid.org.roles import ANONYMOUS_CITIZEN, Principal
from civicgrid.org.tokens import issue_token


@dataclass(frozen=True)
class Point:
    lng: float
    lat: float
    grid_code: str


def grid_point(session: Session, index: int = 0, street_suffix: str | None = None) -> Point:
    """The centre of a unit grid of the seeded district (optionally within street 00N)."""
    q = select(Area).where(Area.level == "grid").order_by(Area.code)
    if street_suffix:
        q = q.where(Area.code.startswith("320508" + street_suffix))
    area = session.scalars(q.offset(index).limit(1)).one()
    return Point(area.centroid_lng, area.centroid_lat, area.code)


def principal(session: Session, username: str) -> Principal:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None, username
    return principal_of(user)


def auth(session: Session, username: str) -> dict[str, str]:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None, username
    return {"Authorization": f"Bearer {issue_token(user.id)[0]}"}


def make_case(
    session: Session,
    *,
    category: str = "E0102",
    point: Point | None = None,
    source: str = "inspector",
    reporter: str | None = None,
    description: str = "路边垃圾桶旁堆满垃圾袋",
    now: datetime | None = None,
    **kw: Any,
) -> Case:
    p = point or grid_point(session)
    actor = principal(session, reporter) if reporter else ANONYMOUS_CITIZEN
    res = report(
        session,
        ReportIn(description=description, lng=p.lng, lat=p.lat, category_code=category, source=source, **kw),
        actor,
        now=now,
        rapid=False,
    )
    return res.case


PATH_TO: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}


def advance(
    session: Session, case: Case, steps: list[tuple[str, str, dict[str, Any]]], now: datetime | None = None
) -> Case:
    for action, username, data in steps:
        transition(session, case, action, principal(session, username), data, now=now)
    return case
