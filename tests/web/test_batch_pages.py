"""Batch actions through the pages (no browser): the batch bar and checkboxes by role, the per-case result
page, a malformed batch sent back with a message, and the live-refresh and shortcut hooks on the lists."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import advance, grid_point, make_case
from civicgrid.models import Case, User
from civicgrid.org.tokens import issue_token


def _login(client: Any, session: Session, username: str) -> None:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    client.cookies.set("civicgrid_token", issue_token(user.id)[0])


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert match, html[:300]
    return match.group(1)


def _dispatched(session: Session, dept: str, index: int) -> Case:
    case = make_case(session, point=grid_point(session, index), source="inspector")
    advance(
        session, case, [("register", "shiftlead", {}), ("dispatch", "dispatcher", {"department_code": dept})]
    )
    session.flush()
    return case


def test_dept_inbox_batch_sign_lists_each_case_with_its_result(client: Any, session: Session) -> None:
    a, b = _dispatched(session, "HW", 5), _dispatched(session, "HW", 6)
    signed = _dispatched(session, "HW", 7)
    advance(session, signed, [("sign", "handler_hw", {})])
    session.flush()
    _login(client, session, "handler_hw")
    page = client.get("/dept?tab=all")
    assert 'id="batch-form"' in page.text and 'value="sign"' in page.text
    assert f'name="id" value="{a.id}" form="batch-form"' in page.text
    assert 'value="dispatch"' not in page.text  # a handler signs; dispatching is the dispatcher's
    done = client.post(
        "/cases/batch",
        data={
            "csrf_token": _token(page.text),
            "action": "sign",
            "id": [a.id, signed.id, b.id],
            "next": "/dept",
        },
    )
    assert done.status_code == 200
    assert "「签收」成功 2 件，未完成 1 件" in done.text
    rows = re.findall(
        r'<tr data-case-id="(\d+)" class="(batch-ok|batch-refused)">(.*?)</tr>', done.text, re.S
    )
    assert [(int(i), kind) for i, kind, _ in rows] == [
        (a.id, "batch-ok"),
        (signed.id, "batch-refused"),
        (b.id, "batch-ok"),
    ]
    assert a.number in rows[0][2] and "成功" in rows[0][2]
    assert "案卷当前状态为「处置中」，不能执行「签收」" in rows[1][2]
    session.expire_all()
    assert (a.state, b.state) == ("processing", "processing")


def test_queue_offers_batch_actions_by_role(client: Any, session: Session) -> None:
    _dispatched(session, "HW", 5)
    _login(client, session, "dispatcher")
    page = client.get("/center?tab=all").text
    assert 'value="dispatch"' in page and "按派遣规则（各自的推荐部门）" in page
    assert 'value="close"' not in page and "data-batch-item" in page
    assert 'data-live="15"' in page and 'data-shortcuts="queue"' in page and "data-sound-toggle" in page
    _login(client, session, "shiftlead")
    page = client.get("/center?tab=all").text
    assert 'value="close"' in page and 'value="dispatch"' not in page
    _login(client, session, "leader")
    page = client.get("/center?tab=all").text
    assert 'id="batch-form"' not in page and "data-batch-item" not in page and "data-sound-toggle" not in page


def test_batch_dispatch_to_one_department_from_the_form(client: Any, session: Session) -> None:
    cases = [make_case(session, point=grid_point(session, i), source="inspector") for i in (5, 6)]
    for c in cases:
        advance(session, c, [("register", "shiftlead", {})])
    session.flush()
    _login(client, session, "dispatcher")
    token = _token(client.get("/center").text)
    done = client.post(
        "/cases/batch",
        data={
            "csrf_token": token,
            "action": "dispatch",
            "department_code": "SZ",
            "id": [c.id for c in cases],
        },
    )
    assert "「派遣」成功 2 件，未完成 0 件" in done.text
    session.expire_all()
    assert all(c.state == "dispatched" for c in cases)


def test_a_malformed_batch_goes_back_with_a_message_and_writes_nothing(client: Any, session: Session) -> None:
    a = _dispatched(session, "HW", 5)
    _login(client, session, "handler_hw")
    token = _token(client.get("/dept").text)
    nothing = client.post(
        "/cases/batch", data={"csrf_token": token, "action": "sign", "next": "/dept"}, follow_redirects=False
    )
    assert nothing.status_code == 303 and nothing.headers["location"] == "/dept"
    assert "请至少选择一件案卷" in client.get("/dept").text
    wrong = client.post(
        "/cases/batch", data={"csrf_token": token, "action": "void", "id": [a.id]}, follow_redirects=False
    )
    assert wrong.status_code == 303
    forged = client.post("/cases/batch", data={"action": "sign", "id": [a.id]}, follow_redirects=False)
    assert forged.status_code == 403
    session.expire_all()
    assert a.state == "dispatched"


def test_inspector_tasks_and_case_page_carry_the_live_and_shortcut_hooks(
    client: Any, session: Session
) -> None:
    case = make_case(session, point=grid_point(session, 5), source="citizen")
    session.flush()
    _login(client, session, "operator")
    page = client.get(f"/cases/{case.id}").text
    assert f'data-shortcuts="case" data-case-id="{case.id}"' in page and 'id="action-send_verify"' in page
    assert "/static/js/live.js" in page and "/static/js/keys.js" in page
    _login(client, session, "inspector001")
    tasks = client.get("/inspector").text
    assert 'data-live="30"' in tasks and 'id="tasks" data-live-region' in tasks
