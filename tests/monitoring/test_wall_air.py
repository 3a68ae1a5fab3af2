"""The wall screen's air panel (/wall/panel/air): each air station's current AQI in its official colour, the
worst first, stations without fresh data last, and the count of open sensor cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import grid_point, make_case
from civicgrid.models import Reading, Station, User, utcnow
from civicgrid.monitoring import stations
from civicgrid.monitoring.wall import air_panel
from civicgrid.org.tokens import issue_token


def _login(client: Any, session: Session, username: str) -> None:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    client.cookies.set("civicgrid_token", issue_token(user.id)[0])


def _station(session: Session, mn: str, name: str, i: int, kind: str = "air") -> Station:
    p = grid_point(session, 60 + i)
    return stations.add(session, stations.StationIn(mn, kind, name, p.lng, p.lat))


def _reading(session: Session, st: Station, window: str, code: str, value: float, ago: timedelta) -> None:
    at = (utcnow() - ago).replace(microsecond=0)
    session.add(Reading(station_id=st.id, window=window, code=code, at=at, value=value, flag="N"))


def test_the_air_panel_shows_each_station_worst_first(client: Any, session: Session) -> None:
    haze = _station(session, "WALLAIR1", "南门测试站", 0)
    clean = _station(session, "WALLAIR2", "彩香测试站", 1)
    silent = _station(session, "WALLAIR3", "无数据测试站", 2)
    dust = _station(session, "WALLDST1", "工地测试点", 3, kind="dust")
    # the haze station's latest hour: PM2.5 200 → IAQI 250 (重度污染); an older, cleaner hour is ignored
    _reading(session, haze, "hour", "a34004", 200, timedelta(hours=1))
    _reading(session, haze, "hour", "a34002", 150, timedelta(hours=1))
    _reading(session, haze, "hour", "a34004", 20, timedelta(hours=2))
    _reading(session, clean, "rt", "a34004", 20, timedelta(minutes=2))  # no hourly yet: its real-time value
    _reading(session, clean, "rt", "a34004", 90, timedelta(minutes=3))
    _reading(session, silent, "hour", "a34004", 300, timedelta(hours=5))  # too old to be current
    _reading(session, dust, "hour", "a34002", 400, timedelta(hours=1))  # not an air station
    session.flush()
    before = air_panel(session, utcnow())["open_cases"]
    make_case(session, category="E0601", source="sensor", point=grid_point(session, 60))
    session.flush()

    data = air_panel(session, utcnow())
    rows = [r for r in data["stations"] if r.mn.startswith("WALL")]
    assert [(r.mn, r.aqi, r.category, r.color) for r in rows] == [
        ("WALLAIR1", 250, "重度污染", "#99004C"),
        ("WALLAIR2", 29, "优", "#00E400"),
        ("WALLAIR3", None, "暂无数据", "#8A94A6"),
    ]
    assert rows[0].primary == ("PM2.5",) and rows[0].window == "hour" and rows[1].window == "rt"
    assert data["open_cases"] == before + 1

    _login(client, session, "leader")
    page = client.get("/wall")
    assert 'data-wall-panel="air"' in page.text
    panel = client.get("/wall/panel/air")
    assert panel.status_code == 200
    html = panel.text
    assert "空气质量" in html and f'data-open-sensor-cases="{before + 1}"' in html
    first, second, third = (html.index(f'data-mn="{mn}"') for mn in ("WALLAIR1", "WALLAIR2", "WALLAIR3"))
    assert first < second < third
    assert 'fill="#99004C"' in html and ">250<" in html and "南门测试站" in html and "重度污染" in html
    assert "工地测试点" not in html
    assert "style=" not in html  # colours are SVG fills: the CSP allows no inline styles
    _login(client, session, "handler_hw")
    assert client.get("/wall/panel/air").status_code == 403
