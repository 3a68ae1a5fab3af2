"""The monthly 通报 (SPEC §13): units ranked by on-time completion, overdue tasks, 退办 and late reports, with
the red and yellow tasks listed; written as .docx (what offices circulate) or .xlsx.

The figures of a unit (its tasks are those it leads, assigned by the end of the month):
- 应办结: tasks whose deadline falls in the month, or that were closed (销号) in it;
- 按期办结: of those, closed by the month's end and on or before their deadline (after any approved 延期);
- 按期办结率 = 按期办结 / 应办结 (— when nothing was due);
- 超期未办结: tasks not closed at the month's end (or today, in a running month) whose deadline is before it;
- 退办: 退办 actions on its tasks in the month; 逾期报送: its progress reports sent after they were due.
Ranked by 按期办结率 (highest first; — last), then fewer 超期未办结, 退办, 逾期报送, then the unit's name.
The red and yellow tasks are coloured (supervision/colour.py) for the month's last day (or today).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from civicgrid.errors import InvalidInput
from civicgrid.supervision import colour


@dataclass(frozen=True)
class TaskRec:
    id: int
    unit: str
    number: str
    title: str
    deadline: date | None
    assigned_on: date
    done_on: date | None
    facts: colour.TaskFacts


@dataclass
class UnitRow:
    unit: str
    tasks: int = 0
    due: int = 0
    on_time: int = 0
    overdue: int = 0
    returns: int = 0
    late_reports: int = 0
    rank: int = 0

    @property
    def rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def rate_text(self) -> str:
        return "—" if self.rate is None else f"{self.rate * 100:.1f}%"


@dataclass(frozen=True)
class TaskLine:
    unit: str
    number: str
    title: str
    deadline: str
    reason: str


@dataclass
class Bulletin:
    period: str  # YYYY-MM
    start: date
    end: date
    as_of: date
    rows: list[UnitRow] = field(default_factory=list)
    red: list[TaskLine] = field(default_factory=list)
    yellow: list[TaskLine] = field(default_factory=list)


def period_bounds(period: str) -> tuple[date, date]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", period)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InvalidInput("期间应写成 YYYY-MM，例如 2026-03", field="period")
    year, month = int(m.group(1)), int(m.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def compute(
    period: str,
    today: date,
    tasks: Sequence[TaskRec],
    returns: Iterable[tuple[str, date]],
    late_reports: Iterable[tuple[str, date]],
    warn_days: int = 3,
) -> Bulletin:
    """The bulletin from plain records (pure): ``returns`` and ``late_reports`` are (unit, local day)."""
    start, end = period_bounds(period)
    if start > today:
        raise InvalidInput("不能为尚未开始的月份生成通报", field="period")
    as_of = min(end, today)
    out = Bulletin(period, start, end, as_of)
    rows: dict[str, UnitRow] = {}

    def row(unit: str) -> UnitRow:
        return rows.setdefault(unit, UnitRow(unit))

    for t in tasks:
        if t.assigned_on > end:
            continue
        r = row(t.unit)
        r.tasks += 1
        done = t.done_on is not None and t.done_on <= as_of
        deadline_in = t.deadline is not None and start <= t.deadline <= end
        done_in = t.done_on is not None and start <= t.done_on <= end
        if deadline_in or done_in:
            r.due += 1
            if done and t.deadline is not None and t.done_on <= t.deadline:  # type: ignore[operator]
                r.on_time += 1
        if not done and t.deadline is not None and t.deadline < as_of:
            r.overdue += 1
        # The colour on the bulletin's day: a task closed after it was still open then.
        facts = t.facts if done or t.facts.state != "done" else replace(t.facts, state="doing")
        c = colour.colour_of(facts, as_of, warn_days)
        line = TaskLine(t.unit, t.number, t.title, t.deadline.isoformat() if t.deadline else "", c.reason)
        if c.colour == colour.RED:
            out.red.append(line)
        elif c.colour == colour.YELLOW:
            out.yellow.append(line)
    for unit, day in returns:
        if start <= day <= end:
            row(unit).returns += 1
    for unit, day in late_reports:
        if start <= day <= end:
            row(unit).late_reports += 1
    ordered = sorted(
        rows.values(),
        key=lambda r: (r.rate is None, -(r.rate or 0.0), r.overdue, r.returns, r.late_reports, r.unit),
    )
    for i, r in enumerate(ordered, 1):
        r.rank = i
    out.rows = ordered
    out.red.sort(key=lambda x: (x.deadline, x.unit, x.number))
    out.yellow.sort(key=lambda x: (x.deadline, x.unit, x.number))
    return out


# --- from the database ----------------------------------------------------------------------------


def build(session: Any, period: str, now: datetime) -> Bulletin:
    """Read the month's records and compute the bulletin."""
    from sqlalchemy import select

    from civicgrid.models import ProgressReport, SupervisionTask, TaskEvent
    from civicgrid.supervision.service import FACT_COLUMNS, facts_from, unit_names
    from civicgrid.supervision.settings import get_supervision_settings
    from civicgrid.supervision.tasks import district_zone, local_day

    start, end = period_bounds(period)
    tz = district_zone()
    since = datetime.combine(start, time.min, tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tz)
    names = unit_names(session)
    # Columns, not whole rows: a bulletin reads every assigned task.
    q = select(
        SupervisionTask.id,
        SupervisionTask.lead_unit_id,
        SupervisionTask.number,
        SupervisionTask.title,
        SupervisionTask.done_on,
        *FACT_COLUMNS,
    ).where(SupervisionTask.state != "draft", SupervisionTask.lead_unit_id.is_not(None))
    tasks, unit_of = [], {}
    for task_id, unit_id, number, title, done_on, *facts in session.execute(q):
        unit_of[task_id] = names.get(unit_id, str(unit_id))
        f = facts_from(*facts)
        tasks.append(
            TaskRec(
                id=task_id,
                unit=unit_of[task_id],
                number=number,
                title=title,
                deadline=f.deadline,
                assigned_on=f.assigned_on or start,
                done_on=done_on,
                facts=f,
            )
        )
    returns = [
        (unit_of[ev.task_id], local_day(ev.created_at))
        for ev in session.scalars(
            select(TaskEvent).where(
                TaskEvent.action == "return", TaskEvent.created_at >= since, TaskEvent.created_at < until
            )
        )
        if ev.task_id in unit_of
    ]
    late = [
        (names.get(r.department_id, str(r.department_id)), local_day(r.at))
        for r in session.scalars(
            select(ProgressReport).where(
                ProgressReport.late.is_(True), ProgressReport.at >= since, ProgressReport.at < until
            )
        )
        if r.department_id is not None
    ]
    return compute(period, local_day(now), tasks, returns, late, get_supervision_settings().warn_days)


# --- files ----------------------------------------------------------------------------------------

RANK_HEADER = (
    "排名",
    "单位",
    "督办任务",
    "应办结",
    "按期办结",
    "按期办结率",
    "超期未办结",
    "退办",
    "逾期报送",
)
TASK_HEADER = ("序号", "牵头单位", "任务", "办结时限", "情况")


def rank_rows(b: Bulletin) -> list[tuple[Any, ...]]:
    return [
        (r.rank, r.unit, r.tasks, r.due, r.on_time, r.rate_text, r.overdue, r.returns, r.late_reports)
        for r in b.rows
    ]


def task_rows(lines: Sequence[TaskLine]) -> list[tuple[Any, ...]]:
    return [(i, x.unit, f"{x.number}{x.title}", x.deadline, x.reason) for i, x in enumerate(lines, 1)]


def title_of(b: Bulletin) -> str:
    return f"督查督办工作通报（{b.start.year}年{b.start.month}月）"


def write(b: Bulletin, path: Path) -> None:
    """Write the bulletin as .docx or .xlsx, by the path's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        write_docx(b, path)
    elif suffix == ".xlsx":
        write_xlsx(b, path)
    else:
        raise InvalidInput("通报文件应为 .docx 或 .xlsx", field="out")


def write_docx(b: Bulletin, path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading(title_of(b), level=1)
    document.add_paragraph(
        f"统计期间：{b.start.isoformat()} 至 {b.end.isoformat()}（截至 {b.as_of.isoformat()}）。"
        f"参与排名单位 {len(b.rows)} 个，红灯任务 {len(b.red)} 项，黄灯任务 {len(b.yellow)} 项。"
    )
    for heading, header, rows in (
        ("一、单位排名", RANK_HEADER, rank_rows(b)),
        ("二、红灯任务", TASK_HEADER, task_rows(b.red)),
        ("三、黄灯任务", TASK_HEADER, task_rows(b.yellow)),
    ):
        document.add_heading(heading, level=2)
        if not rows:
            document.add_paragraph("无。")
            continue
        table = document.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = text
        _append_rows(table, rows)
    document.save(str(path))


def _append_rows(table: Any, rows: Sequence[tuple[Any, ...]]) -> None:
    """Append plain text rows as WordprocessingML (python-docx's ``add_row`` and ``cell.text`` cost ~5 ms a
    row, a minute for a few thousand tasks)."""
    from docx.oxml.ns import qn
    from lxml import etree

    tbl = table._tbl
    for values in rows:
        tr = etree.SubElement(tbl, qn("w:tr"))
        for value in values:
            run = etree.SubElement(etree.SubElement(etree.SubElement(tr, qn("w:tc")), qn("w:p")), qn("w:r"))
            etree.SubElement(run, qn("w:t")).text = str(value)


def write_xlsx(b: Bulletin, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "单位排名"
    ws.append([title_of(b)])
    ws.append(list(RANK_HEADER))
    for r in b.rows:
        ws.append([r.rank, r.unit, r.tasks, r.due, r.on_time, r.rate, r.overdue, r.returns, r.late_reports])
        if r.rate is not None:
            ws.cell(row=ws.max_row, column=6).number_format = "0.0%"
    for name, lines in (("红灯任务", b.red), ("黄灯任务", b.yellow)):
        sheet = wb.create_sheet(name)
        sheet.append(list(TASK_HEADER))
        for values in task_rows(lines):
            sheet.append(list(values))
    wb.save(str(path))
