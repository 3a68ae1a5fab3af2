"""GET requests: the filters of GeoReport v2 (and the common extensions) over the public cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from civicgrid.cases.states import FINAL, State
from civicgrid.models import Case, Category
from civicgrid.open311.config import get_open311_settings
from civicgrid.open311.errors import Problems, fail
from civicgrid.open311.params import Params

MAX_IDS = 1000


def public_cases() -> ColumnElement[bool]:
    """The Open311 view: every case once the command center has accepted it (left 待受理). Reporter data is
    never part of it. Cases still waiting for an operator are reached only through their token."""
    return Case.state != State.received.value


@dataclass
class RequestQuery:
    ids: list[str] | None = None
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    page: int = 1
    page_size: int = 1000
    extensions: bool = False


def _split(raw: str | None) -> list[str]:
    return [x.strip() for x in (raw or "").split(",") if x.strip()]


def parse_query(session: Session, params: Params, now: datetime, problems: Problems) -> RequestQuery:
    s = get_open311_settings()
    q = RequestQuery(page_size=s.max_results, extensions=params.flag("extensions", problems))
    q.page = params.integer("page", problems, low=1, high=1_000_000) or 1
    q.page_size = params.integer("page_size", problems, low=1, high=s.max_results) or s.max_results
    ids = _split(params.get("service_request_id"))
    if ids:  # overrides every other filter
        if len(ids) > MAX_IDS:
            problems.add(400, f"service_request_id 最多 {MAX_IDS} 个")
        q.ids = ids[:MAX_IDS]
        return q
    codes = _split(params.get("service_code"))
    if codes:
        known = set(session.scalars(select(Category.code).where(Category.code.in_(codes))))
        for code in codes:
            if code not in known:
                problems.add(404, f"未知的服务代码（service_code）：{code}")
        q.service_codes = codes
    statuses = [x.lower() for x in _split(params.get("status"))]
    for st in statuses:
        if st not in {"open", "closed"}:
            problems.add(400, f"status 只能是 open 或 closed，收到：{st}")
    q.statuses = statuses or None
    q.start, q.end = params.datetime("start_date", problems), params.datetime("end_date", problems)
    q.updated_after = params.datetime("updated_after", problems)
    q.updated_before = params.datetime("updated_before", problems)
    window = timedelta(days=s.window_days)
    if q.start and q.end:
        if q.end < q.start:
            problems.add(400, "end_date 不能早于 start_date")
        elif q.end - q.start > window:
            problems.add(400, f"start_date 与 end_date 相隔不能超过 {s.window_days} 天")
    elif q.start:
        q.end = q.start + window
    elif q.end:
        q.start = q.end - window
    elif not (
        params.has("start_date")
        or params.has("end_date")
        or params.has("updated_after")
        or params.has("updated_before")
    ):
        q.start, q.end = now - window, now  # the default: the last 90 days
    if q.updated_after and q.updated_before and q.updated_before < q.updated_after:
        problems.add(400, "updated_before 不能早于 updated_after")
    return q


def _filtered(q: RequestQuery) -> Select[Case]:
    stmt = select(Case).where(public_cases())
    if q.ids is not None:
        return stmt.where(Case.number.in_(q.ids))
    if q.service_codes:
        stmt = stmt.where(Case.category_code.in_(q.service_codes))
    if q.statuses and len(set(q.statuses)) == 1:
        final = [s.value for s in FINAL]
        stmt = stmt.where(Case.state.in_(final) if q.statuses[0] == "closed" else Case.state.not_in(final))
    if q.start:
        stmt = stmt.where(Case.received_at >= q.start)
    if q.end:
        stmt = stmt.where(Case.received_at <= q.end)
    if q.updated_after:
        stmt = stmt.where(Case.updated_at >= q.updated_after)
    if q.updated_before:
        stmt = stmt.where(Case.updated_at <= q.updated_before)
    return stmt


def find_requests(session: Session, q: RequestQuery) -> list[Case]:
    stmt = _filtered(q).order_by(Case.received_at.desc(), Case.id.desc())
    return list(session.scalars(stmt.offset((q.page - 1) * q.page_size).limit(q.page_size)))


def get_request(session: Session, number: str) -> Case:
    case = session.scalar(select(Case).where(Case.number == number, public_cases()))
    if case is None:
        raise fail(404, f"未找到服务请求（service_request_id）：{number}")
    return case
