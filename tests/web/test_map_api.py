"""The maps' JSON: every case matching the queue's filter (scoped like the queue), the public map of reports
(masked), the citizen form's nearby hint, and the wall screen's panels."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import advance, grid_point, make_case
from civicgrid.analytics.wall import today_flow
from civicgrid.models import User, utcnow
from civicgrid.org.tokens import issue_token


def _login(client: Any, session: Session, username: str) -> None:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    client.cookies.set("civicgrid_token", issue_token(user.id)[0])


def test_queue_map_has_every_matching_case_not_only_one_page(client: Any, session: Session) -> None:
    made = [make_case(session, category="C0201", point=grid_point(session, 3 * i)) for i in range(23)]
    other = make_case(session, category="E0102", point=grid_point(session, 200))
    _login(client, session, "operator")
    fc = client.get("/web/api/cases.geojson?tab=all&category=C0201").json()
    assert fc["total"] == fc["shown"] == 23
    assert {f["properties"]["label"] for f in fc["features"]} == {c.number for c in made}
    assert other.number not in {f["properties"]["label"] for f in fc["features"]}
    first = next(f for f in fc["features"] if f["properties"]["label"] == made[0].number)
    assert first["geometry"]["coordinates"] == [made[0].lng, made[0].lat]
    assert first["properties"]["url"] == f"/cases/{made[0].id}"
    # The same filter as the queue: its table pages 20 at a time, the map has them all.
    page = client.get("/center?tab=all&category=C0201")
    assert "共 23 件" in page.text


def test_queue_map_keeps_the_queue_filters_and_who_may_see_it(client: Any, session: Session) -> None:
    a = make_case(session, category="C0201", point=grid_point(session, 0, "001"))
    b = make_case(session, category="C0201", point=grid_point(session, 0, "002"))
    _login(client, session, "operator")
    only_001 = client.get("/web/api/cases.geojson?tab=all&category=C0201&street=320508001").json()
    labels = {f["properties"]["label"] for f in only_001["features"]}
    assert a.number in labels and b.number not in labels
    by_number = client.get(f"/web/api/cases.geojson?tab=all&q={b.number}").json()
    assert [f["properties"]["label"] for f in by_number["features"]] == [b.number]
    _login(client, session, "handler_hw")
    refused = client.get("/web/api/cases.geojson?tab=all")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    client.cookies.clear()
    assert client.get("/web/api/cases.geojson").status_code == 401


def test_public_map_shows_public_reports_masked(client: Any, session: Session) -> None:
    p = grid_point(session, 40)
    shown = make_case(
        session,
        category="C0101",
        source="citizen",
        point=p,
        reporter_name="王小明",
        reporter_phone="13912345678",
        description="我家门口张阿姨说井盖坏了",
    )
    advance(session, shown, [("send_verify", "operator", {})])
    waiting = make_case(session, category="C0102", source="citizen", point=grid_point(session, 80))
    staff = make_case(session, category="C0203", source="inspector", point=grid_point(session, 120))
    advance(session, staff, [("register", "shiftlead", {})])
    private = make_case(session, category="E0801", source="citizen", point=grid_point(session, 160))
    advance(session, private, [("send_verify", "operator", {})])

    res = client.get("/web/api/public-reports")
    assert res.status_code == 200
    text = res.text
    for secret in (
        "王小明",
        "13912345678",
        "张阿姨",
        shown.number,
        staff.number,
        waiting.number,
        private.number,
    ):
        assert secret not in text
    mine = [f for f in res.json()["features"] if f["properties"]["category"] == "上水井盖"]
    ours = [f for f in mine if f["geometry"]["coordinates"] == [round(p.lng, 3), round(p.lat, 3)]]
    assert len(ours) == 1
    props = ours[0]["properties"]
    assert props["status"] == "已受理"
    assert set(props) == {"category", "status", "day", "place", "label", "detail", "light"}
    categories = {f["properties"]["category"] for f in res.json()["features"]}
    assert "邻里纠纷" not in categories  # E08 is hidden from the public map by default
    page = client.get("/map")
    assert page.status_code == 200
    assert "问题地图" in page.text and "王小明" not in page.text


def test_nearby_finds_open_reports_of_the_same_category_within_100_m(client: Any, session: Session) -> None:
    p = grid_point(session, 60)
    case = make_case(session, category="C0101", source="citizen", point=p, reporter_name="李四")
    dlng = 50 / 95_000.0  # about 50 m east
    near = client.get(f"/web/api/nearby?lng={p.lng + dlng:.6f}&lat={p.lat:.6f}&category=C0101").json()
    assert near["count"] == 1
    assert near["radius_m"] == 100
    hit = near["reports"][0]
    assert hit["category"] == "上水井盖" and hit["status"] == "待受理"
    assert 40 <= hit["distance_m"] <= 60
    assert "李四" not in str(near) and case.number not in str(near)
    assert client.get(f"/web/api/nearby?lng={p.lng:.6f}&lat={p.lat:.6f}&category=C0102").json()["count"] == 0
    far = client.get(f"/web/api/nearby?lng={p.lng + 4 * dlng:.6f}&lat={p.lat:.6f}&category=C0101").json()
    assert far["count"] == 0
    advance(session, case, [("void", "shiftlead", {"note": "重复"})])
    assert client.get(f"/web/api/nearby?lng={p.lng:.6f}&lat={p.lat:.6f}&category=C0101").json()["count"] == 0


def test_nearby_refuses_bad_input_with_a_problem(client: Any) -> None:
    bad = client.get("/web/api/nearby?lng=120.6&lat=999&category=C0101")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert client.get("/web/api/nearby?lng=120.6&lat=31.3&category=<x>").status_code == 422


def test_wall_screen_panels_for_the_command_center(client: Any, session: Session) -> None:
    before = {s.key: s.count for s in today_flow(session, utcnow())}
    make_case(session, category="C0101", point=grid_point(session, 7))
    after = {s.key: s.count for s in today_flow(session, utcnow())}
    assert after["received"] == before["received"] + 1
    _login(client, session, "leader")
    page = client.get("/wall")
    assert page.status_code == 200
    assert 'data-wall-panel="overdue"' in page.text and 'data-wall-panel="rankings"' in page.text
    flow = client.get("/wall/panel/flow")
    assert "今日受理" in flow.text and f">{after['received']}<" in flow.text
    assert "超期案卷" in client.get("/wall/panel/overdue").text
    assert "近 7 天上报最多的街道" in client.get("/wall/panel/rankings").text
    assert client.get("/wall/panel/nope").status_code == 404
    _login(client, session, "handler_hw")
    assert client.get("/wall").status_code == 403
