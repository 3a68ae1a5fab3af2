"""应处置 / 处置 / 按期处置 / 超时未处置: the one definition (SPEC §7), for every figure that shows them.

The leader's cockpit (SQLAlchemy over ``cases``), the analytics dashboard and the evaluation (DuckDB over
the facts table) and the case lists (当前超期) all build their counts from this module, so they agree.

- A case is **disposed** (处置) once the department fed back: it was dispatched and is no longer in a state of
  the disposal clock (``DISPOSAL_CLOCK``: dispatched, processing, returned). Its disposal time is the last
  feedback (or the close, for a case closed without one).
- Its **judging moment** is the earlier of its due time and its disposal time. A case enters 应处置 in the
  period that holds its judging moment: a case disposed in time counts when it was disposed, a late one when
  its due time passed; a case still within its limit is not counted yet. Held cases (挂账) are left out.
- Over a period ``[start, cut)``: 应处置 = cases judged in it; 处置 = those disposed before the cut;
  按期处置 = disposed no later than the due time; 超期 = 应处置 − 按期处置; 超时未处置 = 应处置 − 处置;
  按期处置率 = 按期处置 / 应处置 (so 应处置 = 处置 + 超时未处置, as SPEC §7 has it).
- **当前超期** (overdue now): in a disposal-clock state, due time passed, not held. A case fed back in time
  waits for the command center's check, not for the department, and is not overdue.

Three faces of the same rules: a Python predicate (``outcome``, ``overdue_now``), SQLAlchemy expressions over
``models.Case`` and DuckDB SQL text over any relation's column names. No session, no web.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, not_, or_

from civicgrid.cases.states import DISPOSAL_CLOCK, sql_list
from civicgrid.models import Case

UNDISPOSED = tuple(sorted(s.value for s in DISPOSAL_CLOCK))
FLAGS = ("due", "disposed", "disposed_on_time", "overdue", "overdue_open")


# --- Python -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A case judged in a period (it is in 应处置): whether it was disposed, and in time."""

    disposed: bool
    on_time: bool

    @property
    def overdue_open(self) -> bool:
        return not self.disposed


def disposed_at(
    state: str, dispatched_at: datetime | None, feedback_at: datetime | None, closed_at: datetime | None
) -> datetime | None:
    if dispatched_at is None or state in UNDISPOSED:
        return None
    return feedback_at or closed_at


def judged_at(
    due_at: datetime | None, disposed: datetime | None, dispatched_at: datetime | None
) -> datetime | None:
    if dispatched_at is None or due_at is None:
        return None
    return disposed if disposed is not None and disposed < due_at else due_at


def outcome(c: Any, start: datetime, cut: datetime) -> Outcome | None:
    """The case's outcome in ``[start, cut)``, or None when it is not in that period's 应处置.

    ``c`` has the attributes of a ``models.Case``: state, dispatched_at, feedback_at, closed_at, due_at,
    held."""
    done = disposed_at(c.state, c.dispatched_at, c.feedback_at, c.closed_at)
    judged = judged_at(c.due_at, done, c.dispatched_at)
    if judged is None or c.held or not (start <= judged < cut):
        return None
    disposed = done is not None and done < cut
    return Outcome(disposed=disposed, on_time=disposed and done is not None and done <= c.due_at)


def overdue_now(state: str, due_at: datetime | None, held: bool, now: datetime) -> bool:
    """当前超期: still with the department (disposal clock running), past its due time, not held."""
    return state in UNDISPOSED and due_at is not None and due_at < now and not held


def rate(on_time: int, due: int) -> float | None:
    """按期处置率 (0–1), None when nothing was due."""
    return on_time / due if due else None


# --- SQLAlchemy over models.Case ----------------------------------------------------------------------------


def sa_disposed_at() -> ColumnElement[Any]:
    return case(
        (or_(Case.dispatched_at.is_(None), Case.state.in_(UNDISPOSED)), None),
        else_=func.coalesce(Case.feedback_at, Case.closed_at),
    )


def sa_judged_at() -> ColumnElement[Any]:
    done = sa_disposed_at()
    return case(
        (or_(Case.dispatched_at.is_(None), Case.due_at.is_(None)), None),
        (and_(done.is_not(None), done < Case.due_at), done),
        else_=Case.due_at,
    )


def sa_judged_in(start: datetime, cut: datetime) -> ColumnElement[bool]:
    """The case is in the 应处置 of ``[start, cut)``."""
    judged = sa_judged_at()
    return and_(
        Case.dispatched_at.is_not(None),
        Case.due_at.is_not(None),
        Case.held.is_(False),
        judged >= start,
        judged < cut,
    )


def sa_flags(cut: datetime) -> dict[str, ColumnElement[bool]]:
    """Per-case conditions of each count, for rows already restricted by ``sa_judged_in``."""
    done = sa_disposed_at()
    disposed = and_(done.is_not(None), done < cut)
    on_time = and_(disposed, done <= Case.due_at)
    return {
        "disposed": disposed,
        "disposed_on_time": on_time,
        "overdue": not_(on_time),
        "overdue_open": not_(disposed),
    }


def sa_sums(cut: datetime) -> tuple[Any, Any]:
    """(应处置, 按期处置) as SQL aggregates over rows restricted by ``sa_judged_in``."""
    return func.count(Case.id), func.sum(case((sa_flags(cut)["disposed_on_time"], 1), else_=0))


def sa_overdue_now(now: datetime) -> ColumnElement[bool]:
    """当前超期 as a WHERE clause (``overdue_now`` in SQL)."""
    return and_(Case.state.in_(UNDISPOSED), Case.due_at.is_not(None), Case.due_at < now, Case.held.is_(False))


# --- DuckDB SQL text ---------------------------------------------------------------------------------------


def sql_disposed_at(state: str, dispatched: str, feedback: str, closed: str) -> str:
    return (
        f"(CASE WHEN {dispatched} IS NULL OR {state} IN {sql_list(DISPOSAL_CLOCK)} THEN NULL "
        f"ELSE coalesce({feedback}, {closed}) END)"
    )


def sql_judged_at(due: str, disposed: str, dispatched: str) -> str:
    return (
        f"(CASE WHEN {dispatched} IS NULL OR {due} IS NULL THEN NULL "
        f"WHEN {disposed} IS NOT NULL AND {disposed} < {due} THEN {disposed} ELSE {due} END)"
    )


def sql_flags(judged: str, disposed: str, due: str, held: str, start: str, cut: str) -> dict[str, str]:
    """Per-case SQL booleans of each count of ``FLAGS`` in ``[start, cut)`` (literals or parameters)."""
    in_period = f"({judged} >= {start} AND {judged} < {cut} AND NOT coalesce({held}, FALSE))"
    done = f"({in_period} AND {disposed} IS NOT NULL AND {disposed} < {cut})"
    on_time = f"({done} AND {disposed} <= {due})"
    return {
        "due": in_period,
        "disposed": done,
        "disposed_on_time": on_time,
        "overdue": f"({in_period} AND NOT {on_time})",
        "overdue_open": f"({in_period} AND NOT {done})",
    }


def sql_overdue_now(state: str, due: str, held: str, now: str) -> str:
    """当前超期 as DuckDB SQL text."""
    return f"({state} IN {sql_list(DISPOSAL_CLOCK)} AND {due} < {now} AND NOT coalesce({held}, FALSE))"
