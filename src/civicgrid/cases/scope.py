"""Who may read and act on which case. Row scoping is one function, used by every list and get.

Each role reaches cases in its own way: the district-wide roles reach all of them; the others through a
pair of functions saying the same thing twice — a Python test for one case (``role_in_scope``) and an SQL
clause for lists (``readable_cases``). The core roles' pairs are below; a domain's role declares its own
pair in its ``RoleDef`` (``reach``/``clause``), so adding a role edits no shared file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement, false, or_, true

from civicgrid import domains
from civicgrid.models import Case
from civicgrid.org.roles import Principal, all_roles, district_wide_roles


@dataclass(frozen=True)
class Reach:
    test: Callable[[Principal, Case], bool]
    clause: Callable[[Principal], ColumnElement[bool]]


def _own(actor: Principal) -> ColumnElement[bool]:
    return Case.reporter_user_id == actor.user_id if actor.user_id is not None else false()


def _handler_test(actor: Principal, case: Case) -> bool:
    return actor.department_id is not None and case.department_id == actor.department_id


def _handler_clause(actor: Principal) -> ColumnElement[bool]:
    return Case.department_id == actor.department_id if actor.department_id is not None else false()


def _inspector_test(actor: Principal, case: Case) -> bool:
    return actor.covers_grid(case.grid_code) or (
        actor.user_id is not None and case.reporter_user_id == actor.user_id
    )


def _inspector_clause(actor: Principal) -> ColumnElement[bool]:
    grids = [Case.grid_code.startswith(code, autoescape=True) for code in actor.grid_codes]
    return or_(*grids, _own(actor))


def _citizen_test(actor: Principal, case: Case) -> bool:
    # An anonymous citizen proves ownership with the query code (checked by the action itself).
    return actor.user_id is None or case.reporter_user_id == actor.user_id


CORE_REACH: dict[str, Reach] = {
    "handler": Reach(_handler_test, _handler_clause),
    "inspector": Reach(_inspector_test, _inspector_clause),
    "citizen": Reach(_citizen_test, _own),
}


def reach_of(role: str) -> Reach | None:
    if role in CORE_REACH:
        return CORE_REACH[role]
    r = all_roles().get(role)
    if r is None or not (r.reach and r.clause):
        return None
    return Reach(
        cast(Callable[[Principal, Case], bool], domains.resolve(r.reach)),
        cast(Callable[[Principal], ColumnElement[bool]], domains.resolve(r.clause)),
    )


def role_in_scope(actor: Principal, role: str, case: Case) -> bool:
    """Does ``role`` (held by ``actor``) reach this case?"""
    if role in district_wide_roles():
        return True
    reach = reach_of(role)
    return reach is not None and reach.test(actor, case)


def can_read(actor: Principal, case: Case) -> bool:
    return any(role_in_scope(actor, role, case) for role in actor.roles if role != "citizen" or actor.user_id)


def readable_cases(actor: Principal) -> ColumnElement[bool]:
    """A WHERE clause limiting a query on ``Case`` to what ``actor`` may read."""
    if actor.roles & district_wide_roles():
        return true()
    clauses = [reach.clause(actor) for role in sorted(actor.roles) if (reach := reach_of(role))]
    return or_(*clauses) if clauses else false()
