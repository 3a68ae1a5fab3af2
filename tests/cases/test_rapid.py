"""Rapid response: auto-dispatch of trusted reports, duplicate merging, address-only reports, coordinate
systems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from builders import advance, auth, grid_point, make_case
from civicgrid.geo.crs import from_wgs84
from civicgrid.models import Notification, User


def test_inspector_report_is_registered_and_dispatched_by_the_system(client, session) -> None:
    p = grid_point(session, 5)
    r = client.post(
        "/api/v1/reports",
        headers=auth(session, "inspector001"),
        json={
            "description": "人民路垃圾桶旁暴露垃圾",
            "lng": p.lng,
            "lat": p.lat,
            "category_code": "E0102",
            "source": "inspector",
        },
    )
    assert r.status_code == 201, r.text
    assert (r.json()["outcome"], r.json()["state"]) == ("dispatched", "dispatched")
    d = client.get(f"/api/v1/cases/{r.json()['id']}", headers=auth(session, "leader")).json()
    assert [(e["action"], e["actor_role"]) for e in d["events"]] == [
        ("report", "inspector"),
        ("register", "system"),
        ("dispatch", "system"),
    ]
    assert d["department_code"] == "HW" and d["due_at"] is not None


def test_citizen_cannot_claim_to_be_an_inspector(client, session) -> None:
    p = grid_point(session, 5)
    r = client.post(
        "/api/v1/reports", json={"description": "井盖", "lng": p.lng, "lat": p.lat, "source": "inspector"}
    )
    assert r.status_code == 403


def test_duplicate_nearby_is_merged_and_its_reporter_told_on_close(client, session) -> None:
    p = grid_point(session, 5)
    first = client.post(
        "/api/v1/reports",
        json={"description": "路边垃圾堆着没人管", "lng": p.lng, "lat": p.lat, "category_code": "E0102"},
    ).json()
    second = client.post(
        "/api/v1/reports",
        headers=auth(session, "citizen"),
        json={"description": "这里垃圾好多", "lng": p.lng + 0.0003, "lat": p.lat, "category_code": "E0102"},
    )
    assert second.status_code == 201
    body = second.json()
    assert (body["outcome"], body["state"], body["master_number"]) == ("merged", "merged", first["number"])
    assert body["number"] != first["number"]
    master = client.get(f"/api/v1/cases/{first['id']}", headers=auth(session, "operator")).json()
    assert master["report_count"] == 2
    # Far away (about 500 m): a separate case.
    far = grid_point(session, 10)
    other = client.post(
        "/api/v1/reports",
        json={"description": "垃圾", "lng": far.lng, "lat": far.lat + 0.004, "category_code": "E0102"},
    )
    assert other.json()["outcome"] == "queued"
    # The merged reporter hears when the master case closes.
    advance(
        session,
        _case(session, first["id"]),
        [
            ("send_verify", "operator", {}),
            ("verify", "inspector001", {"confirmed": True}),
            ("register", "shiftlead", {}),
            ("dispatch", "dispatcher", {}),
            ("sign", "handler_hw", {}),
            ("feedback", "handler_hw", {"note": "清运"}),
            ("send_check", "operator", {}),
            ("check", "inspector001", {"passed": True}),
            ("close", "shiftlead", {}),
        ],
    )
    citizen = session.scalar(select(User).where(User.username == "citizen"))
    titles = [
        n.title for n in session.scalars(select(Notification).where(Notification.user_id == citizen.id))
    ]
    assert titles == [f"您反映的问题（{first['number']}）已处理结案"]


def _case(session, case_id):
    from civicgrid.models import Case

    return session.get(Case, case_id)


def test_duplicate_window_and_similar_text(session) -> None:
    t0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    p = grid_point(session, 20)
    from civicgrid.cases.intake import ReportIn, report
    from civicgrid.org.roles import ANONYMOUS_CITIZEN

    def rep(desc: str, cat: str, at: datetime):
        return report(
            session,
            ReportIn(description=desc, lng=p.lng, lat=p.lat, category_code=cat),
            ANONYMOUS_CITIZEN,
            now=at,
        ).case

    master = rep("小区门口的窨井盖不见了，很危险", "C0101", t0)
    late = rep("井盖丢了", "C0101", t0 + timedelta(hours=73))  # outside the 72 h window
    assert late.state == "received" and late.master_case_id is None
    similar = rep(
        "小区门口的窨井盖不见了，很危险！", "C0102", t0 + timedelta(hours=1)
    )  # other class, same words
    assert similar.state == "merged" and similar.master_case_id == master.id
    unrelated = rep("路灯坏了好几天", "C0118", t0 + timedelta(hours=1))
    assert unrelated.state == "received"


def test_report_by_address_only(client, session) -> None:
    r = client.post(
        "/api/v1/reports",
        json={
            "description": "人行道上乱堆建材",
            "address": "平江街道桂花社区人民路12号",
            "category_code": "E0507",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["grid_code"].startswith("320508001001")
    bad = client.post(
        "/api/v1/reports", json={"description": "有垃圾", "address": "我家楼下", "category_code": "E0102"}
    )
    assert bad.status_code == 422 and "地图上选择位置" in bad.json()["detail"]
    half = client.post(
        "/api/v1/reports", json={"description": "有垃圾", "lng": 120.6, "category_code": "E0102"}
    )
    assert half.status_code == 422 and "同时提供" in half.json()["detail"]


def test_gcj02_input_is_stored_as_wgs84(client, session) -> None:
    p = grid_point(session, 30)
    glng, glat = from_wgs84(p.lng, p.lat, "gcj02")
    r = client.post(
        "/api/v1/reports",
        json={"description": "路灯不亮", "lng": glng, "lat": glat, "crs": "gcj02", "category_code": "C0118"},
    )
    assert r.status_code == 201 and r.json()["grid_code"] == p.grid_code
    d = client.get(f"/api/v1/cases/{r.json()['id']}", headers=auth(session, "operator")).json()
    assert abs(d["lng"] - p.lng) < 1e-6 and abs(d["lat"] - p.lat) < 1e-6
    loc = client.get("/api/v1/locate", params={"lng": glng, "lat": glat, "crs": "gcj02"}).json()
    assert loc["grid_code"] == p.grid_code and loc["street_name"] == "平江街道"


def test_hotline_operator_keys_in_a_call(client, session) -> None:
    p = grid_point(session, 40)
    case = make_case(session, source="hotline", reporter="operator", point=p, category="E0301")
    assert case.source == "hotline" and case.state == "received"
