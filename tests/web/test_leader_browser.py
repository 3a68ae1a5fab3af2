"""The leader page (领导驾驶舱) in Chromium on the live demo server, at 1440 and 375 px: each count card that
links to a list shows the number of rows that list has (followed by clicking, as a leader would), 督办跟踪
holds leaders' 督办 only while the sweeper's 80 % warning reads 预警, the monthly report opens from the page
and downloads as .xlsx, and nothing scrolls sideways on a phone.

Screenshots: ``test-artifacts/web/leader-1440.png`` and ``leader-375.png`` (beside the other browser tests'
screenshots; the copies in ``docs/screenshots/`` are taken from there). The same numbers are checked without
a browser, on a swept year of history, in test_leader_numbers.py.
"""

from __future__ import annotations

import io
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
DESK = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 780}
QUEUE_PAGE = 20  # rows on one page of /center (views_center.PAGE_SIZE)
# The count cards the page shows (its rates, 按期处置率 and 满意率, are not counts).
COUNT_CARDS = ("上报数", "立案数", "结案数", "在办案卷", "当前超期", "督办中")
CARDS = """() => [...document.querySelectorAll('.kpis .kpi')].map(el => ({
  label: el.querySelector('.kpi-label').textContent.trim(),
  num: el.querySelector('.kpi-num').textContent.trim(),
  href: el.tagName === 'A' ? el.getAttribute('href') : null,
}))"""


@contextmanager
def _leader(browser: Any, live: Any, viewport: dict[str, int]) -> Iterator[Any]:
    """The leader, signed in, on /leader with its charts and map drawn; no JavaScript error on the way."""
    context = browser.new_context(locale="zh-CN", viewport=viewport, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: _console(errors, m))
    try:
        page.goto(live.url + "/login")
        page.fill("input[name=username]", "leader")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "/login" not in page.url
        _dashboard(page, live)
        yield page
        assert errors == [], errors
    finally:
        context.close()


def _console(errors: list[str], message: Any) -> None:
    # The monthly report is a page of its own without an icon link: Chromium asks for /favicon.ico.
    if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
        errors.append(f"console: {message.text} {message.location.get('url')}")


def _dashboard(page: Any, live: Any) -> None:
    page.goto(live.url + "/leader")
    page.wait_for_selector("html[data-dashboard-ready='1']", timeout=15000)


def _cards(page: Any) -> dict[str, dict[str, Any]]:
    cards = {c["label"]: c for c in page.evaluate(CARDS)}
    assert set(COUNT_CARDS) <= set(cards), cards
    return cards


def _listed(page: Any) -> int:
    """How many cases the list the browser is on holds: its total, checked against the rows it shows."""
    if page.url.split("?")[0].endswith("/leader/supervised"):
        n = int(page.locator("[data-count=supervised]").inner_text())
        assert page.locator("#supervised tr[data-case]").count() == n
        return n
    assert "/center" in page.url, page.url
    total = re.fullmatch(r"共 (\d+) 件", page.locator("#queue-total").inner_text().strip())
    assert total, page.locator("#queue-total").inner_text()
    n = int(total.group(1))
    assert page.locator("#case-table tbody tr[data-case-id]").count() == min(n, QUEUE_PAGE)
    return n


def _follow(page: Any, live: Any, label: str, number: int) -> None:
    """Click the count card ``label``: the list it opens holds ``number`` cases and fits the screen's width;
    then back to the dashboard."""
    page.locator(".kpis a.kpi", has_text=label).click()
    page.wait_for_load_state("networkidle")
    assert _listed(page) == number, label
    assert _overflow(page) == 0, label
    _dashboard(page, live)


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"))


def _case_in_live_db(*, days_ago: float, description: str, offset: int) -> tuple[int, str]:
    """A case reported by an inspector, registered and dispatched ``days_ago`` (the live server's database);
    the sweeper gives it 黄灯预警 at 80 % of its limit, and a leader 督办 an overdue case."""
    from datetime import timedelta

    from sqlalchemy import select

    from civicgrid.cases.intake import ReportIn, report
    from civicgrid.cases.transition import transition
    from civicgrid.db import unit_of_work
    from civicgrid.models import Area, User, utcnow
    from civicgrid.org.auth import principal_of
    from civicgrid.org.roles import SYSTEM

    with unit_of_work() as s:
        q = select(Area).where(Area.level == "grid").order_by(Area.code).offset(offset).limit(1)
        area = s.scalars(q).one()
        users = {u.username: principal_of(u) for u in s.scalars(select(User))}
        t = utcnow() - timedelta(days=days_ago)
        body = ReportIn(
            description=description,
            lng=area.centroid_lng,
            lat=area.centroid_lat,
            category_code="C0101",
            source="inspector",
        )
        case = report(s, body, users["inspector001"], now=t, rapid=False).case
        transition(s, case, "register", users["shiftlead"], {}, now=t + timedelta(minutes=3))
        transition(s, case, "dispatch", users["dispatcher"], {}, now=t + timedelta(minutes=6))
        assert case.due_at is not None
        if case.due_at > utcnow():  # as jobs.sweeper does at 80 % of the limit
            note = {"level": "warning", "note": "处置时限已用去八成，请抓紧处置"}
            transition(s, case, "supervise", SYSTEM, note)
        else:
            transition(s, case, "supervise", users["leader"], {"note": "超期未处置，请加快办理"})
        s.flush()
        return case.id, case.number


@pytest.fixture(scope="module")
def supervised_case(live_server: Any) -> tuple[int, str]:
    """An overdue case under a leader's 督办, so that 当前超期 and 督办中 open lists with rows in them."""
    return _case_in_live_db(days_ago=25, description="井盖破损，车辆通行时异响", offset=44)


def test_leader_page_at_1440_numbers_wording_and_report(
    browser: Any, live_server: Any, supervised_case: tuple[int, str]
) -> None:
    with _leader(browser, live_server, DESK) as page:
        assert _overflow(page) == 0
        page.screenshot(path=str(ARTIFACTS / "leader-1440.png"), full_page=True)
        cards = _cards(page)

        # Every linked count card opens a list of exactly its number of cases (clicked, as a leader does).
        linked = [label for label in COUNT_CARDS if cards[label]["href"]]
        assert {"当前超期", "督办中"} <= set(linked)
        assert int(cards["当前超期"]["num"]) >= 1 and int(cards["督办中"]["num"]) >= 1  # lists with rows
        for label in linked:
            _follow(page, live_server, label, int(cards[label]["num"]))

        # The panels agree with the cards: the overdue list and 督办跟踪 show up to 15 and link to the rest.
        overdue, supervised = int(cards["当前超期"]["num"]), int(cards["督办中"]["num"])
        assert page.locator("#overdue tr[data-case]").count() == min(overdue, 15)
        assert page.locator("#supervised tr[data-case]").count() == min(supervised, 15)
        assert page.locator("#overdue .badge-urgent").inner_text() == str(overdue)
        assert page.locator("#supervised .badge-warn").first.inner_text() == str(supervised)

        # 督办 is a leader's; the sweeper's 80 % (黄灯) and overdue (红灯) warnings are 预警, not in 督办跟踪.
        assert page.locator("#supervised h2").inner_text() == "督办跟踪"
        case_id, case_number = _case_in_live_db(
            days_ago=0.145, description="上水井盖松动，踩上去有响声", offset=55
        )
        _dashboard(page, live_server)
        assert _cards(page)["督办中"]["num"] == str(supervised)  # a 预警 is not counted as 督办
        page.goto(live_server.url + "/leader/supervised")
        assert "系统自动预警不计入" in page.locator(".cockpit-head").inner_text()
        rows = "#supervised tr[data-case]"
        listed = set(page.eval_on_selector_all(rows, "rs => rs.map(r => r.dataset.case)"))
        assert str(case_id) not in listed and len(listed) == supervised
        page.goto(f"{live_server.url}/cases/{case_id}")
        actions = [t.strip() for t in page.locator(".timeline .t-action").all_inner_texts()]
        assert "黄灯预警" in actions, (case_number, actions)
        assert "督办" not in actions, (case_number, actions)

        # The monthly report from the leader page, and its workbook.
        _dashboard(page, live_server)
        page.click("a[data-report]")
        page.wait_for_load_state("networkidle")
        assert page.url.startswith(live_server.url + "/leader/report")
        assert page.locator("h1").inner_text().endswith("月度考核通报")
        with page.expect_download() as download_info:
            page.locator("a", has_text="导出 Excel").first.click()
        download = download_info.value
        assert download.suggested_filename.endswith(".xlsx")
        body = Path(download.path()).read_bytes()
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(body), read_only=True)
        assert len(book.sheetnames) >= 2, book.sheetnames


def test_leader_page_at_375_has_no_sideways_scroll(
    browser: Any, live_server: Any, supervised_case: tuple[int, str]
) -> None:
    with _leader(browser, live_server, PHONE) as page:
        assert _overflow(page) == 0
        cards = _cards(page)
        for label in COUNT_CARDS:
            card = page.locator(".kpis .kpi", has_text=label).first
            box = card.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], label
        _follow(page, live_server, "督办中", int(cards["督办中"]["num"]))
        page.screenshot(path=str(ARTIFACTS / "leader-375.png"), full_page=True)
        report = page.locator("a[data-report]")
        assert report.is_visible() and report.get_attribute("href") == "/leader/report"


def test_every_count_card_is_a_link(browser: Any, live_server: Any) -> None:
    with _leader(browser, live_server, DESK) as page:
        cards = _cards(page)
        assert [label for label in COUNT_CARDS if not cards[label]["href"]] == []
        for label in ("上报数", "立案数", "结案数", "在办案卷"):
            _follow(page, live_server, label, int(cards[label]["num"]))
