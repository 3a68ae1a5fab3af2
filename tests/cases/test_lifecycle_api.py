"""Each path of the closed loop (SPEC §3) walked through the HTTP API as the right roles."""

from __future__ import annotations

from typing import Any

from builders import auth, grid_point
from civicgrid.sla.deadlines import disposal_due

DT_FIELDS = (
    "verify_sent_at",
    "verified_at",
    "registered_at",
    "dispatched_at",
    "signed_at",
    "feedback_at",
    "check_sent_at",
    "checked_at",
    "closed_at",
    "voided_at",
    "merged_at",
)


def _report(
    client,
    session,
    *,
    description: str = "小区门口垃圾桶满了，垃圾袋堆在路边",
    category: str = "E0102",
    index: int = 5,
    **extra: Any,
) -> dict[str, Any]:
    p = grid_point(session, index)  # street 001 (平江街道), patrolled by inspector001
    r = client.post(
        "/api/v1/reports",
        json={
            "description": description,
            "lng": p.lng,
            "lat": p.lat,
            "category_code": category,
            "reporter_phone": "13812345678",
            **extra,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def act(
    client, session, case_id: int, action: str, user: str, expect: int = 200, **body: Any
) -> dict[str, Any]:
    r = client.post(f"/api/v1/cases/{case_id}/actions/{action}", json=body, headers=auth(session, user))
    assert r.status_code == expect, r.text
    return r.json()


def _set(detail: dict[str, Any]) -> set[str]:
    return {f for f in DT_FIELDS if detail[f] is not None}


def test_happy_path_citizen_report_to_rating(client, session) -> None:
    rep = _report(client, session)
    assert rep["state"] == "received" and rep["outcome"] == "queued" and len(rep["query_code"]) == 11
    assert rep["number"].startswith("E0102") and len(rep["number"]) == 17
    cid = rep["id"]
    d = act(client, session, cid, "send_verify", "operator")
    assert d["state"] == "verifying" and d["stage_due_at"] is not None
    d = act(client, session, cid, "verify", "inspector001", confirmed=True, note="现场属实")
    assert (d["state"], d["verify_confirmed"]) == ("verified", True)
    d = act(client, session, cid, "register", "shiftlead")
    assert d["state"] == "registered"
    d = act(client, session, cid, "dispatch", "dispatcher")
    assert (d["state"], d["department_code"]) == ("dispatched", "HW")
    from datetime import datetime

    dispatched = datetime.fromisoformat(d["dispatched_at"])
    assert datetime.fromisoformat(d["due_at"]) == disposal_due(dispatched, "4wh")
    d = act(client, session, cid, "sign", "handler_hw")
    assert d["state"] == "processing"
    d = act(client, session, cid, "feedback", "handler_hw", note="已清运完毕")
    assert d["state"] == "feedback"
    d = act(client, session, cid, "send_check", "operator")
    assert d["state"] == "checking"
    d = act(client, session, cid, "check", "inspector001", passed=True)
    assert d["state"] == "checked"
    d = act(client, session, cid, "close", "shiftlead", note="同意结案")
    assert d["state"] == "closed"
    assert d["close_type"] == "normal" and d["rework_count"] == 0
    assert _set(d) == set(DT_FIELDS) - {"voided_at", "merged_at"}
    assert [e["action"] for e in d["events"]] == [
        "report",
        "send_verify",
        "verify",
        "register",
        "dispatch",
        "sign",
        "feedback",
        "send_check",
        "check",
        "close",
    ]
    assert [e["to_state"] for e in d["events"]][-1] == "closed"
    assert d["events"][5]["actor_role"] == "handler"
    # The anonymous citizen follows the case by number + query code and rates it.
    t = client.get(f"/api/v1/track/{rep['number']}", params={"code": rep["query_code"]}).json()
    assert t["state_label"] == "已结案" and t["timeline"][0]["label"] == "上报"
    assert client.get(f"/api/v1/track/{rep['number']}", params={"code": "WRONG1"}).status_code == 404
    r = client.post(
        f"/api/v1/track/{rep['number']}/rate",
        json={"rating": 5, "note": "很快", "query_code": rep["query_code"]},
    )
    assert r.status_code == 200, r.text
    d = client.get(f"/api/v1/cases/{cid}", headers=auth(session, "shiftlead")).json()
    assert (d["rating"], d["rating_text"]) == (5, "很快")
    r = client.post(
        f"/api/v1/track/{rep['number']}/rate", json={"rating": 1, "query_code": rep["query_code"]}
    )
    assert r.status_code == 409  # rated once


def test_verify_denied_then_voided(client, session) -> None:
    cid = _report(client, session)["id"]
    act(client, session, cid, "send_verify", "operator")
    d = act(client, session, cid, "verify", "inspector001", confirmed=False, note="现场无此问题")
    assert d["allowed_actions"] == []  # an inspector has nothing more to do
    r = client.post(f"/api/v1/cases/{cid}/actions/register", json={}, headers=auth(session, "shiftlead"))
    assert r.status_code == 409 and "不属实" in r.json()["detail"]
    assert "void" in r.json()["allowed"]
    d = act(client, session, cid, "void", "shiftlead", note="核实不属实")
    assert d["state"] == "voided" and d["voided_at"] and d["registered_at"] is None


def _to_dispatched(client, session, cid: int, dept: str | None = None) -> dict[str, Any]:
    act(client, session, cid, "send_verify", "operator")
    act(client, session, cid, "verify", "inspector001", confirmed=True)
    act(client, session, cid, "register", "shiftlead")
    return act(client, session, cid, "dispatch", "dispatcher", **({"department_code": dept} if dept else {}))


def test_return_then_redispatch(client, session) -> None:
    cid = _report(client, session)["id"]
    d = _to_dispatched(client, session, cid, "SZ")
    assert d["department_code"] == "SZ"
    first_due = d["due_at"]
    r = client.post(f"/api/v1/cases/{cid}/actions/return", json={}, headers=auth(session, "handler_sz"))
    assert r.status_code == 422 and "note" in r.json()["detail"]  # a reason is required
    d = act(client, session, cid, "return", "handler_sz", note="垃圾清运不属于市政职责")
    assert (d["state"], d["department_code"], d["return_count"]) == ("returned", None, 1)
    # The returning handler no longer reads the case.
    assert client.get(f"/api/v1/cases/{cid}", headers=auth(session, "handler_sz")).status_code == 403
    d = act(client, session, cid, "dispatch", "dispatcher")
    assert (d["state"], d["department_code"]) == ("dispatched", "HW")
    assert d["due_at"] >= first_due
    assert [e["action"] for e in d["events"]][-3:] == ["dispatch", "return", "dispatch"]


def test_failed_check_rework_then_closed(client, session) -> None:
    cid = _report(client, session)["id"]
    due = _to_dispatched(client, session, cid)["due_at"]
    for passed in (False, True):
        act(client, session, cid, "sign", "handler_hw")
        act(client, session, cid, "feedback", "handler_hw", note="已处理")
        act(client, session, cid, "send_check", "operator")
        d = act(client, session, cid, "check", "inspector001", passed=passed, note="复查")
        if not passed:
            assert (d["state"], d["rework_count"], d["signed_at"]) == ("dispatched", 1, None)
            assert d["due_at"] == due  # rework keeps the original due time
    d = act(client, session, cid, "close", "shiftlead")
    assert (d["state"], d["rework_count"], d["close_type"]) == ("closed", 1, "normal")
    assert [e["action"] for e in d["events"]].count("check") == 2


def test_extension_requested_and_approved(client, session) -> None:
    from datetime import datetime

    cid = _report(client, session)["id"]
    due = datetime.fromisoformat(_to_dispatched(client, session, cid)["due_at"])
    act(client, session, cid, "sign", "handler_hw")
    d = act(client, session, cid, "extend", "handler_hw", limit="2wd", note="需协调物业")
    assert d["extension_requested_limit"] == "2wd" and "approve_extension" not in d["allowed_actions"]
    act(client, session, cid, "extend", "handler_hw", expect=409, limit="1wd", note="再次申请")
    d = act(client, session, cid, "approve_extension", "shiftlead", approved=True)
    assert datetime.fromisoformat(d["due_at"]) == disposal_due(due, "2wd")
    assert (d["extension_count"], d["extension_requested_limit"]) == (1, None)


def test_hold_and_release(client, session) -> None:
    cid = _report(client, session)["id"]
    _to_dispatched(client, session, cid)
    d = act(client, session, cid, "hold", "shiftlead", note="需专项资金", review_on="2026-12-31")
    assert d["held"] is True and d["hold_reason"] == "需专项资金" and d["light"] == "none"
    act(client, session, cid, "sign", "handler_hw", expect=409)  # parked
    d = act(client, session, cid, "release", "shiftlead")
    assert d["held"] is False and d["state"] == "dispatched"
    act(client, session, cid, "sign", "handler_hw")


def test_merge_and_unmerge(client, session) -> None:
    a = _report(client, session)["id"]
    b = _report(client, session, description="路面上有一大摊渣土没人清", category="E0103")["id"]
    d = act(client, session, b, "merge", "operator", master_case_id=a)
    assert d["state"] == "merged" and d["master_case_id"] == a
    master = client.get(f"/api/v1/cases/{a}", headers=auth(session, "operator")).json()
    assert master["report_count"] == 2 and master["events"][-1]["action"] == "merge_in"
    act(client, session, a, "merge", "operator", expect=422, master_case_id=a)
    d = act(client, session, b, "unmerge", "operator")
    assert d["state"] == "received" and d["master_case_id"] is None
    assert client.get(f"/api/v1/cases/{a}", headers=auth(session, "operator")).json()["report_count"] == 1


def _closed(client, session) -> int:
    cid = _report(client, session)["id"]
    _to_dispatched(client, session, cid)
    act(client, session, cid, "sign", "handler_hw")
    act(client, session, cid, "feedback", "handler_hw", note="已清理")
    act(client, session, cid, "send_check", "operator")
    act(client, session, cid, "check", "inspector001", passed=True)
    act(client, session, cid, "close", "shiftlead")
    return cid


def test_reopen_after_citizen_says_not_solved(client, session) -> None:
    cid = _closed(client, session)
    d = act(client, session, cid, "reopen", "shiftlead", note="市民反映仍有垃圾")
    assert (d["state"], d["reopen_count"], d["closed_at"], d["close_type"]) == ("dispatched", 1, None, None)
    assert d["department_code"] == "HW"


def test_rating_by_logged_in_citizen(client, session) -> None:
    p = grid_point(session, 5)
    r = client.post(
        "/api/v1/reports",
        headers=auth(session, "citizen"),
        json={"description": "路灯不亮了", "lng": p.lng, "lat": p.lat, "category_code": "C0118"},
    )
    assert r.status_code == 201 and r.json()["query_code"] is None
    mine = client.get("/api/v1/cases", headers=auth(session, "citizen")).json()
    assert [c["id"] for c in mine["items"]] == [r.json()["id"]]


def test_supervise_and_special_close(client, session) -> None:
    cid = _report(client, session)["id"]
    _to_dispatched(client, session, cid)
    d = act(client, session, cid, "supervise", "leader", note="请加快办理")
    assert d["supervised"] is True and d["events"][-1]["action"] == "supervise"
    act(client, session, cid, "close", "shiftlead", expect=422, special=True)
    d = act(client, session, cid, "close", "shiftlead", special=True, note="长期挂账，决定特殊结案")
    assert (d["state"], d["close_type"]) == ("closed", "special")
