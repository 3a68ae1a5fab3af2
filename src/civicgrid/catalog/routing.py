"""Routing: which department disposes of a category at a place. The most specific rule wins."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from civicgrid.models import Case, Category, Department, RoutingRule

STREET_OFFICE = "@street"


def _specificity(rule: RoutingRule) -> tuple[int, int, int]:
    area_len = len(rule.area_code or "")
    return (area_len, 1 if rule.category_code else 0, rule.priority)


def route(
    session: Session, category: Category, *, grid_code: str, community_code: str, street_code: str
) -> Department | None:
    """Pick the department for a case: routing rules (grid > community > street > district, then a rule naming
    the category over a catch-all), then the category's default department, then the street office."""
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
