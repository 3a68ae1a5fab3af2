"""Who may read and act on which case. Row scoping is one function, used by every list and get."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from civicgrid.models import Case
from civicgrid.org.roles import DISTRICT_WIDE_ROLES, Principal


def role_in_scope(actor: Principal, role: str, case: Case) -> bool:
    """Does ``role`` (held by ``actor``) reach this case?"""
    if role in DISTRICT_WIDE_ROLES:
        return True
    if role == "handler":
        return actor.department_id is not None and case.department_id == actor.department_id
    if role == "inspector":
        return actor.covers_grid(case.grid_code) or (
            actor.user_id is not None and case.reporter_user_id == actor.user_id
        )
    if role == "citizen":
        # An anonymous citizen proves ownership with the query code (checked by the action itself).
        return actor.user_id is None or case.reporter_user_id == actor.user_id
    return False


def can_read(actor: Principal, case: Case) -> bool:
    return any(role_in_scope(actor, role, case) for role in actor.roles if role != "citizen" or actor.user_id)


def readable_cases(actor: Principal) -> ColumnElement[bool]:
    """A WHERE clause limiting a query on ``Case`` to what ``actor`` may read."""
    if actor.roles & DISTRICT_WIDE_ROLES:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if "handler" in actor.roles and actor.department_id is not None:
        clauses.append(Case.department_id == actor.department_id)
    if "inspector" in actor.roles:
        clauses.extend(Case.grid_code.startswith(code, autoescape=True) for code in actor.grid_codes)
    if actor.user_id is not None and actor.roles & {"inspector", "citizen"}:
        clauses.append(Case.reporter_user_id == actor.user_id)
    return or_(*clauses) if clauses else false()
