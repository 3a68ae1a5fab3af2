"""Every number on /leader agrees with the list it links to, and the cockpit, the analytics dashboard and the
evaluation give the same 应处置 / 按期处置 on the same demo district (one definition: cases.disposal)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import principal
from civicgrid.models import User, utcnow
from civicgrid.org.tokens import issue_token


@pytest.fixture
def demo(session: Session, plan: Any) -> Any:
    """A year of demo history ending now, swept (黄灯/红灯预警), with a few leader 督办."""
    from civicgrid.cases.states import OPEN_REGISTERED
    from civicgrid.cases.transition import transition
    from civicgrid.demo.history import generate_history
    from civicgrid.jobs.sweeper import sweep
    from civicgrid.models import Case

    now = utcnow()
    generate_history(session, plan, 200, seed=5, now=now, photos=0)
    session.flush()
    sweep(session, now)
    actor = principal(session, "leader")
    open_cases = session.scalars(
        select(Case).where(Case.state.in_([s.value for s in OPEN_REGISTERED])).order_by(Case.id).limit(3)
    ).all()
    for c in open_cases:
        transition(session, c, "supervise", actor, {"note": "请加快办理"})
    session.flush()
    return now


def _leader(client: Any, session: Session) -> Any:
    uid = session.scalar(select(User.id).where(User.username == "leader"))
    client.cookies.clear()
    client.cookies.set("civicgrid_token", issue_token(uid)[0])
    return client


def _kpi(html: str, name: str) -> int:
    m = re.search(rf'data-kpi="{name}">(\d+)<', html)
    assert m, name
    return int(m.group(1))


def test_tiles_equal_their_lists(client: Any, session: Session, demo: Any) -> None:
    from civicgrid.cases.repository import CaseFilter, list_cases

    c = _leader(client, session)
    page = c.get("/leader?days=30")
    assert page.status_code == 200
    html = page.text
    overdue = _kpi(html, "overdue")
    supervised = _kpi(html, "supervised")
    # 当前超期 → /center?overdue=1: the case list's overdue filter counts the same cases.
    assert 'href="/center?overdue=1"' in html
    leader = principal(session, "leader")
    assert list_cases(session, leader, CaseFilter(overdue=True), page=1, page_size=1)[1] == overdue
    listed = c.get("/center?overdue=1")
    assert listed.status_code == 200
    # 督办中 → /leader/supervised: the same cases, leaders' 督办 only (the sweeper's 预警 are not 督办).
    full = c.get("/leader/supervised").text
    rows = re.search(r'data-count="supervised">(\d+)<', full)
    assert rows and int(rows.group(1)) == supervised == full.count("<tr data-case=")
    section = html.split('id="supervised"', 1)[1]
    assert section.count('<a class="mono"') == min(supervised, 15)
    # The overdue panel's badge and list are the tile's.
    panel = html.split('id="overdue"', 1)[1].split("</section>", 1)[0]
    assert panel.count("<tr data-case=") == min(overdue, 15)


def test_cockpit_analytics_and_evaluation_agree(session: Session, demo: Any) -> None:
    from civicgrid.analytics import cockpit, duck, queries
    from civicgrid.analytics.warehouse import live_facts
    from civicgrid.evaluation.period import Period
    from civicgrid.evaluation.service import evaluate, open_facts
    from civicgrid.settings import get_settings

    now = demo
    for days, period in ((30, "month"), (365, "year")):
        since = cockpit.period_start(now, days)
        k = cockpit.kpis(session, since, now)
        facts = live_facts(session)
        dash = queries.dashboard(duck.connect(facts=facts), period=period, now=now)
        tz = get_settings().timezone
        p = Period("range", since.astimezone(_tz(tz)).date(), now.astimezone(_tz(tz)).date(), tz)
        con, rel = open_facts(facts, None)
        ev = evaluate(con, rel, p, "district", as_of=now)
        (row,) = ev.rows
        assert k.due > 0
        assert (k.due, k.on_time) == (dash["totals"]["due"], dash["totals"]["disposed_on_time"])
        assert (k.due, k.on_time) == (row.counts["due"], row.counts["disposed_on_time"])
        # Departments: the ranking's counts are the analytics dashboard's per department.
        by_code = {d["code"]: d for d in dash["departments"]}
        for d in cockpit.departments(session, since, now):
            if d.due:
                assert (d.due, d.on_time) == (by_code[d.code]["due"], by_code[d.code]["disposed_on_time"])


def _tz(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


@pytest.mark.parametrize("days", [7, 30, 365])
def test_every_count_card_opens_a_list_of_as_many_cases(
    client: Any, session: Session, demo: Any, days: int
) -> None:
    """上报数, 立案数, 结案数 and 在办案卷 link to the case list filtered the way the card counts; the
    list's total (共 N 件) is the card's number."""
    import html as htmlib

    c = _leader(client, session)
    page = c.get(f"/leader?days={days}").text
    for kpi in ("reported", "registered", "closed", "in-work"):
        card = re.search(
            rf'<a class="kpi" href="([^"]+)"><span class="kpi-label">[^<]+</span>'
            rf'<span class="kpi-num" data-kpi="{kpi}">(\d+)<',
            page,
        )
        assert card, kpi
        href, number = htmlib.unescape(card.group(1)), int(card.group(2))
        listed = c.get(href)
        assert listed.status_code == 200, href
        total = re.search(r'id="queue-total" data-live-region>共 (\d+) 件<', listed.text)
        assert total and int(total.group(1)) == number, (kpi, href, number)
        assert number > 0, kpi  # the demo history has cases of every kind in every period
