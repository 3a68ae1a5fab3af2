"""Issue 11, defects 9 and 10: bounded bodies and problems that never echo the input; bad input — non-finite
numbers, lone surrogates, NUL and control characters, dates at the calendar's edge, huge ids — is a clear 4xx
with nothing written, never a 500 (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import auth, grid_point, make_case
from civicgrid.models import Case, CaseEvent, User
from civicgrid.org.tokens import issue_token

PHONE = "13912345678"
BASE = "/open311/v2"


def _cases(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Case)) or 0


def _report(session: Session, **extra: Any) -> dict[str, Any]:
    p = grid_point(session, 3)
    return {"description": "井盖松动", "lng": p.lng, "lat": p.lat, "category_code": "C0101", **extra}


def _post_raw(client: Any, path: str, text: str, headers: dict[str, str] | None = None) -> Any:
    return client.post(
        path, content=text.encode("utf-8"), headers={"content-type": "application/json", **(headers or {})}
    )


# --- defect 9: sizes and echoes ---------------------------------------------------------------------------


def test_a_2mb_json_body_gets_a_small_413(client: Any, session: Session) -> None:
    before = _cases(session)
    body = json.dumps(_report(session, description="x" * (2 * 1024 * 1024)))
    r = client.post("/api/v1/reports", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert len(r.content) < 1024 and r.json()["type"] == "urn:civicgrid:problem:payload_too_large"
    assert "1 MB" in r.json()["detail"]
    # Also without a Content-Length (a chunked upload): refused while streaming.
    chunks = (body[i : i + 65536].encode() for i in range(0, len(body), 65536))
    r = client.post("/api/v1/reports", content=chunks, headers={"content-type": "application/json"})
    assert r.status_code == 413 and len(r.content) < 1024
    assert _cases(session) == before


def test_a_large_form_body_is_refused_but_photos_keep_their_limit(client: Any, session: Session) -> None:
    r = client.post("/api/v1/reports", data={**_report(session), "description": "x" * (2 * 1024 * 1024)})
    assert r.status_code == 413


def test_validation_problems_do_not_echo_the_input(
    client: Any, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("civicgrid").addHandler(caplog.handler)  # civicgrid's logger does not propagate
    try:
        # Missing description: pydantic's error carries the whole body (with the phone) as its input.
        body = _report(session, reporter_phone=PHONE, reporter_name="王小明")
        del body["description"]
        r = client.post("/api/v1/reports", json={**body, "padding": "y" * 500_000})
        assert r.status_code == 422
        assert PHONE not in r.text and "王小明" not in r.text and len(r.content) < 4096
        assert r.json()["errors"] == [
            {"field": "description", "message": "Field required", "type": "missing"}
        ]
        # A phone that is itself wrong is not repeated either.
        r = client.post("/api/v1/reports", json=_report(session, reporter_phone=PHONE * 3))
        assert r.status_code == 422 and PHONE not in r.text
        # The case engine's validation (an action's data) the same.
        case = make_case(session)
        r = client.post(
            f"/api/v1/cases/{case.id}/actions/send_verify",
            json={"note": "x", "phone": PHONE},
            headers=auth(session, "operator"),
        )
        assert r.status_code == 422 and PHONE not in r.text
    finally:
        logging.getLogger("civicgrid").removeHandler(caplog.handler)
    assert PHONE not in caplog.text


def test_a_validation_problem_lists_at_most_20_errors(client: Any, session: Session) -> None:
    case = make_case(session)
    body = {f"unknown_{i}": i for i in range(500)}
    r = client.post(
        f"/api/v1/cases/{case.id}/actions/send_verify", json=body, headers=auth(session, "operator")
    )
    assert r.status_code == 422
    assert len(r.json()["errors"]) == 20 and "另有 480 处错误未列出" in r.json()["detail"]


def test_large_json_is_parsed_off_the_event_loop(client: Any, session: Session, monkeypatch: Any) -> None:
    import threading

    from civicgrid import jsonbody

    threads: list[str] = []
    real = jsonbody.loads_strict

    def spy(body: bytes) -> Any:
        threads.append(threading.current_thread().name)
        return real(body)

    monkeypatch.setattr(jsonbody, "loads_strict", spy)
    small = client.post("/api/v1/reports", json=_report(session))
    big = client.post("/api/v1/reports", json=_report(session, address="路" * 20_000))
    assert small.status_code == 201 and big.status_code == 422
    loop_thread, worker = threads  # the small body on the event loop, the large one on a worker thread
    assert worker != loop_thread


# --- defect 10: non-finite numbers, surrogates, NUL -------------------------------------------------------


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_non_finite_numbers_are_422(client: Any, session: Session, number: str) -> None:
    before = _cases(session)
    p = grid_point(session, 3)
    text = f'{{"description": "井盖松动", "lng": {number}, "lat": {p.lat}, "category_code": "C0101"}}'
    r = _post_raw(client, "/api/v1/reports", text)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert _cases(session) == before
    case = make_case(session)
    r = _post_raw(
        client,
        f"/api/v1/cases/{case.id}/actions/send_verify",
        f'{{"note": "x", "attachment_ids": [{number}]}}',
        auth(session, "operator"),
    )
    assert r.status_code == 422


def test_non_finite_coordinates_in_forms_are_4xx(client: Any, session: Session) -> None:
    before = _cases(session)
    r = client.post("/api/v1/reports", data={**_report(session), "lng": "nan"})
    assert r.status_code == 422
    from civicgrid.open311.keys import create_key

    key = create_key(session, "测试客户端").key
    r = client.post(
        f"{BASE}/requests.json",
        data={"api_key": key, "service_code": "C0101", "lat": "nan", "long": "inf", "description": "井盖"},
    )
    assert r.status_code == 400 and any("有限" in e["description"] for e in r.json())
    assert _cases(session) == before


def test_a_lone_surrogate_is_422(client: Any, session: Session) -> None:
    before = _cases(session)
    p = grid_point(session, 3)
    for text in (
        f'{{"description": "井盖\\ud800松动", "lng": {p.lng}, "lat": {p.lat}, "category_code": "C0101"}}',
        f'{{"description": "x", "lng": {p.lng}, "lat": {p.lat}, "\\udfff": 1}}',
    ):
        r = _post_raw(client, "/api/v1/reports", text)
        assert r.status_code == 422 and "代理字符" in r.json()["detail"]
    # A proper pair (an emoji written as escapes) is fine.
    ok = f'{{"description": "井盖 \\ud83d\\ude00", "lng": {p.lng}, "lat": {p.lat}, "category_code": "C0101"}}'
    assert _post_raw(client, "/api/v1/reports", ok).status_code == 201
    assert _cases(session) == before + 1


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\x7f", "\u009b"])
def test_nul_and_control_characters_are_refused_everywhere(client: Any, session: Session, bad: str) -> None:
    before = _cases(session)
    r = client.post("/api/v1/reports", json=_report(session, description=f"井盖{bad}松动"))
    assert r.status_code == 422 and "不允许的字符" in r.json()["detail"]
    r = client.post("/api/v1/reports", json=_report(session, reporter_name=f"王{bad}"))
    assert r.status_code == 422
    r = client.post("/api/v1/reports", data=_report(session, address=f"人民路{bad}1号"))
    assert r.status_code == 422
    case = make_case(session)
    events = session.scalar(select(func.count()).select_from(CaseEvent))
    r = client.post(
        f"/api/v1/cases/{case.id}/actions/send_verify",
        json={"note": f"请核实{bad}"},
        headers=auth(session, "operator"),
    )
    assert r.status_code == 422 and "不允许的字符" in r.json()["detail"]
    assert session.scalar(select(func.count()).select_from(CaseEvent)) == events
    from civicgrid.open311.keys import create_key

    key = create_key(session, "测试客户端").key
    p = grid_point(session, 3)
    form = {"api_key": key, "service_code": "C0101", "lat": str(p.lat), "long": str(p.lng)}
    r = client.post(f"{BASE}/requests.json", data={**form, "description": f"井盖{bad}"})
    assert r.status_code == 400 and any("不允许的字符" in e["description"] for e in r.json())
    r = client.get(f"{BASE}/requests.json", params={"service_request_id": f"X{bad}"})
    assert r.status_code == 400
    assert _cases(session) == before + 1  # only make_case's


def test_newlines_and_tabs_are_kept(client: Any, session: Session) -> None:
    r = client.post("/api/v1/reports", json=_report(session, description="第一行\r\n第二行\t末尾"))
    assert r.status_code == 201
    assert session.get(Case, r.json()["id"]).description == "第一行\n第二行\t末尾"


def test_the_web_report_form_refuses_nul(client: Any, session: Session) -> None:
    page = client.get("/report")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    before = _cases(session)
    r = client.post("/report", data={**_report(session), "description": "井盖\x00", "csrf_token": token[1]})
    assert 400 <= r.status_code < 500 and "不允许的字符" in r.text
    assert _cases(session) == before


# --- defect 10: dates at the calendar's edge --------------------------------------------------------------

EDGES = ["0001-01-01", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59+14:00", "1900-01-01T00:00:00Z"]


@pytest.mark.parametrize("edge", EDGES)
def test_dates_at_the_calendars_edge_are_4xx(client: Any, session: Session, edge: str) -> None:
    r = client.get("/api/v1/cases", params={"received_from": edge}, headers=auth(session, "operator"))
    assert r.status_code == 422 and "2000–2100" in r.json()["detail"]
    r = client.get("/api/v1/cases", params={"received_to": edge}, headers=auth(session, "operator"))
    assert r.status_code == 422
    for name in ("start_date", "end_date", "updated_after", "updated_before"):
        r = client.get(f"{BASE}/requests.json", params={name: edge})
        assert r.status_code == 400, (name, r.text)
        assert "2000–2100" in r.json()[0]["description"]


def test_an_action_date_at_the_edge_is_refused() -> None:
    from pydantic import ValidationError

    from civicgrid.cases.actions import Hold

    assert str(Hold.model_validate({"note": "长期挂账", "review_on": "2027-03-01"}).review_on) == "2027-03-01"
    for day in ("0001-01-01", "9999-12-31"):
        with pytest.raises(ValidationError, match="2000–2100"):
            Hold.model_validate({"note": "长期挂账", "review_on": day})


# --- defect 10: huge ids in web admin paths ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/departments/{n}",
        "/admin/departments/{n}/active",
        "/admin/routing/{n}/delete",
        "/admin/users/{n}/active",
        "/admin/users/{n}/password",
        "/admin/keys/{n}/revoke",
    ],
)
def test_huge_ids_in_admin_paths_are_4xx(client: Any, session: Session, path: str) -> None:
    admin_id = session.scalar(select(User.id).where(User.username == "admin"))
    client.cookies.clear()
    client.cookies.set("civicgrid_token", issue_token(admin_id)[0])
    page = client.get("/admin/users")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    for n in ("99999999999999999999", str(2**31), str(2**63)):
        r = client.post(path.format(n=n), data={"csrf_token": token[1], "password": "x" * 12, "name": "x"})
        assert 400 <= r.status_code < 500, (path, n, r.status_code)
