"""The web pages in Chromium: one case walked through the whole closed loop by clicking, as every role
in turn; the English switch; a 375-px phone; the citizen form without JavaScript; security headers.

Every page is screenshotted under test-artifacts/web/, and any JavaScript error (console or uncaught) fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
ARTIFACTS.mkdir(parents=True, exist_ok=True)
PASSWORD = "civicgrid2026"
Live = Any  # the live_server fixture's value (tests/web/conftest.py)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


class Session:
    """One browser context (one person) with JavaScript-error capture and numbered screenshots."""

    counter = 0

    def __init__(self, context: Any, live: Live, name: str) -> None:
        self.context = context
        self.live = live
        self.name = name
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.on(
            "console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.live.url + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def shot(self, label: str) -> Path:
        Session.counter += 1
        self.page.wait_for_load_state("networkidle")
        path = ARTIFACTS / f"{Session.counter:02d}-{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def login(self, username: str) -> None:
        self.goto("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("form[action='/login'] button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        assert "/login" not in self.page.url, f"login failed for {username}"

    def flash(self) -> str:
        return self.page.locator(".flash").first.inner_text()


@contextmanager
def person(browser: Any, live: Live, name: str, **context_args: Any) -> Iterator[Session]:
    context = browser.new_context(
        **({"locale": "zh-CN", "viewport": {"width": 1366, "height": 900}} | context_args)
    )
    s = Session(context, live, name)
    try:
        yield s
        assert s.errors == [], f"JavaScript errors on {name}'s pages: {s.errors}"
    finally:
        context.close()


def open_case_from_center(s: Session, number: str, label: str) -> None:
    s.goto("/center")
    s.shot(f"center-{label}")
    s.page.fill("input[name=q]", number)
    s.page.select_option("select[name=state]", "")
    s.page.click("#filters button[type=submit]")
    s.page.wait_for_load_state("networkidle")
    s.page.click(f"#case-table a:has-text('{number}')")
    s.page.wait_for_load_state("networkidle")
    assert number in s.page.inner_text("h1")


def act(
    s: Session, action: str, label: str, fill: dict[str, str] | None = None, photo: Path | None = None
) -> None:
    form = s.page.locator(f"#action-{action}")
    details = s.page.locator(f"details:has(#action-{action})")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    for selector, value in (fill or {}).items():
        field = form.locator(selector)
        if field.get_attribute("type") == "radio":
            field.check()
        else:
            field.fill(value)
    if photo is not None:
        form.locator("input[type=file]").set_input_files(str(photo))
    s.shot(f"case-before-{label}")
    form.locator("button[type=submit]").click()
    s.page.wait_for_load_state("networkidle")
    assert "已完成" in s.flash(), s.flash()


def test_closed_loop_by_clicking(browser: Any, live_server: Live, photo_file: Path) -> None:
    live = live_server
    lng, lat, grid = live.quiet_point
    inspector = "inspector" + grid[6:9]

    # 市民: report with the device position, a suggested category and a photo.
    with person(
        browser, live, "citizen", geolocation={"latitude": lat, "longitude": lng}, permissions=["geolocation"]
    ) as s:
        response = s.goto("/report")
        assert response.headers["content-security-policy"] == CSP
        s.page.wait_for_function("document.getElementById('lng').value !== ''")
        assert abs(float(s.page.input_value("#lng")) - lng) < 1e-5
        s.page.wait_for_selector("#pick-info:has-text('网格')")
        s.page.fill("#description", "小区门口人行道上的井盖不见了，晚上路过很危险")
        s.page.wait_for_selector(".suggest-chip")
        s.page.locator("input[name=photos]").set_input_files(str(photo_file))
        s.page.wait_for_selector("#photo-previews img")
        s.shot("report")
        s.page.click("#report-form button[type=submit]")
        s.page.wait_for_load_state("networkidle")
        number = s.page.inner_text("#case-number").strip()
        code = s.page.inner_text("#query-code").strip()
        assert re.fullmatch(r"[CE]\d{4}\d{8}\d{4}", number), number
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}", code), code
        assert s.page.inner_text(".receipt .badge") == "待受理"
        s.shot("report-done")

    # 受理员: send it for verification.
    with person(browser, live, "operator") as s:
        s.login("operator")
        assert s.page.url.endswith("/center")
        open_case_from_center(s, number, "operator")
        s.shot("case-operator")
        act(s, "send_verify", "send-verify")
        assert s.page.inner_text("#case-state") == "核实中"

    # 监督员: verify on site with a photo (the task is in their list).
    with person(browser, live, "inspector") as s:
        s.login(inspector)
        assert s.page.url.endswith("/inspector")
        s.shot("inspector-tasks")
        s.page.click(f"#tasks a:has-text('{number}')")
        s.page.wait_for_load_state("networkidle")
        act(
            s,
            "verify",
            "verify",
            {"input[name=confirmed][value='1']": "", "textarea[name=note]": "现场核实属实，井盖缺失"},
            photo_file,
        )
        assert s.page.inner_text("#case-state") == "已核实"

    # 值班长: register.
    with person(browser, live, "shiftlead") as s:
        s.login("shiftlead")
        open_case_from_center(s, number, "shiftlead")
        s.shot("case-shiftlead")
        act(s, "register", "register")
        assert s.page.inner_text("#case-state") == "已立案"

    # 派遣员: dispatch to the suggested department.
    with person(browser, live, "dispatcher") as s:
        s.login("dispatcher")
        open_case_from_center(s, number, "dispatcher")
        dept = s.page.input_value("#action-dispatch select[name=department_code]")
        assert dept
        act(s, "dispatch", "dispatch")
        assert s.page.inner_text("#case-state") == "已派遣"
    handler = "handler_" + dept.lower()

    # 处置部门: sign from the inbox, then feed back with a photo.
    with person(browser, live, "handler") as s:
        s.login(handler)
        assert s.page.url.endswith("/dept")
        s.shot("dept-inbox")
        card = s.page.locator(".card", has_text=number)
        card.locator("button:has-text('签收')").click()
        s.page.wait_for_load_state("networkidle")
        assert s.page.inner_text("#case-state") == "处置中"
        s.shot("case-handler")
        act(s, "feedback", "feedback", {"textarea[name=note]": "已更换新井盖并恢复路面"}, photo_file)
        assert s.page.inner_text("#case-state") == "已反馈"

    # 受理员: send for checking.
    with person(browser, live, "operator") as s:
        s.login("operator")
        open_case_from_center(s, number, "operator-check")
        act(s, "send_check", "send-check")
        assert s.page.inner_text("#case-state") == "核查中"

    # 监督员: check on site — passed.
    with person(browser, live, "inspector") as s:
        s.login(inspector)
        s.page.click(f"#tasks a:has-text('{number}')")
        s.page.wait_for_load_state("networkidle")
        act(
            s,
            "check",
            "check",
            {"input[name=passed][value='1']": "", "textarea[name=note]": "井盖已恢复"},
            photo_file,
        )
        assert s.page.inner_text("#case-state") == "核查通过"

    # 值班长: close.
    with person(browser, live, "shiftlead") as s:
        s.login("shiftlead")
        open_case_from_center(s, number, "shiftlead-close")
        act(s, "close", "close")
        assert s.page.inner_text("#case-state") == "已结案"
        s.shot("case-closed")

    # 市民: follow by number + code, see the timeline, rate.
    with person(browser, live, "citizen-track") as s:
        s.goto("/track")
        s.page.fill("input[name=number]", number)
        s.page.fill("input[name=code]", code)
        s.page.click("form[action='/track'] button[type=submit]")
        s.page.wait_for_load_state("networkidle")
        assert s.page.inner_text("#case-state") == "已结案"
        steps = s.page.locator(".timeline .t-action").all_inner_texts()
        assert steps == ["结案", "反馈", "签收", "派遣", "立案", "上报"]
        s.shot("track")
        s.page.check("#rate-form input[name=rating][value='5']")
        s.page.fill("#rate-form textarea[name=note]", "处理很及时，谢谢")
        s.page.click("#rate-form button[type=submit]")
        s.page.wait_for_load_state("networkidle")
        assert s.page.inner_text("#rating") == "5 / 5 · 处理很及时，谢谢"
        assert s.page.locator("#rate-form").count() == 0
        s.shot("track-rated")
    live.shared["number"] = number


def test_english_switch(browser: Any, live_server: Live) -> None:
    with person(browser, live_server, "english") as s:
        s.goto("/report")
        s.page.click("a.lang-switch")
        s.page.wait_for_load_state("networkidle")
        assert s.page.get_attribute("html", "lang") == "en"
        assert s.page.inner_text("h1") == "Report a problem"
        s.shot("report-en")
        s.goto("/track")  # remembered in the lang cookie
        assert s.page.inner_text("h1") == "Track a report"
        s.login("dispatcher")
        assert s.page.inner_text("h1") == "Command center · case queue"
        s.shot("center-en")
        s.page.click("a.lang-switch")
        s.page.wait_for_load_state("networkidle")
        assert s.page.inner_text("h1") == "指挥中心 · 案卷队列"


def test_phone_viewport(browser: Any, live_server: Live) -> None:
    grid = live_server.quiet_point[2]
    phone = {
        "viewport": {"width": 375, "height": 812},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    }
    with person(browser, live_server, "phone", **phone) as s:
        s.goto("/report")
        assert s.page.evaluate("document.documentElement.scrollWidth") <= 375
        s.shot("report-phone")
        s.goto("/track")
        assert s.page.evaluate("document.documentElement.scrollWidth") <= 375
        s.login("inspector" + grid[6:9])
        assert s.page.evaluate("document.documentElement.scrollWidth") <= 375
        s.shot("inspector-phone")
        s.goto("/inspector/report")
        assert s.page.evaluate("document.documentElement.scrollWidth") <= 375
        s.shot("inspector-report-phone")


def test_citizen_form_without_javascript(browser: Any, live_server: Live) -> None:
    lng, lat, _ = live_server.quiet_point
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(live_server.url + "/report")
        page.fill("#lng", f"{lng + 0.0015:.6f}")
        page.fill("#lat", f"{lat:.6f}")
        page.fill("#description", "路边有一辆废弃自行车长期无人认领")
        page.select_option("#category_code", "E0107")
        page.click("#report-form button[type=submit]")
        assert page.url.endswith("/report/done")
        assert re.fullmatch(r"E0107\d{12}", page.inner_text("#case-number").strip())
        page.screenshot(path=str(ARTIFACTS / "nojs-report-done.png"), full_page=True)
        # A point outside the district is refused with the form kept.
        page.goto(live_server.url + "/report")
        page.fill("#lng", "116.40")
        page.fill("#lat", "39.90")
        page.fill("#description", "测试区外位置")
        page.click("#report-form button[type=submit]")
        assert "不在" in page.inner_text(".flash-error")
        assert page.input_value("#description") == "测试区外位置"
        page.screenshot(path=str(ARTIFACTS / "nojs-report-error.png"), full_page=True)
    finally:
        context.close()


def test_security_headers_and_login_redirect(browser: Any, live_server: Live) -> None:
    with person(browser, live_server, "anon") as s:
        for path in ("/report", "/login", "/track"):
            headers = s.goto(path).headers
            assert headers["content-security-policy"] == CSP
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "same-origin"
        s.goto("/center")
        assert "/login?next=/center" in s.page.url
        assert s.flash() == "请先登录"
        s.shot("login-required")
        # A form posted without its CSRF token is refused with a friendly page.
        refused = s.page.request.post(live_server.url + "/track", form={"number": "X", "code": "Y"})
        assert refused.status == 403
        assert "表单已失效" in refused.text()


XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">{{7*7}}'


def test_stored_xss_is_inert_on_every_page(browser: Any, live_server: Live) -> None:
    """A hostile description and reporter name, shown on the command center's queue and case page, the
    department's inbox, the leader's dashboard and the citizen's tracking page: rendered as text, never
    run."""
    import httpx

    lng, lat, _ = live_server.quiet_point
    r = httpx.post(
        live_server.url + "/api/v1/reports",
        timeout=60,
        json={
            "description": XSS,
            "lng": lng + 0.0025,
            "lat": lat,
            "category_code": "E0899",
            "reporter_name": XSS[:50],
        },
    )
    assert r.status_code == 201, r.text
    number, code, cid = r.json()["number"], r.json()["query_code"], r.json()["id"]
    token = httpx.post(
        live_server.url + "/api/v1/auth/token", data={"username": "shiftlead", "password": PASSWORD}
    ).json()["access_token"]
    httpx.post(
        f"{live_server.url}/api/v1/cases/{cid}/actions/register",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    )
    dtoken = httpx.post(
        live_server.url + "/api/v1/auth/token", data={"username": "dispatcher", "password": PASSWORD}
    ).json()["access_token"]
    d = httpx.post(
        f"{live_server.url}/api/v1/cases/{cid}/actions/dispatch",
        json={"department_code": "HW"},
        headers={"Authorization": f"Bearer {dtoken}"},
    )
    assert d.status_code == 200, d.text

    def inert(s: Session, path: str, label: str) -> None:
        dialogs: list[str] = []
        s.page.on("dialog", lambda dlg: (dialogs.append(dlg.message), dlg.dismiss()))
        s.goto(path)
        s.shot(f"xss-{label}")
        assert s.page.evaluate("window.__xss") is None, path
        assert dialogs == [], path
        assert "{{7*7}}" in s.page.content() or "49" not in s.page.inner_text("body"), path

    with person(browser, live_server, "xss-operator") as s:
        s.login("operator")
        inert(s, "/center", "center")
        inert(s, f"/cases/{cid}", "case")
        assert "<script>window.__xss=1</script>" in s.page.inner_text("body")  # shown as text
    with person(browser, live_server, "xss-handler") as s:
        s.login("handler_hw")
        inert(s, "/dept", "dept")
    with person(browser, live_server, "xss-leader") as s:
        s.login("leader")
        inert(s, "/leader", "leader")
    with person(browser, live_server, "xss-citizen") as s:
        s.goto("/track")
        s.page.fill("input[name=number]", number)
        s.page.fill("input[name=code]", code)
        s.page.locator("input[name=code]").press("Enter")
        s.page.wait_for_load_state("networkidle")
        assert s.page.evaluate("window.__xss") is None
        assert "<script>window.__xss=1</script>" in s.page.inner_text("body")
        s.shot("xss-track")
