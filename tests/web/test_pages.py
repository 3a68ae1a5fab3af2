"""The web layer without a browser (SQLite and PostgreSQL): login cookie, CSRF, redirects by role, the
friendly error page, security headers, the citizen form, case actions through forms, translations and
small helpers."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import advance, grid_point, make_case, principal
from civicgrid.models import Attachment, Case, CaseEvent, User
from civicgrid.org.tokens import issue_token
from civicgrid.web import i18n, render
from civicgrid.web import session as websession

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def _csrf(client: Any, path: str = "/track") -> str:
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def _login(client: Any, session: Session, username: str) -> None:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    client.cookies.set("civicgrid_token", issue_token(user.id)[0])


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 130, 140)).save(buf, format="JPEG")
    return buf.getvalue()


# --- Pure helpers -------------------------------------------------------------------------------------------


def test_signed_values_round_trip_and_refuse_tampering() -> None:
    signed = websession.pack("track", [["E0102202611260007", "A1B2C3"]])
    assert websession.unpack("track", signed) == [["E0102202611260007", "A1B2C3"]]
    assert websession.unpack("flash", signed) is None  # another purpose
    assert websession.unpack("track", signed[:-1] + ("0" if signed[-1] != "0" else "1")) is None
    assert websession.unsign("x", "no-signature") is None


def test_safe_next_only_follows_local_paths() -> None:
    assert websession.safe_next("/center?tab=all") == "/center?tab=all"
    assert websession.safe_next("//evil.example/") == "/"
    assert websession.safe_next("https://evil.example/") == "/"
    assert websession.safe_next("/\\evil") == "/"
    assert websession.safe_next("", "/report") == "/report"


def test_time_left_in_words() -> None:
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert render.time_left(now + timedelta(minutes=35), now, "zh") == "剩余 35 分钟"
    assert render.time_left(now + timedelta(hours=2, minutes=5), now, "zh") == "剩余 2 小时 5 分"
    assert render.time_left(now - timedelta(days=3, hours=4), now, "zh") == "超时 3 天 4 小时"
    assert render.time_left(now + timedelta(minutes=35), now, "en") == "35 min left"
    assert render.time_left(None, now, "zh") == "—"
    assert render.format_dt(now) == "2026-03-02 09:00"


def test_english_catalog_is_complete() -> None:
    assert i18n.check("en") == []
    assert i18n.translate("en", "待受理") == "Received"
    assert i18n.translate("en", "共 {n} 件", n=12) == "12 cases"
    assert i18n.translate("zh", "共 {n} 件", n=12) == "共 12 件"
    assert i18n.translate("en", "没有的词条") == "没有的词条"


# --- Pages --------------------------------------------------------------------------------------------------


def test_security_headers_on_pages_and_not_on_api_docs(client: Any) -> None:
    page = client.get("/report")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "content-security-policy" not in client.get("/docs").headers
    assert " style=" not in page.text and "<style" not in page.text
    assert re.findall(r"<script(?![^>]*(?:src=|application/json))", page.text) == []


def test_home_redirects_by_role(client: Any, session: Session) -> None:
    expected = {
        "operator": "/center",
        "dispatcher": "/center",
        "handler_hw": "/dept",
        "inspector001": "/inspector",
        "citizen": "/report",
    }
    for username, target in expected.items():
        _login(client, session, username)
        assert client.get("/", follow_redirects=False).headers["location"] == target, username
    client.cookies.clear()
    assert client.get("/", follow_redirects=False).headers["location"] == "/report"


def test_login_sets_an_httponly_cookie_and_logout_clears_it(client: Any) -> None:
    token = _csrf(client, "/login")
    bad = client.post(
        "/login", data={"csrf_token": token, "username": "operator", "password": "wrong-password"}
    )
    assert bad.status_code == 401
    assert "用户名或密码错误" in bad.text
    ok = client.post(
        "/login",
        data={"csrf_token": token, "username": "operator", "password": "civicgrid2026", "next": "/center"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == "/center"
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith("civicgrid_token=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie
    assert client.get("/center").status_code == 200
    # The CSRF token is bound to the login: the one of the login page is refused now.
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 403
    token = _csrf(client, "/center")
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.headers["location"] == "/login"
    assert 'civicgrid_token=""' in out.headers["set-cookie"]


def test_missing_or_expired_login_redirects_to_login(client: Any, session: Session) -> None:
    first = client.get("/center?tab=all", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/center%3Ftab%3Dall"
    user = session.scalar(select(User).where(User.username == "operator"))
    assert user is not None
    client.cookies.set("civicgrid_token", issue_token(user.id, minutes=-1)[0])
    expired = client.get("/center")
    assert expired.url.path == "/login"
    assert "登录已过期，请重新登录" in expired.text


def test_post_without_csrf_token_is_refused(client: Any) -> None:
    client.get("/track")
    refused = client.post("/track", data={"number": "E0102202611260007", "code": "ABCDEF"})
    assert refused.status_code == 403
    assert "表单已失效（缺少安全校验码），请刷新页面后重新提交" in refused.text
    assert refused.headers["content-type"].startswith("text/html")


def test_wrong_role_gets_a_friendly_403_page(client: Any, session: Session) -> None:
    _login(client, session, "citizen")
    page = client.get("/center")
    assert page.status_code == 403
    assert "此页面需要以下角色之一：受理员、值班长、派遣员、领导、管理员" in page.text
    assert "<h1>无权操作</h1>" in page.text


def test_citizen_report_form_with_photo(client: Any, session: Session) -> None:
    p = grid_point(session, 1200)
    token = _csrf(client, "/report")
    done = client.post(
        "/report",
        data={
            "csrf_token": token,
            "description": "路口的路灯坏了，晚上一片漆黑",
            "lng": str(p.lng),
            "lat": str(p.lat),
            "category_code": "C0118",
            "reporter_phone": "13812345678",
        },
        files={"photos": ("lamp.jpg", _jpeg(), "image/jpeg")},
    )
    assert done.status_code == 200
    assert done.url.path == "/report/done"
    number = re.search(r'id="case-number">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]
    code = re.search(r'id="query-code">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]
    case = session.scalar(select(Case).where(Case.number == number))
    assert case is not None
    assert (case.category_code, case.source, case.grid_code) == ("C0118", "citizen", p.grid_code)
    assert session.scalar(select(Attachment.case_id).where(Attachment.case_id == case.id)) == case.id
    # The browser remembers the code: the case page opens without typing it again.
    tracked = client.get(f"/track/{number}")
    assert tracked.status_code == 200
    assert "路口的路灯坏了" in tracked.text
    assert len(code) == 11  # K7QHM-3ZPX9


def test_report_form_keeps_values_on_error(client: Any) -> None:
    token = _csrf(client, "/report")
    page = client.post(
        "/report", data={"csrf_token": token, "description": "测试", "lng": "abc", "lat": "31.3"}
    )
    assert page.status_code == 422
    assert "请填写经度（数字），或在地图上点选位置" in page.text
    assert ">测试</textarea>" in page.text


def test_case_action_form_goes_through_transition(client: Any, session: Session) -> None:
    case = make_case(session, source="citizen")
    _login(client, session, "operator")
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert 'id="action-send_verify"' in page.text and 'id="action-merge"' in page.text
    assert 'id="action-register"' not in page.text  # a shift lead's action
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)  # type: ignore[union-attr]
    done = client.post(
        f"/cases/{case.id}/actions/send_verify",
        data={"csrf_token": token, "note": "请核实"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/cases/{case.id}"
    session.refresh(case)
    assert case.state == "verifying"
    last = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
    ).first()
    assert last is not None and (last.action, last.note, last.actor_role) == (
        "send_verify",
        "请核实",
        "operator",
    )
    # Not allowed now: refused with a message, nothing written.
    again = client.post(f"/cases/{case.id}/actions/send_verify", data={"csrf_token": token})
    assert "「派核实」未完成：案卷当前状态为「核实中」，不能执行「派核实」" in again.text
    session.refresh(case)
    assert case.state == "verifying"


def test_handler_sees_only_their_department(client: Any, session: Session) -> None:
    case = make_case(session, category="E0102")
    advance(
        session, case, [("register", "shiftlead", {}), ("dispatch", "dispatcher", {"department_code": "HW"})]
    )
    _login(client, session, "handler_hw")
    inbox = client.get("/dept")
    assert case.number in inbox.text
    _login(client, session, "handler_gs")
    assert case.number not in client.get("/dept").text
    refused = client.get(f"/cases/{case.id}")
    assert refused.status_code == 403
    assert "该案卷不在您的职责范围内" in refused.text


def test_inspector_tasks_are_the_cases_to_verify_in_their_grids(client: Any, session: Session) -> None:
    mine = make_case(session, source="citizen", point=grid_point(session, 0, "001"))
    other = make_case(session, source="citizen", point=grid_point(session, 0, "002"))
    for c in (mine, other):
        advance(session, c, [("send_verify", "operator", {})])
    _login(client, session, "inspector001")
    page = client.get("/inspector")
    assert mine.number in page.text
    assert other.number not in page.text
    assert principal(session, "inspector001").covers_grid(mine.grid_code)


def test_suggest_endpoint(client: Any) -> None:
    body = client.get(
        "/web/api/suggest", params={"text": "小区门口人行道上的井盖不见了，晚上路过很危险"}
    ).json()
    assert [s["code"] for s in body["suggestions"]] == ["C0101", "C0107", "C0114"]
    assert client.get("/web/api/suggest", params={"text": "a"}).json() == {"suggestions": []}


def test_english_switch_sets_the_lang_cookie(client: Any) -> None:
    page = client.get("/track?lang=en")
    assert '<html lang="en">' in page.text
    assert "<h1>Track a report</h1>" in page.text
    assert "lang=en" in page.headers["set-cookie"]
    assert "<h1>Track a report</h1>" in client.get("/track").text
