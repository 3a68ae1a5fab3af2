"""In Chromium on the live demo server: the case file's print layout (print media, A4, no navigation, a PDF)
and the monthly report opened from the leader page at 1440 px, whose unit names stay on one line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
PASSWORD = "civicgrid2026"


def _login(page: Any, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, username


def test_case_file_prints_on_a4_without_navigation(browser: Any, live_server: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        _login(page, live_server.url, "shiftlead")
        page.goto(live_server.url + "/center?tab=all")
        href = page.locator("a[href^='/cases/']").first.get_attribute("href")
        case_id = re.match(r"/cases/(\d+)", href or "")
        assert case_id, href
        page.goto(f"{live_server.url}/cases/{case_id.group(1)}")
        link = page.get_by_role("link", name="打印案卷")
        assert link.get_attribute("href") == f"/cases/{case_id.group(1)}/print/file"
        page.goto(live_server.url + link.get_attribute("href"))
        page.wait_for_load_state("networkidle")
        assert page.locator(".print-toolbar").is_visible()
        number = page.locator("[data-field=number]").inner_text()
        assert re.fullmatch(r"[CE]\d{16}", number)
        assert page.locator("tr.event").count() >= 1

        page.emulate_media(media="print")
        assert not page.locator(".print-toolbar").is_visible()  # no navigation on paper
        assert page.locator("nav.topbar, header.site").count() == 0
        page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
        sheet_width = page.evaluate("document.querySelector('.sheet').getBoundingClientRect().width")
        assert sheet_width <= 794
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 794
        page.screenshot(path=str(ARTIFACTS / "print-case-file-a4.png"), full_page=True)
        pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 5000
        (ARTIFACTS / "print-case-file.pdf").write_bytes(pdf)
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        context.close()


def test_monthly_report_from_the_leader_page_keeps_names_on_one_line(browser: Any, live_server: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        _login(page, live_server.url, "leader")
        page.goto(live_server.url + "/leader")
        page.click("a[data-report]")
        page.wait_for_load_state("networkidle")
        assert "/leader/report" in page.url
        assert page.locator("h1").inner_text().endswith("城市网格化管理月度考核通报")
        assert (
            page.locator("a", has_text="导出 Excel")
            .get_attribute("href", timeout=2000)
            .startswith("/leader/report.xlsx?period=")
        )
        # The stylesheet is applied (served from our origin, allowed by the page's CSP).
        assert page.evaluate("getComputedStyle(document.querySelector('td.name')).whiteSpace") == "nowrap"
        heights = page.evaluate(
            """() => [...document.querySelectorAll('td.name')].map(td => {
                 const style = getComputedStyle(td);
                 const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
                 const pad = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
                 return [td.textContent, td.clientHeight - pad, line];
               })"""
        )
        assert heights, "no unit name on the report"
        wrapped = [(name, h, line) for name, h, line in heights if h > line * 1.5]
        assert not wrapped, wrapped  # every name on one line
        # Departments show their indicators and never an inspector's.
        dept = page.locator("section[data-unit=department] table.rank-table tr").first.inner_text()
        assert "按期处置率" in dept and "有效上报率" not in dept and "案件量" in dept
        page.screenshot(path=str(ARTIFACTS / "monthly-report-1440.png"), full_page=True)
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        context.close()
