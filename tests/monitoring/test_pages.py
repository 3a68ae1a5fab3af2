"""The monitoring pages without a browser (SQLite and PostgreSQL): the station map and table with current
values in the official colours, a station's charts and flag counts, staff only, the admin's forms (CSRF,
edit, deactivate, import with a dry-run preview) and the rankings page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import grid_point

from civicgrid.models import Station, User
from civicgrid.monitoring import stations
from civicgrid.monitoring.hj212 import build, parse_frame
from civicgrid.monitoring.readings import store
from civicgrid.org.tokens import issue_token

pytestmark = pytest.mark.db


def _login(client: Any, session: Session, username: str) -> None:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    client.cookies.set("civicgrid_token", issue_token(user.id)[0])


def _csrf(client: Any, path: str) -> str:
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def _packet(mn: str, cn: str, data_time: str, items: str, pw: str = "123456") -> Any:
    frame = build({"QN": data_time + "000", "ST": "22", "CN": cn, "PW": pw, "MN": mn, "Flag": 4}, items)
    return parse_frame(frame)


@pytest.fixture
def two_stations(session: Session) -> tuple[Station, Station]:
    p, q = grid_point(session, 3), grid_point(session, 7)
    air = stations.add(session, stations.StationIn("PGAIR01", "air", "页面空气站", p.lng, p.lat))
    wat = stations.add(
        session, stations.StationIn("PGWAT01", "water", "页面水质站", q.lng, q.lat, target_class="III")
    )
    # Hourly air data; the latest hour (10:00) has PM2.5 80 → AQI 119 轻度污染; 08:00 is a fault (D).
    for hour, pm25, flag in (("08", 999, "D"), ("09", 30, "N"), ("10", 80, "N")):
        at = f"20261130{hour}0000"
        items = f"DataTime={at};a34004-Avg={pm25},a34004-Flag={flag};a34002-Avg=120,a34002-Flag=N"
        store(session, air, _packet("PGAIR01", "2061", at, items))
    # Water: NH3-N 1.2 → IV 类 轻度污染.
    store(
        session,
        wat,
        _packet("PGWAT01", "2061", "20261130100000", "DataTime=20261130100000;w21003-Avg=1.2,w21003-Flag=N"),
    )
    session.flush()
    return air, wat


def test_the_station_map_lists_every_station_with_its_current_value_and_colour(
    client: TestClient, session: Session, two_stations: tuple[Station, Station]
) -> None:
    _login(client, session, "operator")
    page = client.get("/stations")
    assert page.status_code == 200, page.text[:300]
    html = page.text
    air = re.search(r'<tr data-mn="PGAIR01" data-level="([^"]*)" data-color="([^"]*)">(.*?)</tr>', html, re.S)
    wat = re.search(r'<tr data-mn="PGWAT01" data-level="([^"]*)" data-color="([^"]*)">(.*?)</tr>', html, re.S)
    assert air and wat
    assert (air.group(1), air.group(2)) == ("aqi-3", "#FF7E00")  # HJ 633 三级 轻度污染
    # HJ 633-2026 (from 2026-03-01): PM2.5 80 → IAQI ceil(50 / 55 × 20 + 100) = 119.
    assert "AQI 119 轻度污染" in air.group(3) and "页面空气站" in air.group(3)
    assert (wat.group(1), wat.group(2)) == ("wq-IV", "#FFD400")  # IV 类 轻度污染 黄色
    assert "IV 类 轻度污染" in wat.group(3)
    assert "在线" in air.group(3)  # a packet was just received
    # The map's data travel in a JSON block, the script is our own (no inline script).
    assert '"color": "#FF7E00"' in html and "/static/js/stations.js" in html
    assert "批量导入" not in html  # only an admin imports
    only_water = client.get("/stations", params={"kind": "water"}).text
    assert "PGWAT01" in only_water and 'data-mn="PGAIR01"' not in only_water


def test_a_station_page_has_charts_flag_counts_and_a_window_choice(
    client: TestClient, session: Session, two_stations: tuple[Station, Station]
) -> None:
    _login(client, session, "leader")
    page = client.get(
        "/stations/PGAIR01", params={"window": "hour", "from": "2026-11-30", "to": "2026-11-30"}
    )
    assert page.status_code == 200, page.text[:300]
    html = page.text
    flags = dict(re.findall(r'<td data-flag="([A-Z]+)">(\d+)</td>', html))
    assert flags["N"] == "5" and flags["D"] == "1" and flags["F"] == "0"
    charts = re.findall(r'<figure class="chart" data-code="([a-z0-9]+)">', html)
    assert charts == ["a34002", "a34004"]
    assert html.count('<svg class="series-chart"') == 2
    assert 'class="pt pt-flagged"' in html  # the D value is drawn apart
    assert "修改站点" not in html  # a leader reads only
    empty = client.get(
        "/stations/PGAIR01", params={"window": "day", "from": "2026-11-30", "to": "2026-11-30"}
    )
    assert "该时段没有数据" in empty.text
    bad = client.get("/stations/PGAIR01", params={"window": "rt", "from": "2026-11-01", "to": "2026-11-30"})
    assert bad.status_code == 200 and "实时数据一次最多查看 2 天" in bad.text
    assert client.get("/stations/NOPE").status_code == 404


def test_pages_are_for_staff_only(client: TestClient, session: Session) -> None:
    assert client.get("/stations", follow_redirects=False).status_code in (302, 303, 401)
    _login(client, session, "citizen")
    for path in ("/stations", "/stations/rankings", "/stations/import"):
        got = client.get(path)
        assert got.status_code == 403, path
        assert "text/html" in got.headers["content-type"]
    _login(client, session, "operator")
    assert client.get("/stations/import").status_code == 403


def test_the_admin_edits_and_deactivates_a_station_through_forms(
    client: TestClient, session: Session, two_stations: tuple[Station, Station]
) -> None:
    _login(client, session, "admin")
    token = _csrf(client, "/stations/PGWAT01")
    q = grid_point(session, 11)
    refused = client.post("/stations/PGWAT01/edit", data={"name": "新名字"}, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token
    got = client.post(
        "/stations/PGWAT01/edit",
        data={
            "csrf_token": token,
            "name": "胥江断面",
            "lng": f"{q.lng:.6f}",
            "lat": f"{q.lat:.6f}",
            "interval_s": "300",
            "target_class": "II",
            "lake": "1",
        },
        follow_redirects=False,
    )
    assert got.status_code == 303 and got.headers["location"] == "/stations/PGWAT01"
    st = stations.get(session, "PGWAT01")
    assert (st.name, st.grid_code, st.interval_s, st.target_class, st.lake) == (
        "胥江断面",
        q.grid_code,
        300,
        "II",
        True,
    )
    bad = client.post(
        "/stations/PGWAT01/edit",
        data={"csrf_token": token, "name": "远处", "lng": "116.4", "lat": "39.9"},
        follow_redirects=True,
    )
    assert bad.status_code == 200 and stations.get(session, "PGWAT01").name == "胥江断面"
    off = client.post("/stations/PGWAT01/deactivate", data={"csrf_token": token}, follow_redirects=False)
    assert off.status_code == 303 and stations.get(session, "PGWAT01").active is False
    assert "停用" in client.get("/stations").text


CSV = (
    "站点编码,类型,名称,经度,纬度,目标类别,湖库\n"
    "PGIMP01,空气,导入空气站,{lng},{lat},,\n"
    "PGIMP02,地表水,导入水质站,{lng},{lat},III,是\n"
)


def test_the_import_page_previews_then_imports(client: TestClient, session: Session) -> None:
    p = grid_point(session, 4)
    _login(client, session, "admin")
    token = _csrf(client, "/stations/import")
    body = CSV.format(lng=p.lng, lat=p.lat).encode()
    preview = client.post(
        "/stations/import/preview",
        data={"csrf_token": token},
        files={"file": ("stations.csv", body, "text/csv")},
    )
    assert preview.status_code == 200 and "校验通过" in preview.text
    assert session.scalar(select(Station).where(Station.mn == "PGIMP01")) is None  # a preview writes nothing
    import_token = re.search(r'name="token" value="([0-9a-f]{32})"', preview.text)
    assert import_token
    done = client.post(
        "/stations/import/commit",
        data={"csrf_token": token, "token": import_token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/stations"
    assert stations.get(session, "PGIMP02").lake is True
    again = client.post(
        "/stations/import/preview",
        data={"csrf_token": token},
        files={"file": ("stations.csv", body, "text/csv")},
    )
    assert "第 2 行：MN 为 PGIMP01 的站点已存在" in again.text and 'name="token"' not in again.text


def test_the_rankings_page_shows_the_month_and_links_the_excel_file(
    client: TestClient, session: Session, two_stations: tuple[Station, Station]
) -> None:
    _login(client, session, "leader")
    page = client.get("/stations/rankings", params={"month": "2026-11", "kind": "air", "by": "station"})
    assert page.status_code == 200, page.text[:300]
    assert 'href="/api/v1/stations/rankings.xlsx?month=2026-11&amp;kind=air&amp;by=station"' in page.text
    assert 'data-key="PGAIR01"' in page.text
    bad = client.get("/stations/rankings", params={"month": "2026-13"})
    assert bad.status_code == 200 and 'role="alert"' in bad.text


def test_the_svg_chart_breaks_the_line_at_flagged_values_and_draws_the_limit() -> None:
    from datetime import UTC, datetime

    from civicgrid.monitoring.svgchart import Point, line_chart, nice_max

    assert [nice_max(v) for v in (0, 0.8, 7, 120, 260)] == [1.0, 1.0, 10.0, 200.0, 500.0]
    at = [datetime(2026, 11, 30, h, tzinfo=UTC) for h in range(5)]
    svg = line_chart(
        "细颗粒物 <PM2.5>",
        "μg/m³",
        [Point(at[0], 10), Point(at[1], 20), Point(at[2], 999, "D"), Point(at[3], 30), Point(at[4], None)],
        limit=75,
    )
    assert svg.startswith('<svg class="series-chart"') and svg.endswith("</svg>")
    assert "&lt;PM2.5&gt;" in svg and "<PM2.5>" not in svg  # names are escaped
    assert svg.count("<polyline") == 1  # 10 → 20, then the D value breaks the line; 30 stands alone
    assert svg.count('class="pt pt-flagged"') == 1 and svg.count('class="pt"') == 3
    assert 'class="limit"' in svg
    assert "该时段没有数据" in line_chart("x", "", [Point(at[0], None)])
