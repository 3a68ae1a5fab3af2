"""Live work in Chromium: batch sign in the department inbox with a result per case; the command center's
queue refreshing itself when a new urgent case arrives (with the optional beep); keyboard shortcuts ("/"
focuses the search, "?" lists the shortcuts, j chooses a row, never while typing). At 1440 and 375 px.

The queue polls every 15 s; the page's clock is Playwright's, fast-forwarded, so the test waits for the
refresh itself rather than for the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
ARTIFACTS.mkdir(parents=True, exist_ok=True)
PASSWORD = "civicgrid2026"
DESK = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 780}


def _token(url: str, username: str) -> dict[str, str]:
    r = httpx.post(url + "/api/v1/auth/token", data={"username": username, "password": PASSWORD}, timeout=60)
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _report(live: Any, category: str, dx: float, text: str) -> int:
    lng, lat, _ = live.quiet_point
    # 330 m north of the quiet point: other browser tests report at the point itself, and a report of the
    # same category within the merge radius would be merged into theirs.
    r = httpx.post(
        live.url + "/api/v1/reports",
        json={"description": text, "lng": lng + dx, "lat": lat + 0.003, "category_code": category},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _act(live: Any, case_id: int, action: str, who: dict[str, str], **body: Any) -> None:
    r = httpx.post(f"{live.url}/api/v1/cases/{case_id}/actions/{action}", json=body, headers=who, timeout=60)
    assert r.status_code == 200, r.text


@contextmanager
def _page(browser: Any, live: Any, username: str, viewport: dict[str, int]) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live.url + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_load_state("networkidle")
        yield page
        assert errors == [], errors
    finally:
        context.close()


def test_batch_sign_in_the_dept_inbox_shows_a_result_per_case(browser: Any, live_server: Live) -> None:
    lead, disp = _token(live_server.url, "shiftlead"), _token(live_server.url, "dispatcher")
    ids = [
        _report(live_server, code, dx, text)
        for code, dx, text in (
            ("C0305", 0.0010, "路口垃圾箱破损，垃圾散落一地"),
            ("C0301", 0.0015, "公共厕所门锁坏了无法使用"),
            ("C0402", 0.0020, "行道树枝条折断挂在半空"),
        )
    ]
    for cid in ids:
        _act(live_server, cid, "register", lead)
        _act(live_server, cid, "dispatch", disp, department_code="HW")
    _act(live_server, ids[1], "sign", _token(live_server.url, "handler_hw"))  # signed already: refused

    with _page(browser, live_server, "handler_hw", DESK) as page:
        page.goto(live_server.url + "/dept?tab=all")
        bar = page.locator("#batch-form")
        assert bar.locator("[data-batch-submit]").is_disabled()
        for cid in ids:
            page.check(f"[data-batch-item][value='{cid}']")
        assert bar.locator("[data-batch-count]").inner_text() == "已选 3 件"
        page.screenshot(path=str(ARTIFACTS / "live-dept-batch-1440.png"), full_page=True)
        bar.get_by_role("button", name="批量签收").click()
        page.wait_for_load_state("networkidle")
        assert page.locator("#batch-summary").inner_text() == "「签收」成功 2 件，未完成 1 件"
        rows = page.locator("#batch-results tbody tr")
        shown = {rows.nth(i).get_attribute("data-case-id"): rows.nth(i).inner_text() for i in range(3)}
        assert set(shown) == {str(i) for i in ids}  # in the order they were listed (newest first)
        assert "成功" in shown[str(ids[0])] and "成功" in shown[str(ids[2])]
        assert "案卷当前状态为「处置中」，不能执行「签收」" in shown[str(ids[1])]
        page.screenshot(path=str(ARTIFACTS / "live-batch-result-1440.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.goto(live_server.url + "/dept?tab=all")
        assert page.locator("#batch-form").is_visible()
        page.screenshot(path=str(ARTIFACTS / "live-dept-inbox-375.png"), full_page=True)


def test_queue_refreshes_itself_beeps_for_urgent_cases_and_obeys_shortcuts(
    browser: Any, live_server: Live
) -> None:
    # The 值班长: his 待办 holds new reports, and he may batch-close (so the list has check boxes).
    with _page(browser, live_server, "shiftlead", DESK) as page:
        page.clock.install()
        page.goto(live_server.url + "/center?tab=todo")
        page.wait_for_load_state("networkidle")
        # Shortcuts: "/" focuses the search; "?" lists the shortcuts; letters typed in a field stay there.
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.name") == "q"
        page.keyboard.type("jk?")
        assert page.evaluate("document.activeElement.value") == "jk?"
        assert page.locator(".shortcut-help").count() == 0
        page.evaluate("document.activeElement.value = ''; document.activeElement.blur()")
        page.keyboard.press("?")
        help_box = page.get_by_role("dialog", name="键盘快捷键")
        assert help_box.is_visible() and "派核实" in help_box.inner_text()
        page.screenshot(path=str(ARTIFACTS / "live-shortcuts-1440.png"))
        page.keyboard.press("Escape")
        assert not help_box.is_visible()

        page.check("[data-sound-toggle]")
        assert page.evaluate("localStorage.getItem('civicgrid-urgent-sound')") == "1"
        first_beep = page.evaluate("document.documentElement.getAttribute('data-last-beep')")
        assert first_beep  # switching it on plays the beep once

        new_id = _report(live_server, "C0101", 0.0030, "人行道上的自来水井盖不见了，很危险")
        row = page.locator(f"#queue-list tr[data-case-id='{new_id}']")
        assert row.count() == 0
        page.clock.run_for(16_000)  # one polling period
        row.wait_for(timeout=20_000)
        assert "row-new" in (row.get_attribute("class") or "")
        assert "新到紧急案卷 1 件" in page.locator("[data-live-status]").inner_text()
        assert page.evaluate("document.documentElement.getAttribute('data-last-beep')") != first_beep
        page.keyboard.press("j")  # the first row is chosen with the keyboard
        assert page.locator("#case-table tr.row-chosen").count() == 1
        page.screenshot(path=str(ARTIFACTS / "live-queue-refreshed-1440.png"), full_page=True)

        # While a box is checked the list is left alone.
        page.check(f"[data-batch-item][value='{new_id}']")
        page.evaluate("document.activeElement.blur()")
        page.evaluate("document.querySelector('#queue-list').setAttribute('data-probe', '1')")
        page.evaluate("document.querySelector('#case-table').setAttribute('data-probe', '1')")
        page.clock.run_for(16_000)
        page.wait_for_timeout(500)
        assert page.locator("#case-table[data-probe='1']").count() == 1
        page.set_viewport_size(PHONE)
        page.goto(live_server.url + "/center?tab=todo")
        page.screenshot(path=str(ARTIFACTS / "live-queue-375.png"), full_page=True)


Live = Any
