"""Batch actions through the JSON API: one result per case, refused cases leave nothing written, scoping,
a malformed batch refused as a whole, and Idempotency-Key replay."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from builders import advance, auth, grid_point, make_case
from civicgrid.models import Case, CaseEvent


def _registered(session, index: int = 5) -> Case:
    case = make_case(session, point=grid_point(session, index), source="inspector")
    advance(session, case, [("register", "shiftlead", {})])
    session.flush()
    return case


def _dispatched(session, dept: str, index: int = 5) -> Case:
    case = _registered(session, index)
    advance(session, case, [("dispatch", "dispatcher", {"department_code": dept})])
    session.flush()
    return case


def _events(session, case: Case) -> int:
    return session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id))


def _batch(client, session, user: str, action: str, ids: list[int], **kw: Any) -> Any:
    headers = auth(session, user) | kw.pop("headers", {})
    return client.post(
        "/api/v1/cases/batch", json={"action": action, "ids": ids, "data": kw}, headers=headers
    )


def test_batch_sign_two_ok_and_one_refused_with_its_reason(client, session) -> None:
    a, b = _dispatched(session, "HW", 5), _dispatched(session, "HW", 6)
    c = _dispatched(session, "HW", 7)
    advance(session, c, [("sign", "handler_hw", {})])  # signed already: 处置中
    session.flush()
    before = _events(session, c)
    r = _batch(client, session, "handler_hw", "sign", [a.id, c.id, b.id])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["action"], body["action_label"], body["succeeded"], body["refused"]) == (
        "sign",
        "签收",
        2,
        1,
    )
    assert [(x["id"], x["number"], x["ok"]) for x in body["results"]] == [
        (a.id, a.number, True),
        (c.id, c.number, False),
        (b.id, b.number, True),
    ]
    assert body["results"][0]["state"] == "processing" and body["results"][0]["state_label"] == "处置中"
    assert body["results"][1]["problem"] == {
        "type": "urn:civicgrid:problem:illegal_transition",
        "title": "当前状态不允许此操作",
        "status": 409,
        "detail": "案卷当前状态为「处置中」，不能执行「签收」",
    }
    session.expire_all()
    assert (a.state, b.state, c.state) == ("processing", "processing", "processing")
    assert a.signed_at is not None and b.signed_at is not None
    assert _events(session, c) == before  # nothing written for the refused case


def test_batch_dispatch_routes_each_case_or_sends_all_to_one_department(client, session) -> None:
    a, b = _registered(session, 5), _registered(session, 6)
    closed = _registered(session, 7)
    advance(session, closed, [("void", "shiftlead", {"note": "重复上报"})])
    session.flush()
    r = _batch(client, session, "dispatcher", "dispatch", [a.id, b.id, closed.id])
    body = r.json()
    assert [x["ok"] for x in body["results"]] == [True, True, False]
    assert body["results"][2]["problem"]["detail"] == "案卷当前状态为「已作废」，不能执行「派遣」"
    session.expire_all()
    assert a.department_id is not None and a.due_at is not None and closed.department_id is None

    c, d = _registered(session, 8), _registered(session, 9)
    r = _batch(client, session, "dispatcher", "dispatch", [c.id, d.id], department_code="SZ")
    assert r.json()["succeeded"] == 2
    detail = client.get(f"/api/v1/cases/{c.id}", headers=auth(session, "dispatcher")).json()
    assert detail["department_code"] == "SZ"


def test_a_handler_cannot_batch_another_departments_cases(client, session) -> None:
    mine, theirs = _dispatched(session, "SZ", 5), _dispatched(session, "HW", 6)
    r = _batch(client, session, "handler_sz", "sign", [theirs.id, mine.id, 2_000_000_000])
    results = r.json()["results"]
    assert [(x["ok"], x["number"]) for x in results] == [(False, None), (True, mine.number), (False, None)]
    assert results[0]["problem"]["status"] == 403
    assert results[0]["problem"]["detail"] == "该案卷不在您的职责范围内"
    assert results[2]["problem"]["status"] == 404
    session.expire_all()
    assert (theirs.state, theirs.signed_at) == ("dispatched", None)


def test_a_role_without_the_action_is_refused_per_case(client, session) -> None:
    a = _registered(session, 5)
    r = _batch(client, session, "operator", "dispatch", [a.id])
    item = r.json()["results"][0]
    assert item["ok"] is False and item["problem"]["status"] == 403
    assert item["problem"]["detail"] == "「派遣」只能由派遣员执行"


def test_malformed_batches_are_refused_whole(client, session) -> None:
    a = _registered(session, 5)
    r = _batch(client, session, "dispatcher", "dispatch", [a.id], department_code="NOPE")
    assert r.status_code == 422 and r.json()["detail"] == "未知的处置部门代码：NOPE"
    r = _batch(client, session, "dispatcher", "void", [a.id])
    assert r.status_code == 422
    r = _batch(client, session, "dispatcher", "dispatch", [])
    assert r.status_code == 422
    r = _batch(client, session, "dispatcher", "dispatch", list(range(1, 102)))
    assert r.status_code == 422
    session.expire_all()
    assert a.state == "registered"
    assert client.post("/api/v1/cases/batch", json={"action": "sign", "ids": [a.id]}).status_code == 401


def test_duplicate_ids_act_once_and_a_retry_with_the_same_key_is_replayed(client, session) -> None:
    a, b = _dispatched(session, "HW", 5), _dispatched(session, "HW", 6)
    key = {"Idempotency-Key": "batch-sign-1"}
    first = _batch(client, session, "handler_hw", "sign", [a.id, b.id, a.id], headers=key)
    assert [x["id"] for x in first.json()["results"]] == [a.id, b.id]
    again = _batch(client, session, "handler_hw", "sign", [a.id, b.id, a.id], headers=key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and again.json()["succeeded"] == 2
    assert _events(session, a) == 4  # report, register, dispatch, sign: signed once
    other = _batch(client, session, "handler_hw", "sign", [a.id], headers=key)
    assert other.status_code == 422
