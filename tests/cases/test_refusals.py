"""Every action from every state as every role: refused with 403 (role or reach) or 409 (state), nothing
written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from builders import advance, auth, make_case, principal
from civicgrid.cases.scope import role_in_scope
from civicgrid.cases.states import RULES, State
from civicgrid.cases.transition import CASE_WORKFLOW
from civicgrid.models import Case, CaseEvent

USERS = ("citizen", "inspector001", "operator", "shiftlead", "dispatcher", "handler_hw", "leader", "admin")

V = ("send_verify", "operator", {})
Y = ("verify", "inspector001", {"confirmed": True})
R = ("register", "shiftlead", {})
D = ("dispatch", "dispatcher", {})
S = ("sign", "handler_hw", {})
F = ("feedback", "handler_hw", {"note": "已处理"})
C = ("send_check", "operator", {})
K = ("check", "inspector001", {"passed": True})
PATHS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "received": [],
    "verifying": [V],
    "verified": [V, Y],
    "registered": [V, Y, R],
    "dispatched": [V, Y, R, D],
    "processing": [V, Y, R, D, S],
    "returned": [V, Y, R, D, ("return", "handler_hw", {"note": "非本部门"})],
    "feedback": [V, Y, R, D, S, F],
    "checking": [V, Y, R, D, S, F, C],
    "checked": [V, Y, R, D, S, F, C, K],
    "closed": [V, Y, R, D, S, F, C, K, ("close", "shiftlead", {})],
    "voided": [("void", "shiftlead", {"note": "不予立案"})],
}


def _case_in(session, state: str) -> Case:
    case = make_case(session, source="citizen", point=None)
    if state == "merged":
        master = make_case(session, source="citizen", category="E0103")
        advance(session, case, [("merge", "operator", {"master_case_id": master.id})])
    else:
        advance(session, case, PATHS[state])
    assert case.state == state
    session.flush()
    return case


def _expected(session, case: Case, action: str, user: str) -> int | None:
    rule = RULES[action]
    p = principal(session, user)
    held = [r for r in p.roles if r in rule.roles]
    if not held or not any(role_in_scope(p, r, case) for r in held):
        return 403
    if case.state not in rule.from_states:
        return 409
    return None  # a legitimate action: covered by the lifecycle tests


@pytest.mark.parametrize("state", [s.value for s in State])
def test_every_refused_action_is_refused_and_writes_nothing(client, session, state: str) -> None:
    case = _case_in(session, state)
    headers = {u: auth(session, u) for u in USERS}
    checked = 0
    for action in RULES:
        for user in USERS:
            want = _expected(session, case, action, user)
            if want is None:
                continue
            before_events = session.scalar(select(func.count()).select_from(CaseEvent))
            before = (case.state, case.updated_at, case.department_id, case.due_at)
            r = client.post(f"/api/v1/cases/{case.id}/actions/{action}", json={}, headers=headers[user])
            # Role, reach and state are checked before the body, so an empty body still gets the refusal.
            assert r.status_code == want, (state, action, user, r.status_code, r.text)
            body = r.json()
            assert body["status"] == want and body["detail"]
            if want == 409:
                assert "allowed" in body
            session.expire_all()
            assert (case.state, case.updated_at, case.department_id, case.due_at) == before
            assert session.scalar(select(func.count()).select_from(CaseEvent)) == before_events
            checked += 1
    assert checked > 50


def test_unknown_action_is_a_clear_422(client, session) -> None:
    case = _case_in(session, "received")
    r = client.post(f"/api/v1/cases/{case.id}/actions/teleport", json={}, headers=auth(session, "operator"))
    assert r.status_code == 422 and "未知的操作" in r.json()["detail"]


def test_guards_are_409_with_allowed_actions(session) -> None:
    case = _case_in(session, "processing")
    assert CASE_WORKFLOW.blocked_reason("approve_extension", case) == "没有待审批的延期申请"
