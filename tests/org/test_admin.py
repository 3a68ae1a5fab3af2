"""The administrator's changes go through services with JSON routes (and the web pages call the same
services): an existing account's roles, grids and department; departments; category limits; routing rules.
Each is audited, refused changes write nothing, and a change of reach ends the account's logins."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import auth
from civicgrid.models import Category, Department, RoutingRule, SecurityEvent, User
from civicgrid.org.tokens import issue_token


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def _last_event(session: Session) -> SecurityEvent:
    ev = session.scalars(select(SecurityEvent).order_by(SecurityEvent.id.desc())).first()
    assert ev is not None
    return ev


def test_an_existing_inspector_gets_other_grids_and_roles_and_must_log_in_again(
    client: Any, session: Session
) -> None:
    insp = _user(session, "inspector001")
    old = {"Authorization": f"Bearer {issue_token(insp.id, version=insp.token_version)[0]}"}
    assert client.get("/api/v1/me", headers=old).status_code == 200
    street2 = "320508002"
    r = client.patch(
        f"/api/v1/users/{insp.id}",
        json={"roles": ["inspector", "operator"], "grid_codes": [street2]},
        headers=auth(session, "admin"),
    )
    assert r.status_code == 200, r.text
    assert (sorted(r.json()["roles"]), r.json()["grid_codes"]) == (["inspector", "operator"], [street2])
    ev = _last_event(session)
    assert (ev.kind, ev.subject) == ("admin_user_access", "inspector001")
    assert ev.data["after"]["grids"] == [street2] and ev.data["before"]["grids"] == ["320508001"]
    assert client.get("/api/v1/me", headers=old).status_code == 401  # its reach changed: log in again


def test_a_refused_change_writes_nothing(client: Any, session: Session) -> None:
    insp = _user(session, "inspector001")
    before = (sorted(insp.role_names), sorted(insp.grid_codes), insp.token_version)
    admin = auth(session, "admin")
    for body, message in (
        ({"grid_codes": ["3"]}, "未知的网格代码"),
        ({"roles": ["emperor"]}, "角色无效"),
        ({"roles": ["handler"]}, "必须指定所属部门"),
        ({"department_code": "NOPE"}, "未知的部门代码"),
    ):
        r = client.patch(f"/api/v1/users/{insp.id}", json=body, headers=admin)
        assert r.status_code == 422 and message in r.json()["detail"], (body, r.text)
    session.expire_all()
    insp = _user(session, "inspector001")
    assert (sorted(insp.role_names), sorted(insp.grid_codes), insp.token_version) == before
    me = _user(session, "admin")
    r = client.patch(f"/api/v1/users/{me.id}", json={"roles": ["leader"]}, headers=admin)
    assert r.status_code == 422 and "不能取消自己的管理员角色" in r.json()["detail"]
    assert (
        client.patch(f"/api/v1/users/{insp.id}", json={}, headers=auth(session, "leader")).status_code == 403
    )


def test_password_reset_returns_a_temporary_password_once(client: Any, session: Session) -> None:
    insp = _user(session, "inspector001")
    r = client.post(f"/api/v1/users/{insp.id}/password-reset", headers=auth(session, "admin"))
    assert r.status_code == 200
    temporary = r.json()["temporary_password"]
    assert _last_event(session).kind == "admin_user_password_reset"
    login = client.post("/api/v1/auth/token", data={"username": "inspector001", "password": temporary})
    assert login.status_code == 200


def test_departments_limits_and_routing_rules(client: Any, session: Session) -> None:
    admin = auth(session, "admin")
    r = client.post(
        "/api/v1/departments",
        json={"code": "hb2", "name": "环保二所", "short_name": "环保二所"},
        headers=admin,
    )
    assert r.status_code == 201 and r.json()["code"] == "HB2"
    dept_id = r.json()["id"]
    again = client.post("/api/v1/departments", json={"code": "HB2", "name": "重复"}, headers=admin)
    assert again.status_code == 422 and "部门代码已存在：HB2" in again.json()["detail"]
    r = client.patch(f"/api/v1/departments/{dept_id}", json={"active": False}, headers=admin)
    assert r.status_code == 200 and session.get(Department, dept_id).active is False  # type: ignore[union-attr]

    r = client.put(
        "/api/v1/categories/C0101/limits",
        json={"limit_amount": 2, "limit_unit": "wd", "urgent": True, "department_code": "@street"},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["limit"] == "2wd"
    assert _last_event(session).data["after"]["limit"] == "2wd"
    bad = client.put(
        "/api/v1/categories/C0101/limits", json={"limit_amount": 2, "limit_unit": "days"}, headers=admin
    )
    assert bad.status_code == 422
    assert session.get(Category, "C0101").limit_unit == "wd"  # type: ignore[union-attr]

    r = client.post(
        "/api/v1/routing-rules",
        json={"category_code": "C0101", "area_code": "320508001", "department_code": "HW", "priority": 5},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    assert rule_id in [x["id"] for x in client.get("/api/v1/routing-rules", headers=admin).json()]
    unknown = client.post(
        "/api/v1/routing-rules", json={"area_code": "999", "department_code": "HW"}, headers=admin
    )
    assert unknown.status_code == 422 and "没有这个区域代码：999" in unknown.json()["detail"]
    assert client.delete(f"/api/v1/routing-rules/{rule_id}", headers=admin).status_code == 204
    assert session.get(RoutingRule, rule_id) is None
    assert client.delete(f"/api/v1/routing-rules/{rule_id}", headers=admin).status_code == 404


def test_the_admin_page_changes_an_existing_users_roles(client: Any, session: Session) -> None:
    admin = _user(session, "admin")
    client.cookies.set("civicgrid_token", issue_token(admin.id, version=admin.token_version)[0])
    page = client.get("/admin/users").text
    insp = _user(session, "inspector001")
    assert f'action="/admin/users/{insp.id}/access"' in page
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post(
        f"/admin/users/{insp.id}/access",
        data={
            "csrf_token": token,
            "roles": ["inspector", "leader"],
            "grid_codes": "320508001",
            "department_code": "",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    session.expire_all()
    assert sorted(_user(session, "inspector001").role_names) == ["inspector", "leader"]
