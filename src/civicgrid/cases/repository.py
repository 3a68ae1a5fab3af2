"""Case queries. Every list and get goes through ``readable_cases`` (row scoping in one place)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from civicgrid.cases.scope import readable_cases
from civicgrid.cases.states import OPEN_REGISTERED
from civicgrid.errors import NotFound, NotYourCase
from civicgrid.models import Case, Department, utcnow
from civicgrid.org.roles import Principal


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
    overdue: bool | None = None
    number: str | None = None


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
    if f.number:
        q = q.where(Case.number == f.number)
    if f.overdue is True:
        q = q.where(
            Case.state.in_([s.value for s in OPEN_REGISTERED]), Case.due_at < now, Case.held.is_(False)
        )
    elif f.overdue is False:
        q = q.where(
            (Case.due_at.is_(None))
            | (Case.due_at >= now)
            | Case.state.not_in([s.value for s in OPEN_REGISTERED])
        )
    return q


def list_cases(
    session: Session, actor: Principal, f: CaseFilter, *, page: int = 1, page_size: int = 50
) -> tuple[list[Case], int]:
    now = utcnow()
    base = _apply(select(Case).where(readable_cases(actor)), f, now)
    total = session.scalar(select(func.count()).select_from(base.order_by(None).subquery())) or 0
    rows = session.scalars(
        base.order_by(Case.received_at.desc(), Case.id.desc()).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return list(rows), int(total)


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
