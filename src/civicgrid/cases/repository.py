"""Case queries. Every list and get goes through ``readable_cases`` (row scoping in one place)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, null, select
from sqlalchemy import case as sql_case
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.compiler import SQLCompiler

from civicgrid.cases import disposal, search
from civicgrid.cases.scope import readable_cases
from civicgrid.cases.states import FINAL, State
from civicgrid.errors import InvalidInput, NotFound, NotYourCase
from civicgrid.models import Case, Department, utcnow
from civicgrid.models.base import UTCDateTime
from civicgrid.org.roles import Principal
from civicgrid.sla.deadlines import REGISTER_DISPATCH_OTHER, REGISTER_DISPATCH_URGENT

URGENT_ACCEPT_MIN = int(REGISTER_DISPATCH_URGENT.amount)  # both natural minutes ("min")
OTHER_ACCEPT_MIN = int(REGISTER_DISPATCH_OTHER.amount)


@dataclass
class CaseFilter:
    states: list[str] | None = None
    category_code: str | None = None
    department_code: str | None = None
    street_code: str | None = None
    community_code: str | None = None
    grid_code: str | None = None
    source: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    registered_from: datetime | None = None  # 立案 on or after (the leader's 立案数 card)
    closed_from: datetime | None = None  # 结案 on or after (the leader's 结案数 card)
    overdue: bool | None = None
    number: str | None = None
    text: str | None = None  # search: part of number/address/description, or a whole phone (cases/search.py)


def _apply(q: Select[Case], f: CaseFilter, now: datetime) -> Select[Case]:
    if f.states:
        q = q.where(Case.state.in_(f.states))
    if f.category_code:
        q = q.where(Case.category_code == f.category_code)
    if f.department_code:
        q = q.join(Department, Department.id == Case.department_id).where(
            Department.code == f.department_code
        )
    if f.street_code:
        q = q.where(Case.street_code == f.street_code)
    if f.community_code:
        q = q.where(Case.community_code == f.community_code)
    if f.grid_code:
        q = q.where(Case.grid_code == f.grid_code)
    if f.source:
        q = q.where(Case.source == f.source)
    if f.received_from:
        q = q.where(Case.received_at >= f.received_from)
    if f.received_to:
        q = q.where(Case.received_at < f.received_to)
    if f.registered_from:
        q = q.where(Case.registered_at >= f.registered_from)
    if f.closed_from:
        q = q.where(Case.closed_at >= f.closed_from)
    if f.number:
        q = q.where(Case.number == f.number)
    if f.text:
        q = q.where(search.matches(f.text))
    if f.overdue is True:  # 当前超期: the one definition (cases/disposal.py), as the leader's tile counts it
        q = q.where(disposal.sa_overdue_now(now))
    elif f.overdue is False:
        q = q.where(~disposal.sa_overdue_now(now))
    return q


def list_cases(
    session: Session,
    actor: Principal,
    f: CaseFilter,
    *,
    page: int = 1,
    page_size: int = 50,
    sort: str = "-received",
    count_cap: int | None = None,
) -> tuple[list[Case], int]:
    """One page of the cases ``actor`` may read that match ``f``, and how many match in all.
    ``sort``: a key of ``SORTS``, ``-`` first for descending (the default: newest received first).
    ``count_cap``: count no further than one past it (a list that shows "1000+" beyond; search at 1 M)."""
    now = utcnow()
    base = _apply(select(Case).where(readable_cases(actor)), f, now)
    counted = base.order_by(None) if count_cap is None else base.order_by(None).limit(count_cap + 1)
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    if f.text and sort == "-received" and total > search.WALK_FROM:
        # Newest first over many matches: walk the received-time index and stop at the page (cases/search.py).
        plain = CaseFilter(**{**f.__dict__, "text": None})
        base = _apply(select(Case).where(readable_cases(actor)), plain, now).where(
            search.matches(f.text, walk=True)
        )
    rows = session.scalars(
        base.order_by(*order_by(sort)).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return list(rows), int(total)


def order_by(sort: str) -> list[Any]:
    key, descending = sort.removeprefix("-"), sort.startswith("-")
    if key not in SORTS:
        raise InvalidInput(f"未知的排序：{sort}（可用：{'、'.join(SORTS)}）")
    col = SORTS[key]()
    first = col.desc() if descending else col.asc()
    return [first.nulls_last(), Case.id.desc() if descending else Case.id.asc()]


def deadline() -> ColumnElement[datetime]:
    """The deadline that matters now, in SQL (``web.lookups.stage_due`` plus the 待受理 one): disposal due
    once dispatched, else the current stage's due; for a case not yet accepted, its 立案派遣 limit from
    receipt (``sla.deadlines.register_dispatch_due``, natural minutes); none once the case is final."""
    accept_minutes = sql_case((Case.urgent.is_(True), URGENT_ACCEPT_MIN), else_=OTHER_ACCEPT_MIN)
    return sql_case(
        (Case.state.in_([s.value for s in FINAL]), null()),
        (and_(Case.due_at.is_not(None), Case.dispatched_at.is_not(None)), Case.due_at),
        (Case.stage_due_at.is_not(None), Case.stage_due_at),
        (Case.state == State.received.value, PlusMinutes(Case.received_at, accept_minutes)),
        else_=null(),
    )


class PlusMinutes(ColumnElement[datetime]):
    """``when`` plus a number of minutes, in each backend's date arithmetic."""

    type = UTCDateTime()
    inherit_cache = False

    def __init__(self, when: Any, minutes: Any) -> None:
        self.when, self.minutes = when, minutes


@compiles(PlusMinutes, "sqlite")
def _plus_minutes_sqlite(element: PlusMinutes, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC as text 'YYYY-MM-DD HH:MM:SS.ffffff'; this yields the same shape (to the millisecond).
    when, minutes = compiler.process(element.when, **kw), compiler.process(element.minutes, **kw)
    return f"strftime('%Y-%m-%d %H:%M:%f', {when}, '+' || ({minutes}) || ' minutes')"


@compiles(PlusMinutes)
def _plus_minutes_default(element: PlusMinutes, compiler: SQLCompiler, **kw: Any) -> str:
    when, minutes = compiler.process(element.when, **kw), compiler.process(element.minutes, **kw)
    return f"({when} + make_interval(mins => {minutes}))"


SORTS: dict[str, Callable[[], Any]] = {  # key → a column or SQL expression
    "received": lambda: Case.received_at,
    "due": deadline,
}


def get_case(session: Session, actor: Principal, case_id: int, *, with_events: bool = False) -> Case:
    q = select(Case).where(Case.id == case_id)
    if with_events:
        q = q.options(selectinload(Case.events), selectinload(Case.attachments))
    case = session.scalar(q)
    if case is None:
        raise NotFound(f"案卷不存在：{case_id}")
    if session.scalar(select(Case.id).where(Case.id == case_id, readable_cases(actor))) is None:
        raise NotYourCase("该案卷不在您的职责范围内")
    return case


def get_case_for_update(session: Session, case_id: int) -> Case:
    case = session.scalar(select(Case).where(Case.id == case_id).with_for_update())
    if case is None:
        raise NotFound(f"案卷不存在：{case_id}")
    return case


def get_by_number(session: Session, number: str) -> Case | None:
    return session.scalar(
        select(Case)
        .where(Case.number == number)
        .options(selectinload(Case.events), selectinload(Case.attachments))
    )


def load_full(session: Session, case_id: int) -> Case:
    """A case with its events and attachments, freshly loaded (no scope check: callers have authorised)."""
    return session.scalars(
        select(Case)
        .where(Case.id == case_id)
        .options(selectinload(Case.events), selectinload(Case.attachments))
        .execution_options(populate_existing=True)
    ).one()


def is_readable(session: Session, actor: Principal, case_id: int) -> bool:
    """Can ``actor`` still read the case (after an action that may have moved it out of their reach)?"""
    return session.scalar(select(Case.id).where(Case.id == case_id, readable_cases(actor))) is not None


MAP_POINT_COLUMNS = (
    Case.id,
    Case.number,
    Case.state,
    Case.category_code,
    Case.lng,
    Case.lat,
    Case.due_at,
    Case.stage_due_at,
    Case.dispatched_at,
    Case.held,
    Case.received_at,  # with urgent: a 待受理 case's light (web.views_center.row_light)
    Case.urgent,
)


def matching_points(
    session: Session, actor: Principal, f: CaseFilter, *, limit: int = 5000
) -> tuple[list[Case], int]:
    """Every case matching a list's filter (the same scope and filter as ``list_cases``), newest first, up to
    ``limit``, with only the columns a map point needs loaded; and how many match in all."""
    from sqlalchemy.orm import load_only

    now = utcnow()
    base = _apply(select(Case).where(readable_cases(actor)), f, now)
    total = session.scalar(select(func.count()).select_from(base.order_by(None).subquery())) or 0
    rows = session.scalars(
        base.options(load_only(*MAP_POINT_COLUMNS, raiseload=True))
        .order_by(Case.received_at.desc(), Case.id.desc())
        .limit(limit)
    ).all()
    return list(rows), int(total)
