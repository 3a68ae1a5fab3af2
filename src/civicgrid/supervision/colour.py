"""A task's status colour on a date (SPEC §13), a pure function: 完成 / 红 / 黄 / 绿 (红黄绿灯).

- 完成 (``done``): accepted (销号).
- 红 (``red``): the deadline, or a milestone's date, has passed (the day after it) without being met.
- 黄 (``yellow``): the deadline or the next unmet milestone is within N days (the day itself included); or a
  milestone was met after its date (滞后 — a late milestone never turns green again); or a progress report is
  overdue at the task's cadence (counted from the last report, or from 交办 before the first).
- 绿 (``green``): otherwise. A close asked for (申请办结) by the deadline stops the deadline's clock.
- A task not yet assigned (待交办) has no colour (``""``).

Dates are local calendar dates (Asia/Shanghai); N is ``SupervisionSettings.warn_days`` (3 by default).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

DONE, RED, YELLOW, GREEN, NONE = "done", "red", "yellow", "green", ""
COLOUR_LABELS = {DONE: "完成", RED: "红", YELLOW: "黄", GREEN: "绿", NONE: "未交办"}
ORDER = (RED, YELLOW, GREEN, DONE)  # how summaries list them


@dataclass(frozen=True)
class Milestone:
    due: date
    target: str = ""
    met_on: date | None = None


@dataclass(frozen=True)
class TaskFacts:
    """What the colour depends on (read from a task row by ``facts_of``)."""

    state: str  # draft | assigned | doing | applied | done
    deadline: date | None
    milestones: Sequence[Milestone] = ()
    cadence: str | None = None  # weekly | monthly | quarterly
    assigned_on: date | None = None
    last_report_on: date | None = None
    applied_on: date | None = None  # 申请办结 pending review since this day


@dataclass(frozen=True)
class Colour:
    colour: str
    reason: str

    @property
    def label(self) -> str:
        return COLOUR_LABELS[self.colour]


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def report_due(cadence: str | None, since: date | None) -> date | None:
    """The day by which the next progress report is due, counting from ``since`` (last report or 交办)."""
    if cadence is None or since is None:
        return None
    if cadence == "weekly":
        return since + timedelta(days=7)
    if cadence == "monthly":
        return add_months(since, 1)
    if cadence == "quarterly":
        return add_months(since, 3)
    raise ValueError(f"unknown cadence {cadence!r}")


def colour_of(task: TaskFacts, today: date, warn_days: int = 3) -> Colour:
    if task.state == "done":
        return Colour(DONE, "已销号")
    if task.state == "draft":
        return Colour(NONE, "未交办")
    # A task whose close was asked for in time waits for the review without turning red or yellow for it.
    in_time = task.state == "applied" and task.applied_on is not None
    in_time = in_time and task.deadline is not None and task.applied_on <= task.deadline  # type: ignore[operator]
    if task.deadline is not None and today > task.deadline and not in_time:
        return Colour(RED, f"已超过办结时限 {task.deadline.isoformat()}")
    for m in task.milestones:
        if m.met_on is None and today > m.due:
            return Colour(RED, f"节点「{m.target}」{m.due.isoformat()} 未完成")
    horizon = today + timedelta(days=warn_days)
    if task.deadline is not None and task.deadline <= horizon and not in_time:
        return Colour(YELLOW, f"距办结时限 {task.deadline.isoformat()} 不足 {warn_days} 天")
    upcoming = [m for m in task.milestones if m.met_on is None]
    if upcoming and min(m.due for m in upcoming) <= horizon:
        m = min(upcoming, key=lambda x: x.due)
        return Colour(YELLOW, f"节点「{m.target}」{m.due.isoformat()} 临近")
    for m in task.milestones:
        if m.met_on is not None and m.met_on > m.due:
            return Colour(YELLOW, f"节点「{m.target}」滞后完成（{m.met_on.isoformat()}）")
    if task.state in ("assigned", "doing"):
        due = report_due(task.cadence, task.last_report_on or task.assigned_on)
        if due is not None and today > due:
            return Colour(YELLOW, f"进展报告逾期未报（应于 {due.isoformat()} 前报送）")
    return Colour(GREEN, "正常推进")


def summary(colours: Sequence[str]) -> dict[str, int]:
    """Counts by colour, every colour present (the tree's 红黄绿灯 summary)."""
    out = dict.fromkeys((*ORDER, NONE), 0)
    for c in colours:
        out[c] += 1
    return out
