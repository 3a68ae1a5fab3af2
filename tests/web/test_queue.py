"""The operator's queue (/center) and the department's list (/dept) without a browser: search, column sort,
department filter and column, received-date range, page size, and the 待受理 count-down."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import advance, grid_point, make_case
from civicgrid.models import User
from civicgrid.org.tokens import issue_token


def _login(client: Any, session: Session, username: str) -> None:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    client.cookies.set("civicgrid_token", issue_token(user.id)[0])


def _rows(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<(?:tr|div class="card[^"]*") data-case-id="(\d+)"', html)]


def _page(client: Any, path: str, **params: Any) -> str:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text[:500]
    return r.text


def _dispatch(session: Session, case: Any, dept: str) -> Any:
    return advance(
        session, case, [("register", "shiftlead", {}), ("dispatch", "dispatcher", {"department_code": dept})]
    )


def test_queue_search_by_keyword_number_and_phone(client: Any, session: Session) -> None:
    p = grid_point(session, 10)
    a = make_case(
        session,
        point=p,
        description="队列搜索：桥下涵洞积水严重",
        source="citizen",
        reporter_phone="13811112222",
    )
    b = make_case(session, point=p, description="队列搜索：广场座椅损坏")
    session.flush()
    _login(client, session, "shiftlead")
    html = _page(client, "/center", tab="all", q="涵洞积水")
    assert _rows(html) == [a.id]
    assert 'id="q"' in html and 'value="涵洞积水"' in html
    assert _rows(_page(client, "/center", tab="all", q="队列搜索")) == [b.id, a.id]
    assert _rows(_page(client, "/center", tab="all", q=b.number[-10:])) == [b.id]
    assert _rows(_page(client, "/center", tab="all", q="138 1111 2222")) == [a.id]
    short = _page(client, "/center", tab="all", q="积")
    assert "搜索词至少 2 个字" in short  # explained, and the list is not searched


def test_queue_sorts_by_time_left_and_by_received(client: Any, session: Session) -> None:
    p = grid_point(session, 11)
    now = datetime.now(UTC)
    late = make_case(session, point=p, description="排序队列：甲", now=now - timedelta(hours=3))
    soon = make_case(session, point=p, description="排序队列：乙", now=now - timedelta(minutes=25))
    fresh = make_case(session, point=p, description="排序队列：丙", now=now - timedelta(minutes=2))
    session.flush()
    _login(client, session, "operator")
    by_due = _page(client, "/center", tab="all", q="排序队列", sort="due")
    assert _rows(by_due) == [late.id, soon.id, fresh.id]
    assert 'aria-sort="ascending"' in by_due
    assert _rows(_page(client, "/center", tab="all", q="排序队列", sort="-due")) == [
        fresh.id,
        soon.id,
        late.id,
    ]
    assert _rows(_page(client, "/center", tab="all", q="排序队列", sort="received")) == [
        late.id,
        soon.id,
        fresh.id,
    ]
    newest = _page(client, "/center", tab="all", q="排序队列")
    assert _rows(newest) == [fresh.id, soon.id, late.id]  # newest first by default
    # The header links keep the search and flip the direction of the current column.
    assert 'href="/center?tab=all&amp;q=%E6%8E%92%E5%BA%8F%E9%98%9F%E5%88%97&amp;sort=received"' in newest
    assert _rows(_page(client, "/center", tab="all", q="排序队列", sort="nonsense")) == [
        fresh.id,
        soon.id,
        late.id,
    ]


def test_received_cases_count_down_to_acceptance_and_turn_red_when_late(
    client: Any, session: Session
) -> None:
    p = grid_point(session, 12)
    now = datetime.now(UTC)
    late = make_case(
        session, point=p, description="受理时限：迟", now=now - timedelta(minutes=44, seconds=30)
    )
    fresh = make_case(
        session, point=p, description="受理时限：新", now=now - timedelta(minutes=5, seconds=30)
    )
    session.flush()
    _login(client, session, "operator")
    html = _page(client, "/center", tab="all", q="受理时限")
    cells = dict(re.findall(r'data-case-id="(\d+)".*?<td class="nowrap col-due">(.*?)</td>', html, re.S))
    assert 'class="light light-red"' in cells[str(late.id)] and "超时 15 分钟" in cells[str(late.id)]
    assert 'class="light light-none"' in cells[str(fresh.id)] and "剩余 24 分钟" in cells[str(fresh.id)]
    due = (fresh.received_at + timedelta(minutes=30)).isoformat()
    assert f'data-due="{due}" data-turns-red' in cells[str(fresh.id)]
    assert "js/countdown.js" in html


def test_department_column_and_filter(client: Any, session: Session) -> None:
    hw = _dispatch(
        session, make_case(session, point=grid_point(session, 13), description="部门筛选：一"), "HW"
    )
    sz = _dispatch(
        session, make_case(session, point=grid_point(session, 14), description="部门筛选：二"), "SZ"
    )
    session.flush()
    _login(client, session, "dispatcher")
    html = _page(client, "/center", tab="all", q="部门筛选")
    assert set(_rows(html)) == {hw.id, sz.id}
    assert "<th>部门</th>" in html and "环境卫生管理处" in html.split('id="case-table"')[1]
    only = _page(client, "/center", tab="all", q="部门筛选", department="SZ")
    assert _rows(only) == [sz.id]
    assert '<option value="SZ" selected>' in only


def test_received_date_range_is_local_days_inclusive(client: Any, session: Session) -> None:
    p = grid_point(session, 15)
    tz = ZoneInfo("Asia/Shanghai")
    at = [
        datetime(2026, 3, 1, 23, 50, tzinfo=tz),
        datetime(2026, 3, 2, 0, 10, tzinfo=tz),
        datetime(2026, 3, 3, 23, 59, tzinfo=tz),
        datetime(2026, 3, 4, 0, 1, tzinfo=tz),
    ]
    cases = [make_case(session, point=p, description=f"日期范围{i}", now=t) for i, t in enumerate(at)]
    session.flush()
    _login(client, session, "shiftlead")
    html = _page(
        client, "/center", tab="all", q="日期范围", received_from="2026-03-02", received_to="2026-03-03"
    )
    assert _rows(html) == [cases[2].id, cases[1].id]
    assert _rows(_page(client, "/center", tab="all", q="日期范围", received_from="2026-03-04")) == [
        cases[3].id
    ]
    bad = _page(client, "/center", tab="all", q="日期范围", received_from="2026-02-30")
    assert "日期格式应为" in bad and len(_rows(bad)) == 4


def test_page_size_20_50_100(client: Any, session: Session) -> None:
    p = grid_point(session, 16)
    for i in range(55):
        make_case(session, point=p, description=f"分页测试第{i}件")
    session.flush()
    _login(client, session, "shiftlead")
    assert len(_rows(_page(client, "/center", tab="all", q="分页测试"))) == 20
    fifty = _page(client, "/center", tab="all", q="分页测试", size=50)
    assert len(_rows(fifty)) == 50 and "第 1 / 2 页" in fifty and "size=50&page=2" in fifty
    assert len(_rows(_page(client, "/center", tab="all", q="分页测试", size=50, page=2))) == 5
    assert len(_rows(_page(client, "/center", tab="all", q="分页测试", size=100))) == 55
    assert len(_rows(_page(client, "/center", tab="all", q="分页测试", size=7))) == 20  # not offered: default


def test_department_list_searches_only_its_own_cases(client: Any, session: Session) -> None:
    hw = _dispatch(
        session, make_case(session, point=grid_point(session, 17), description="部门搜索：路牙破损"), "HW"
    )
    _dispatch(
        session, make_case(session, point=grid_point(session, 18), description="部门搜索：路牙破损"), "SZ"
    )
    session.flush()
    _login(client, session, "handler_hw")
    html = _page(client, "/dept", tab="all", q="路牙破损")
    assert _rows(html) == [hw.id] and "找到 1 件" in html and 'id="q"' in html
    assert _rows(_page(client, "/dept", tab="new", q="路牙")) == [hw.id]
    assert _rows(_page(client, "/dept", tab="doing", q="路牙")) == []
