"""Routing: which department disposes of a category at a place. The most specific rule wins.

The rules and the departments' codes are reference data read on every dispatch: they come from the process
cache (refcache.py), which an edit empties, unless this session holds an unwritten edit of them."""

from __future__ import annotations

from typing import NamedTuple, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from civicgrid.models import Case, Category, Department, RoutingRule
from civicgrid.refcache import ProcessCache

STREET_OFFICE = "@street"


class _Rule(Protocol):
    @property
    def category_code(self) -> str | None: ...
    @property
    def area_code(self) -> str | None: ...
    @property
    def priority(self) -> int: ...


class _CachedRule(NamedTuple):
    category_code: str | None
    area_code: str | None
    priority: int
    department_id: int


class _Table(NamedTuple):
    rules: tuple[_CachedRule, ...]
    active: dict[str, int]  # department code → id, active departments only
    offices: dict[str, int]  # street code → its street office's id


_table: ProcessCache[None, _Table] = ProcessCache()


def _specificity(rule: _Rule) -> tuple[int, int, int]:
    area_len = len(rule.area_code or "")
    return (area_len, 1 if rule.category_code else 0, rule.priority)


def _load(session: Session) -> _Table:
    rules = tuple(
        _CachedRule(*row)
        for row in session.execute(
            select(RoutingRule.category_code, RoutingRule.area_code, RoutingRule.priority)
            .add_columns(RoutingRule.department_id)
            .order_by(RoutingRule.id)
        )
    )
    active: dict[str, int] = {}
    offices: dict[str, int] = {}
    depts = session.execute(
        select(
            Department.id, Department.code, Department.active, Department.kind, Department.street_code
        ).order_by(Department.id)
    )
    for d in depts:
        if d.active:
            active.setdefault(d.code, d.id)
        if d.kind == "street_office" and d.street_code:
            offices.setdefault(d.street_code, d.id)
    return _Table(rules, active, offices)


def _unwritten_edits(session: Session) -> bool:
    return any(
        isinstance(o, RoutingRule | Department) for o in (*session.new, *session.dirty, *session.deleted)
    )


def route(
    session: Session, category: Category, *, grid_code: str, community_code: str, street_code: str
) -> Department | None:
    """Pick the department for a case: routing rules (grid > community > street > district, then a rule naming
    the category over a catch-all), then the category's default department, then the street office."""
    if _unwritten_edits(session):
        return _route_from_database(
            session, category, grid_code=grid_code, community_code=community_code, street_code=street_code
        )
    table = _table.get(None, lambda: _load(session))
    areas = {a for a in (grid_code, community_code, street_code) if a}
    rules = [
        r
        for r in table.rules
        if r.category_code in (category.code, None) and (r.area_code is None or r.area_code in areas)
    ]
    if rules:
        return session.get(Department, max(rules, key=_specificity).department_id)
    code = category.department_code
    if code and code != STREET_OFFICE and code in table.active:
        return session.get(Department, table.active[code])
    office = table.offices.get(street_code)
    return session.get(Department, office) if office is not None else None


def _route_from_database(
    session: Session, category: Category, *, grid_code: str, community_code: str, street_code: str
) -> Department | None:
    """``route`` read from the database (and this session's unwritten rows)."""
    areas = [grid_code, community_code, street_code]
    rules = session.scalars(
        select(RoutingRule).where(
            or_(RoutingRule.category_code == category.code, RoutingRule.category_code.is_(None)),
            or_(RoutingRule.area_code.in_([a for a in areas if a]), RoutingRule.area_code.is_(None)),
        )
    ).all()
    if rules:
        best = max(rules, key=_specificity)
        return session.get(Department, best.department_id)
    code = category.department_code
    if code and code != STREET_OFFICE:
        dept = session.scalar(select(Department).where(Department.code == code, Department.active.is_(True)))
        if dept:
            return dept
    return street_office(session, street_code)


def street_office(session: Session, street_code: str) -> Department | None:
    return session.scalar(
        select(Department).where(Department.kind == "street_office", Department.street_code == street_code)
    )


def suggested_department(session: Session, case: Case) -> Department | None:
    """The department the routing rules would pick for a case (shown beside the dispatch form)."""
    cat = session.get(Category, case.category_code)
    if cat is None:
        return None
    return route(
        session,
        cat,
        grid_code=case.grid_code,
        community_code=case.community_code,
        street_code=case.street_code,
    )
