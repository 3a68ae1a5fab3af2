"""导出 Excel from every list and the print layouts (SQLite and PostgreSQL): each export is a valid workbook
whose rows are the list's rows (all of them, scoped as the list is, recorded in the security log, refused
above the cap); the 派遣单, 处置单 and 案卷 pages carry the case's fields; the monthly report page
for leaders."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import advance, grid_point, make_case
from civicgrid.analytics.settings import get_analytics_settings
from civicgrid.models import Case, SecurityEvent, User
from civicgrid.org.tokens import issue_token

pytestmark = pytest.mark.db
NUMBER = re.compile(r">([CE]\d{16})<")


def _login(client: Any, session: Session, username: str) -> None:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    client.cookies.set("civicgrid_token", issue_token(user.id)[0])


def _sheet(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment;" in response.headers["content-disposition"]
    ws = load_workbook(BytesIO(response.content)).active
    assert ws is not None
    return [[c.value for c in row] for row in ws.iter_rows()]


def _dispatched(session: Session, index: int, dept: str, now: datetime | None = None) -> Case:
    case = make_case(session, point=grid_point(session, index), now=now)
    return advance(
        session,
        case,
        [
            ("register", "shiftlead", {}),
            ("dispatch", "dispatcher", {"department_code": dept, "note": "请今日内清运"}),
        ],
        now=now,
    )


def _exports(session: Session) -> list[dict[str, Any]]:
    events = session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "export")).all()
    return [e.data for e in events]


def test_queue_export_has_every_matching_case_of_the_list(client: Any, session: Session) -> None:
    cases = [_dispatched(session, i, "HW" if i % 2 else "SZ") for i in range(3)]
    extra = make_case(session, point=grid_point(session, 4), description="井盖缺失")
    _login(client, session, "leader")
    page = client.get("/center?tab=all&size=100")
    listed = NUMBER.findall(page.text)
    assert set(listed) >= {c.number for c in cases} | {extra.number}
    assert 'href="/center/export.xlsx?tab=all' in page.text
    rows = _sheet(client.get("/center/export.xlsx?tab=all"))
    assert rows[0][:4] == ["案卷号", "类别代码", "类别", "状态"]
    assert [r[0] for r in rows[1:]] == listed  # the same cases in the same order (newest first)
    assert not {"上报人", "电话", "reporter_phone"} & set(rows[0])  # no personal data
    # A filter of the list narrows the export the same way.
    only_sz = _sheet(client.get("/center/export.xlsx?tab=all&department=SZ"))
    sz_page = NUMBER.findall(client.get("/center?tab=all&department=SZ&size=100").text)
    assert [r[0] for r in only_sz[1:]] == sz_page
    assert {r[10] for r in only_sz[1:]} == {"市政工程管理处"}
    logged = _exports(session)
    assert logged[-1]["what"] == "center_queue" and logged[-1]["channel"] == "web"
    assert logged[-1]["rows"] == len(sz_page) and logged[-1]["filters"]["department_code"] == "SZ"


def test_handler_export_has_only_their_departments_cases(client: Any, session: Session) -> None:
    hw = [_dispatched(session, i, "HW") for i in (0, 1)]
    sz = _dispatched(session, 2, "SZ")
    _login(client, session, "handler_hw")
    page = client.get("/dept?tab=new")
    assert 'href="/dept/export.xlsx?tab=new' in page.text
    rows = _sheet(client.get("/dept/export.xlsx?tab=new"))
    numbers = [r[0] for r in rows[1:]]
    assert sorted(numbers) == sorted(c.number for c in hw) and sz.number not in numbers
    assert sorted(numbers) == sorted(NUMBER.findall(page.text))
    assert {r[9] for r in rows[1:]} == {"HW"}
    # The center's export is not theirs.
    assert client.get("/center/export.xlsx").status_code in (302, 303, 403)


def test_inspector_and_notice_exports(client: Any, session: Session) -> None:
    mine = make_case(session, source="citizen", point=grid_point(session, 0, "001"))
    other = make_case(session, source="citizen", point=grid_point(session, 0, "002"))
    for c in (mine, other):
        advance(session, c, [("send_verify", "operator", {})])
    _login(client, session, "inspector001")
    assert 'href="/inspector/export.xlsx"' in client.get("/inspector").text
    rows = _sheet(client.get("/inspector/export.xlsx"))
    assert rows[0] == ["任务", "案卷号", "类别", "问题描述", "地址", "时限", "已超时"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("核实", mine.number)]

    _dispatched(session, 3, "HW")
    _login(client, session, "handler_hw")
    page = client.get("/inbox")
    assert 'href="/inbox/export.xlsx"' in page.text
    notices = _sheet(client.get("/inbox/export.xlsx"))
    assert notices[0] == ["时间", "标题", "内容", "状态", "案卷编号（内部）"]
    assert len(notices) > 1 and all(r[3] == "未读" for r in notices[1:])
    assert len(notices) - 1 == len(re.findall(r'<div class="card[ "]', page.text))


def test_leader_table_exports(client: Any, session: Session) -> None:
    past = datetime.now(UTC) - timedelta(days=3)
    late = [_dispatched(session, i, "HW", now=past) for i in (0, 1)]  # due long ago, not disposed
    advance(session, late[0], [("supervise", "leader", {"note": "请加快办理"})])
    _login(client, session, "leader")
    page = client.get("/leader")
    for href in (
        "/leader/export/overdue.xlsx",
        "/leader/export/supervised.xlsx",
        "/leader/export/ranking.xlsx?days=30",
        "/leader/report",
    ):
        assert f'href="{href}' in page.text, href
    overdue = _sheet(client.get("/leader/export/overdue.xlsx"))
    assert overdue[0] == ["案卷号", "类别", "责任单位", "区域", "处置期限", "已督办"]
    numbers = {r[0]: r[5] for r in overdue[1:]}
    assert numbers[late[0].number] == "是" and numbers[late[1].number] == "否"
    tile = re.search(r'data-kpi="overdue">(\d+)<', page.text)
    assert tile and int(tile.group(1)) == len(overdue) - 1
    supervised = _sheet(client.get("/leader/export/supervised.xlsx"))
    assert [(r[0], r[2]) for r in supervised[1:]] == [(late[0].number, "请加快办理")]
    ranking = _sheet(client.get("/leader/export/ranking.xlsx?days=30"))
    assert ranking[0][:4] == ["单位类型", "排名", "代码", "单位"]
    hw = [r for r in ranking[1:] if r[2] == "HW"]
    assert len(hw) == 1 and hw[0][6] >= 2 and hw[0][7] >= 2  # 应处置, 当前超期
    if hw[0][6] < get_analytics_settings().ranking_min_cases:
        assert hw[0][1] is None and hw[0][8].startswith("案件量不足")
    assert {e["what"] for e in _exports(session)} >= {"leader_overdue", "leader_supervised", "leader_ranking"}


def test_export_over_the_cap_is_refused_and_not_logged(
    client: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(2):
        _dispatched(session, i, "HW")
    monkeypatch.setattr(get_analytics_settings(), "xlsx_web_max_rows", 1)
    _login(client, session, "leader")
    before = len(_exports(session))
    r = client.get("/center/export.xlsx?tab=all")
    assert r.status_code == 422
    assert "超过 Excel 导出上限 1 行" in r.text and "请缩小筛选范围" in r.text
    assert len(_exports(session)) == before


def test_print_sheets_have_the_cases_fields(client: Any, session: Session) -> None:
    case = _dispatched(session, 0, "HW")
    advance(
        session,
        case,
        [("sign", "handler_hw", {}), ("feedback", "handler_hw", {"note": "已清运完毕"})],
    )
    _login(client, session, "shiftlead")
    page = client.get(f"/cases/{case.id}")
    for sheet in ("dispatch", "disposal", "file"):
        assert f'href="/cases/{case.id}/print/{sheet}"' in page.text
    dispatch = client.get(f"/cases/{case.id}/print/dispatch")
    assert dispatch.status_code == 200
    text = dispatch.text
    assert "<h1>城市网格化管理派遣单</h1>" in text
    assert f'data-field="number">{case.number}<' in text
    assert 'data-field="department">环境卫生管理处<' in text
    assert 'data-field="dispatch_note">请今日内清运<' in text
    assert 'data-field="description">路边垃圾桶旁堆满垃圾袋<' in text
    assert "/static/css/print.css" in text and 'class="nav' not in text  # no site navigation
    disposal = client.get(f"/cases/{case.id}/print/disposal").text
    assert (
        "<h1>城市网格化管理处置单</h1>" in disposal and 'data-field="feedback_note">已清运完毕<' in disposal
    )
    full = client.get(f"/cases/{case.id}/print/file").text
    assert full.count('<tr class="event">') == 5  # report, register, dispatch, sign, feedback
    assert "请今日内清运" in full and "已清运完毕" in full and "内部" in full
    assert client.get(f"/cases/{case.id}/print/other").status_code == 404


def test_print_is_scoped_like_the_case_page(client: Any, session: Session) -> None:
    sz = _dispatched(session, 0, "SZ")
    _login(client, session, "handler_hw")
    assert client.get(f"/cases/{sz.id}/print/file").status_code == 403


def test_monthly_report_page_for_leaders(client: Any, session: Session) -> None:
    _dispatched(session, 0, "HW")
    _login(client, session, "leader")
    today = datetime.now(UTC)
    key = f"{today.year}-{today.month:02d}"
    page = client.get(f"/leader/report?period={key}")
    assert page.status_code == 200
    assert '<link rel="stylesheet" href="/leader/report.css">' in page.text and "<style>" not in page.text
    assert f'href="/leader/report.xlsx?period={key}"' in page.text
    assert "案件量少于" in page.text
    css = client.get("/leader/report.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    wb = load_workbook(BytesIO(client.get(f"/leader/report.xlsx?period={key}").content))
    assert wb.sheetnames[:2] == ["汇总", "专业部门"]
    assert client.get("/leader/report?period=2026-13").status_code == 422
    _login(client, session, "handler_hw")
    assert client.get("/leader/report").status_code in (302, 303, 403)
