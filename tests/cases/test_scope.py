"""Row scoping: handlers see their department's cases, inspectors their grids', citizens their own."""

from __future__ import annotations

from builders import advance, auth, grid_point, make_case


def _dispatched(session, dept: str, index: int = 5):
    case = make_case(session, point=grid_point(session, index), source="inspector")
    advance(
        session, case, [("register", "shiftlead", {}), ("dispatch", "dispatcher", {"department_code": dept})]
    )
    session.flush()
    return case


def test_handler_of_department_a_cannot_list_read_or_act_on_department_b(client, session) -> None:
    hw = _dispatched(session, "HW")
    sz = _dispatched(session, "SZ")
    listed = client.get("/api/v1/cases", headers=auth(session, "handler_sz")).json()
    ids = {c["id"] for c in listed["items"]}
    assert sz.id in ids and hw.id not in ids
    assert all(c["department_code"] == "SZ" for c in listed["items"])
    r = client.get(f"/api/v1/cases/{hw.id}", headers=auth(session, "handler_sz"))
    assert r.status_code == 403 and r.json()["detail"] == "该案卷不在您的职责范围内"
    r = client.post(f"/api/v1/cases/{hw.id}/actions/sign", json={}, headers=auth(session, "handler_sz"))
    assert r.status_code == 403
    session.expire_all()
    assert hw.state == "dispatched"
    assert (
        client.post(
            f"/api/v1/cases/{hw.id}/actions/sign", json={}, headers=auth(session, "handler_hw")
        ).status_code
        == 200
    )


def test_inspector_only_sees_their_grids(client, session) -> None:
    mine = make_case(session, point=grid_point(session, 0, street_suffix="001"), source="citizen")
    other = make_case(session, point=grid_point(session, 0, street_suffix="002"), source="citizen")
    session.flush()
    ids = {
        c["id"]
        for c in client.get("/api/v1/cases?page_size=500", headers=auth(session, "inspector001")).json()[
            "items"
        ]
    }
    assert mine.id in ids and other.id not in ids
    assert client.get(f"/api/v1/cases/{other.id}", headers=auth(session, "inspector001")).status_code == 403
    assert client.get(f"/api/v1/cases/{other.id}", headers=auth(session, "inspector002")).status_code == 200


def test_citizen_sees_only_own_reports_and_no_one_elses_personal_data(client, session) -> None:
    make_case(session, source="citizen", reporter_phone="13900001111", reporter_name="李四")
    session.flush()
    assert client.get("/api/v1/cases", headers=auth(session, "citizen")).json()["total"] == 0
    staff = client.get("/api/v1/cases", headers=auth(session, "operator")).json()["items"][0]
    assert (staff["reporter_phone"], staff["reporter_name"]) == ("139****1111", "李*")


def test_listing_needs_login_and_filters_work(client, session) -> None:
    assert client.get("/api/v1/cases").status_code == 401
    _dispatched(session, "HW")
    r = client.get(
        "/api/v1/cases", params={"state": "dispatched", "department": "HW"}, headers=auth(session, "leader")
    )
    assert r.status_code == 200 and r.json()["total"] >= 1
    assert {c["state"] for c in r.json()["items"]} == {"dispatched"}
    r = client.get("/api/v1/cases", params={"state": "flying"}, headers=auth(session, "leader"))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
