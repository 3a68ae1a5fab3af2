"""Editing the reference data of the loop: a category's limits and default department, and the routing
rules (category × area → department). Each change is a security event with its before and after; the caller
commits. The reading side is ``catalog/service.py`` and ``catalog/routing.py``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.catalog.routing import STREET_OFFICE
from civicgrid.catalog.seed import LIMIT_UNITS
from civicgrid.errors import InvalidInput, NotFound
from civicgrid.models import Area, Category, Department, GridGeneration, RoutingRule
from civicgrid.security.audit import Actor, record_admin


def _department(session: Session, code: str) -> Department:
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise InvalidInput(f"未知的部门代码：{code}")
    return dept


def _limits(cat: Category) -> dict[str, Any]:
    return {
        "limit": cat.limit_text,
        "urgent": cat.urgent,
        "department": cat.department_code,
        "merge_radius_m": cat.merge_radius_m,
        "merge_window_h": cat.merge_window_h,
    }


def _positive(value: float, label: str, *, allow_zero: bool = False) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput(f"{label}必须是数字")
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidInput(f"{label}必须大于 0" if not allow_zero else f"{label}不能小于 0")
    return value


def update_category(
    session: Session,
    actor: Actor,
    code: str,
    *,
    limit_amount: float,
    limit_unit: str,
    urgent: bool,
    department_code: str | None,
    merge_radius_m: float,
    merge_window_h: float,
) -> Category:
    """Change a category's disposal limit, urgency, default department and merge window."""
    cat = session.get(Category, code)
    if cat is None:
        raise NotFound(f"类别不存在：{code}")
    if limit_unit not in LIMIT_UNITS:
        raise InvalidInput(f"时限单位应为 {'、'.join(LIMIT_UNITS)}")
    if department_code and department_code != STREET_OFFICE:
        _department(session, department_code)
    before = _limits(cat)
    cat.limit_amount = _positive(limit_amount, "处置时限")
    cat.limit_unit = limit_unit
    cat.urgent = urgent
    cat.department_code = department_code or None
    cat.merge_radius_m = _positive(merge_radius_m, "并案半径", allow_zero=True)
    cat.merge_window_h = _positive(merge_window_h, "并案时间窗", allow_zero=True)
    record_admin(session, actor, "category_update", code, before=before, after=_limits(cat))
    return cat


def routing_rules(session: Session) -> list[tuple[RoutingRule, str | None, str]]:
    """Every rule with its category and department names, newest first."""
    rows = session.execute(
        select(RoutingRule, Category.name, Department.name)
        .outerjoin(Category, Category.code == RoutingRule.category_code)
        .join(Department, Department.id == RoutingRule.department_id)
        .order_by(RoutingRule.id.desc())
    ).all()
    return [(r, c, d) for r, c, d in rows]


def add_rule(
    session: Session,
    actor: Actor,
    *,
    category_code: str | None,
    area_code: str | None,
    department_code: str,
    priority: int = 0,
) -> tuple[RoutingRule, Department]:
    """A routing rule: cases of this category (or any) in this area (or the district) go to the department."""
    if category_code and session.get(Category, category_code) is None:
        raise InvalidInput(f"未知的类别：{category_code}")
    if area_code and not session.scalar(
        select(Area.id).where(
            Area.code == area_code,
            Area.generation_id.in_(select(GridGeneration.id).where(GridGeneration.active)),
        )
    ):
        raise InvalidInput(f"当前网格版本中没有这个区域代码：{area_code}")
    if not -1000 <= priority <= 1000:
        raise InvalidInput("优先级应在 -1000 到 1000 之间")
    dept = _department(session, department_code)
    rule = RoutingRule(
        category_code=category_code or None,
        area_code=area_code or None,
        department_id=dept.id,
        priority=priority,
    )
    session.add(rule)
    session.flush()
    record_admin(
        session,
        actor,
        "routing_create",
        f"rule {rule.id}",
        category=category_code,
        area=area_code,
        department=dept.code,
    )
    return rule, dept


def delete_rule(session: Session, actor: Actor, rule_id: int) -> None:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(f"派遣规则不存在：{rule_id}")
    data = {"category": rule.category_code, "area": rule.area_code, "department_id": rule.department_id}
    session.delete(rule)
    record_admin(session, actor, "routing_delete", f"rule {rule_id}", **data)
