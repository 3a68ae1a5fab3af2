"""The monthly 通报: numbers hand-computed on a fixed history; the .docx and .xlsx hold the
expected tables."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from civicgrid.errors import InvalidInput
from civicgrid.supervision import bulletin
from civicgrid.supervision.bulletin import TaskRec, compute
from civicgrid.supervision.colour import TaskFacts
from civicgrid.supervision.tasks import transition

from .helpers import NOW, assign, directive, supervisor, user

SW, ZJ, YL = "水务局", "住房和城乡建设局", "园林绿化管理局"


def rec(i: int, unit: str, deadline: str, done: str | None, assigned: str = "2026-03-01") -> TaskRec:
    d = date.fromisoformat(deadline)
    done_on = date.fromisoformat(done) if done else None
    facts = TaskFacts(
        state="done" if done_on else "doing", deadline=d, assigned_on=date.fromisoformat(assigned)
    )
    return TaskRec(i, unit, f"{i}.", f"任务{i}", d, date.fromisoformat(assigned), done_on, facts)


# A fixed history for March 2026, read on 10 April (so the month is closed: as of 31 March).
HISTORY = [
    rec(1, SW, "2026-03-15", "2026-03-14"),  # due, on time
    rec(2, SW, "2026-03-20", "2026-03-25"),  # due, late
    rec(3, SW, "2026-03-10", None),  # due, overdue, red
    rec(4, SW, "2026-04-02", None),  # not due; yellow (deadline within 3 days of 31 March)
    rec(5, ZJ, "2026-02-28", "2026-03-05"),  # closed in March after its deadline: due, late
    rec(6, ZJ, "2026-03-31", "2026-04-05"),  # due on the last day, closed after the month: not on time,
    #                                          not overdue on the 31st, yellow then
    rec(7, ZJ, "2026-05-31", "2026-03-20"),  # closed early in March: due, on time
    rec(8, YL, "2026-06-30", None),  # nothing due: rate —
    rec(9, YL, "2026-04-30", None, assigned="2026-04-05"),  # assigned after the month: not counted
]
RETURNS = [(SW, date(2026, 3, 12)), (SW, date(2026, 3, 20)), (ZJ, date(2026, 2, 27)), (ZJ, date(2026, 3, 3))]
LATE = [(SW, date(2026, 3, 8)), (YL, date(2026, 3, 15)), (YL, date(2026, 4, 1))]


def test_the_numbers_by_hand() -> None:
    b = compute("2026-03", date(2026, 4, 10), HISTORY, RETURNS, LATE)
    assert (b.start, b.end, b.as_of) == (date(2026, 3, 1), date(2026, 3, 31), date(2026, 3, 31))
    got = [
        (r.rank, r.unit, r.tasks, r.due, r.on_time, r.rate_text, r.overdue, r.returns, r.late_reports)
        for r in b.rows
    ]
    assert got == [
        # 住建 and 水务 both 1/3; 住建 first with no overdue task
        (1, ZJ, 3, 3, 1, "33.3%", 0, 1, 0),
        (2, SW, 4, 3, 1, "33.3%", 1, 2, 1),
        (3, YL, 1, 0, 0, "—", 0, 0, 1),
    ]
    assert [(x.number, x.unit) for x in b.red] == [("3.", SW)]
    assert [(x.number, x.unit) for x in b.yellow] == [("6.", ZJ), ("4.", SW)]


def test_a_running_month_is_read_as_of_today_and_a_future_one_is_refused() -> None:
    b = compute("2026-03", date(2026, 3, 16), HISTORY, RETURNS, LATE)
    sw = next(r for r in b.rows if r.unit == SW)
    # as of 16 March: 1 on time (task 1), task 3 overdue, task 2 due (deadline in March) but not yet closed
    assert (sw.due, sw.on_time, sw.overdue) == (3, 1, 1)
    with pytest.raises(InvalidInput):
        compute("2026-05", date(2026, 4, 10), HISTORY, [], [])
    with pytest.raises(InvalidInput):
        bulletin.period_bounds("2026-13")


def test_docx_and_xlsx_hold_the_tables(tmp_path: Path) -> None:
    b = compute("2026-03", date(2026, 4, 10), HISTORY, RETURNS, LATE)
    path = tmp_path / "通报.docx"
    bulletin.write(b, path)
    document = docx.Document(str(path))
    assert document.paragraphs[0].text == "督查督办工作通报（2026年3月）"
    ranking, red, yellow = document.tables
    assert [c.text for c in ranking.rows[0].cells] == list(bulletin.RANK_HEADER)
    assert [c.text for c in ranking.rows[1].cells] == ["1", ZJ, "3", "3", "1", "33.3%", "0", "1", "0"]
    assert len(ranking.rows) == 4
    assert [c.text for c in red.rows[1].cells][:4] == ["1", SW, "3.任务3", "2026-03-10"]
    assert len(yellow.rows) == 3
    xlsx = tmp_path / "通报.xlsx"
    bulletin.write(b, xlsx)
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["单位排名", "红灯任务", "黄灯任务"]
    rows = list(wb["单位排名"].iter_rows(min_row=3, values_only=True))
    assert rows[1] == (2, SW, 4, 3, 1, pytest.approx(1 / 3), 1, 2, 1)
    with pytest.raises(InvalidInput):
        bulletin.write(b, tmp_path / "通报.pdf")


def test_built_from_the_database(session: Session, tmp_path: Path) -> None:
    tasks = directive(session)
    dc, sw, zj = supervisor(session), user(session, "handler_sw"), user(session, "handler_zj")
    on_time = assign(session, tasks["一、/（一）"], lead="SW", deadline=date(2026, 3, 20))
    returned = assign(session, tasks["一、/（二）"], lead="SW", deadline=date(2026, 3, 10), cadence="weekly")
    overdue = assign(session, tasks["二、"], lead="ZJ", deadline=date(2026, 3, 5))
    transition(session, on_time, "sign", sw, now=NOW)
    transition(session, on_time, "apply", sw, {"note": "完成"}, now=NOW + timedelta(days=3))
    transition(session, on_time, "accept", dc, now=NOW + timedelta(days=4))
    transition(session, returned, "sign", sw, now=NOW)
    transition(
        session, returned, "report", sw, {"percent": 50, "text": "推进中"}, now=NOW + timedelta(days=9)
    )
    transition(session, returned, "apply", sw, {"note": "完成"}, now=NOW + timedelta(days=9))
    transition(session, returned, "return", dc, {"note": "不合格"}, now=NOW + timedelta(days=9))
    transition(session, overdue, "sign", zj, now=NOW)
    session.flush()
    b = bulletin.build(session, "2026-03", NOW + timedelta(days=40))
    got = {r.unit: (r.tasks, r.due, r.on_time, r.overdue, r.returns, r.late_reports) for r in b.rows}
    assert got == {SW: (2, 2, 1, 1, 1, 1), ZJ: (1, 1, 0, 1, 0, 0)}
    assert [r.unit for r in b.rows] == [SW, ZJ]
    assert {x.title for x in b.red} == {"新建加压泵站", "改造老旧小区"}
