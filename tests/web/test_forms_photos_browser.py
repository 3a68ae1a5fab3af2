"""Issue 13 in Chromium, at 1440 and 375 px: an extension request refused for its value keeps the typed reason
and says in Chinese what to fix (limits are picked: number + 天/工作日/小时); the 核查 screen shows the 处置前
and 处置后 photos side by side."""

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
SIZES = {"1440": {"width": 1440, "height": 900}, "375": {"width": 375, "height": 780}}
REASON = "需协调环卫车辆，材料待采购"


def _token(url: str, username: str) -> dict[str, str]:
    r = httpx.post(url + "/api/v1/auth/token", data={"username": username, "password": PASSWORD}, timeout=60)
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _upload(url: str, photo: Path, who: dict[str, str] | None = None) -> dict[str, Any]:
    files = {"file": ("site.jpg", photo.read_bytes(), "image/jpeg")}
    r = httpx.post(url + "/api/v1/attachments", files=files, headers=who or {}, timeout=60)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _act(url: str, case_id: int, action: str, who: dict[str, str], **body: Any) -> None:
    r = httpx.post(f"{url}/api/v1/cases/{case_id}/actions/{action}", json=body, headers=who, timeout=60)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def case_in_processing(live_server: Any, photo_file: Path) -> tuple[int, str]:
    """A citizen's report with a photo, dispatched to 环卫 and signed; and the inspector of its street."""
    url = live_server.url
    lng, lat, grid = live_server.quiet_point
    up = _upload(url, photo_file)
    r = httpx.post(
        url + "/api/v1/reports",
        json={
            "description": "人行道上垃圾堆积，影响通行",
            "lng": lng + 0.0004,
            "lat": lat,
            "category_code": "E0102",
            "attachment_ids": [up["id"]],
            "upload_tokens": [up["upload_token"]],
        },
        timeout=60,
    )
    assert r.status_code == 201, r.text
    case_id = int(r.json()["id"])
    _act(url, case_id, "register", _token(url, "shiftlead"))
    _act(url, case_id, "dispatch", _token(url, "dispatcher"), department_code="HW")
    _act(url, case_id, "sign", _token(url, "handler_hw"))
    return case_id, "inspector" + grid[6:9]


@contextmanager
def _page(browser: Any, url: str, username: str, size: str) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport=SIZES[size])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_load_state("load")
        yield page
        assert errors == [], errors
    finally:
        context.close()


@pytest.mark.parametrize("size", ["1440", "375"])
def test_refused_extension_keeps_the_reason_in_chinese(
    browser: Any, live_server: Any, case_in_processing: tuple[int, str], size: str
) -> None:
    case_id, _ = case_in_processing
    with _page(browser, live_server.url, "handler_hw", size) as page:
        page.goto(f"{live_server.url}/cases/{case_id}")
        form = page.locator("#action-extend")
        if not form.is_visible():
            page.locator("details:has(#action-extend) > summary").click()
        assert form.locator("select[name=limit_unit] option").all_inner_texts() == ["工作日", "天", "小时"]
        form.locator("input[name=limit_amount]").fill("0")
        form.locator("select[name=limit_unit]").select_option("d")
        form.locator("textarea[name=note]").fill(REASON)
        form.evaluate("f => { f.noValidate = true; }")  # as an older browser would: the server must answer
        form.locator("button[type=submit]").click()
        page.wait_for_load_state("load")
        error = page.locator("#action-extend-error")
        assert error.is_visible()
        assert "「申请延期」未完成" in error.inner_text()
        assert page.locator("#err-extend-limit_amount").inner_text() == "延长时限请填写 1–99 之间的整数"
        assert page.locator("#action-extend textarea[name=note]").input_value() == REASON
        assert page.locator("#action-extend select[name=limit_unit]").input_value() == "d"
        assert "Value error" not in page.content()
        page.locator("#action-extend").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"extension_refused_{size}.png"), full_page=size == "375")


@pytest.fixture(scope="module")
def case_in_checking(
    live_server: Any, photo_file: Path, case_in_processing: tuple[int, str]
) -> tuple[int, str]:
    url = live_server.url
    case_id, inspector = case_in_processing
    handler = _token(url, "handler_hw")
    after = _upload(url, photo_file, handler)
    _act(url, case_id, "feedback", handler, note="已清运完毕", attachment_ids=[after["id"]], public=True)
    _act(url, case_id, "send_check", _token(url, "operator"))
    return case_id, inspector


@pytest.mark.parametrize("size", ["1440", "375"])
def test_check_screen_shows_before_and_after(
    browser: Any, live_server: Any, case_in_checking: tuple[int, str], size: str
) -> None:
    case_id, inspector = case_in_checking
    with _page(browser, live_server.url, inspector, size) as page:
        page.goto(f"{live_server.url}/cases/{case_id}?back=/inspector")
        panel = page.locator("#before-after")
        panel.scroll_into_view_if_needed()
        assert panel.is_visible()
        before, after = panel.locator("[data-side=before]"), panel.locator("[data-side=after]")
        assert before.locator("h3").inner_text().startswith("处置前")
        assert after.locator("h3").inner_text().startswith("处置后")
        assert before.locator("figcaption").all_inner_texts() == ["上报"]
        assert after.locator("figcaption").all_inner_texts() == ["处置"]
        for img in panel.locator("img").all():  # both thumbnails really load
            assert img.evaluate("i => i.complete && i.naturalWidth > 0")
        b, a = before.bounding_box(), after.bounding_box()
        assert b and a and abs(b["y"] - a["y"]) < 2 and b["x"] < a["x"]  # side by side, also on a phone
        assert page.locator("#action-check").is_visible()
        page.screenshot(path=str(ARTIFACTS / f"before_after_check_{size}.png"), full_page=size == "375")
