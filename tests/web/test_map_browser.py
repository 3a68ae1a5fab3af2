"""The base map, the queue's map of all matching cases, the public map and the wall screen in Chromium.

No tile service is configured in the live server: every map must draw the district's roads and names from
the database without a single request leaving 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path("test-artifacts/web")
PASSWORD = "civicgrid2026"


def _page(browser: Any, live: Any, width: int, height: int, outside: list[str]) -> Any:
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = ctx.new_page()
    page.on("request", lambda r: outside.append(r.url) if urlsplit(r.url).hostname != "127.0.0.1" else None)
    return page


def _login(page: Any, live: Any, username: str) -> None:
    page.goto(f"{live.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url


def test_queue_map_draws_roads_names_and_all_matching_cases_offline(live_server: Any, browser: Any) -> None:
    outside: list[str] = []
    page = _page(browser, live_server, 1440, 900, outside)
    _login(page, live_server, "operator")
    page.goto(f"{live_server.url}/center?tab=all")
    page.wait_for_selector("#queue-map.cm-basemap-ready")
    page.wait_for_function("document.getElementById('queue-map-count').textContent.length > 0")
    roads = page.locator("#queue-map path.cm-road").count()
    assert roads >= 40
    streets = page.locator("#queue-map .cm-street span").all_inner_texts()
    assert len(streets) == 8 and all(streets)
    assert page.locator("#queue-map .cm-landmark span").count() == 20
    total = page.eval_on_selector("#queue-map", "el => Number(el.getAttribute('data-case-count'))")
    assert total > 20  # every matching case of the demo history, not only the 20 of the table's page
    assert str(total) in page.locator("#queue-map-count").inner_text()
    assert page.locator("#queue-map .marker-cluster").count() > 0
    page.locator("#queue-map").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-queue-all-cases-1440.png"), full_page=True)
    # Zoomed in, road and community names show.
    page.evaluate("document.getElementById('queue-map').civicMap.map.setZoom(16)")
    page.wait_for_timeout(300)
    assert page.locator("#queue-map .cm-road-name span:visible").count() > 0
    page.screenshot(path=str(ARTIFACTS / "map-queue-zoomed-1440.png"))
    assert outside == [], outside
    page.context.close()


def test_public_map_at_375_px_is_masked_and_offline(live_server: Any, browser: Any) -> None:
    outside: list[str] = []
    page = _page(browser, live_server, 375, 812, outside)
    page.goto(f"{live_server.url}/map")
    page.wait_for_selector("#public-map.cm-basemap-ready")
    page.wait_for_selector("#public-map[data-case-count]")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    assert page.locator("#public-map path.cm-road").count() >= 40
    assert "问题地图" in page.locator("h1").inner_text()
    page.screenshot(path=str(ARTIFACTS / "map-public-375.png"), full_page=True)
    assert outside == [], outside
    page.context.close()


def test_wall_screen_at_1920_by_1080(live_server: Any, browser: Any) -> None:
    outside: list[str] = []
    page = _page(browser, live_server, 1920, 1080, outside)
    _login(page, live_server, "leader")
    page.goto(f"{live_server.url}/wall")
    page.wait_for_selector("#wall-flow .flow-step")
    page.wait_for_selector("#wall-map.cm-basemap-ready")
    page.wait_for_selector("#wall-map[data-case-count]")
    steps = page.locator("#wall-flow .flow-label").all_inner_texts()
    assert steps == ["今日受理", "今日立案", "今日派遣", "今日处置", "今日结案"]
    assert page.locator("#panel-overdue.active h2").inner_text().startswith("超期案卷")
    size = page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]")
    assert size[0] <= 1920 and size[1] <= 1080  # one screen, no scrolling
    page.screenshot(path=str(ARTIFACTS / "wall-1920.png"))
    page.click("[data-show-panel=rankings]")
    page.wait_for_selector("#panel-rankings.active .wall-rank li")
    assert not page.locator("#panel-overdue").is_visible()
    page.screenshot(path=str(ARTIFACTS / "wall-rankings-1920.png"))
    assert outside == [], outside
    page.context.close()
