"""The operator's queue in Chromium: search by a few words, the 待受理 count-down that turns red when late,
sorting by time left, the department column; no horizontal scroll at 1440 px, usable at 375 px."""

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
OVERFLOW = """() => {
  const doc = document.scrollingElement.scrollWidth;
  const wrap = document.querySelector('#case-table').closest('.table-wrap');
  return {doc, wrap: wrap.scrollWidth - wrap.clientWidth};
}"""


@contextmanager
def _page(browser: Any, live: Any, username: str, viewport: dict[str, int]) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.clock.install()
        page.goto(live.url + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_load_state("networkidle")
        yield page
        assert errors == [], errors
    finally:
        context.close()


def _report(live: Any, text: str, address: str) -> dict[str, Any]:
    lng, lat, _ = live.quiet_point
    r = httpx.post(
        live.url + "/api/v1/reports",
        json={
            "description": text,
            "lng": lng + 0.0025,
            "lat": lat,
            "category_code": "E0802",
            "address": address,
        },
        timeout=60,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_queue_search_timer_sort_and_layout(browser: Any, live_server: Any) -> None:
    case = _report(live_server, "快递三轮车长时间停在消防通道口", "星湖街328号南门")
    with _page(browser, live_server, "shiftlead", DESK) as page:
        page.goto(live_server.url + "/center?tab=all")
        sizes = page.evaluate(OVERFLOW)
        assert sizes["doc"] <= 1440 and sizes["wrap"] <= 0, sizes  # the page and the table both fit
        assert page.locator("#case-table th", has_text="部门").count() == 1
        page.screenshot(path=str(ARTIFACTS / "queue-1440.png"), full_page=True)

        page.fill("#q", "快递三轮车长时间")
        page.press("#q", "Enter")
        page.wait_for_load_state("networkidle")
        rows = page.locator("#case-table tbody tr[data-case-id]")
        assert rows.count() == 1 and rows.first.get_attribute("data-case-id") == str(case["id"])
        timer = rows.first.locator("td.col-due .light")
        assert timer.inner_text().startswith("剩余 ") and "light-none" in (timer.get_attribute("class") or "")
        page.screenshot(path=str(ARTIFACTS / "queue-search-1440.png"), full_page=True)

        page.clock.run_for(31 * 60 * 1000)  # past the 30 minutes to accept: counts on and turns red
        # The list may have been refreshed meanwhile (live.js): it is counted again at once.
        page.wait_for_load_state("networkidle")
        text, cls = timer.evaluate("el => [el.textContent, el.className]")
        assert text.startswith("超时 ") and "light-red" in cls, (text, cls)

        page.fill("#q", "星湖街328")
        page.press("#q", "Enter")
        page.wait_for_load_state("networkidle")
        assert rows.count() == 1
        page.get_by_role("link", name="剩余时限").click()
        page.wait_for_load_state("networkidle")
        assert "sort=due" in page.url and "q=" in page.url
        assert page.locator("th[aria-sort='ascending']", has_text="剩余时限").count() == 1

        page.set_viewport_size(PHONE)
        page.goto(live_server.url + "/center?tab=all")
        sizes = page.evaluate(OVERFLOW)
        assert sizes["doc"] <= 375, sizes  # only the table scrolls sideways, inside its frame
        assert page.locator("#q").is_visible() and page.locator("#case-table").is_visible()
        page.screenshot(path=str(ARTIFACTS / "queue-375.png"), full_page=True)
