"""Departments (专业部门 and 街道办事处): the one place that creates, edits and finds them.

Every change is a security event (``admin_…``) naming who made it; the caller commits.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.errors import InvalidInput, NotFound
from civicgrid.models import Department
from civicgrid.security.audit import Actor, record_admin

CODE = re.compile(r"^[A-Za-z0-9_]{2,20}$")
KINDS = {"department": "专业部门", "street_office": "街道办事处"}


def all_departments(session: Session, *, active_only: bool = False) -> list[Department]:
    q = select(Department).order_by(Department.kind, Department.code)
    if active_only:
        q = q.where(Department.active.is_(True))
    return list(session.scalars(q))


def by_code(session: Session, code: str) -> Department:
    """The department with this code, or 422 naming the unknown code."""
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise InvalidInput(f"未知的部门代码：{code}")
    return dept


def by_id(session: Session, dept_id: int) -> Department:
    dept = session.get(Department, dept_id)
    if dept is None:
        raise NotFound(f"部门不存在：{dept_id}")
    return dept


def create(
    session: Session,
    actor: Actor,
    *,
    code: str,
    name: str,
    short_name: str = "",
    kind: str = "department",
    street_code: str | None = None,
) -> Department:
    code, name = code.strip().upper(), name.strip()
    if not CODE.match(code) or not name:
        raise InvalidInput("部门代码为 2–20 位字母或数字，名称不能为空")
    if kind not in KINDS:
        raise InvalidInput(f"部门类型应为 {'、'.join(KINDS)}")
    if session.scalar(select(Department.id).where(Department.code == code)):
        raise InvalidInput(f"部门代码已存在：{code}")
    dept = Department(
        code=code,
        name=name[:100],
        short_name=short_name.strip()[:40],
        kind=kind,
        street_code=street_code or None,
    )
    session.add(dept)
    session.flush()
    record_admin(session, actor, "department_create", code, name=name, kind=kind)
    return dept


def rename(session: Session, actor: Actor, dept_id: int, *, name: str, short_name: str = "") -> Department:
    dept = by_id(session, dept_id)
    name = name.strip()
    if not name:
        raise InvalidInput("部门名称不能为空")
    old = dept.name
    dept.name, dept.short_name = name[:100], short_name.strip()[:40]
    record_admin(session, actor, "department_update", dept.code, old=old, new=name)
    return dept


def set_active(session: Session, actor: Actor, dept_id: int, active: bool) -> Department:
    dept = by_id(session, dept_id)
    dept.active = active
    record_admin(session, actor, "department_active", dept.code, active=active)
    return dept
