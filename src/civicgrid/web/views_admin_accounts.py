"""系统管理 · 用户与角色, 接口密钥: accounts (create, roles, grids and department, (de)activate, reset the
password) and Open311 API keys, through the org and open311 services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from civicgrid.deps import DbSession, RowId, UnitOfWorkRoute
from civicgrid.errors import AppError
from civicgrid.open311 import keys as api_keys
from civicgrid.org import accounts
from civicgrid.org import departments as depts_service
from civicgrid.org import service as users_service
from civicgrid.org.roles import ROLE_LABELS, user_roles
from civicgrid.web.admin_common import Admin, actor, audit, change, codes, page, text
from civicgrid.web.session import CsrfForm, flash

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=UnitOfWorkRoute)


# --- Users and roles ----------------------------------------------------------------------------------------


def _userspage(request: Request, session: Any, **extra: Any) -> HTMLResponse:
    all_depts = depts_service.all_departments(session)
    return page(
        request,
        "users",
        "users.html",
        users=users_service.all_users(session),
        dept_names={d.id: d.name for d in all_depts},
        dept_codes={d.id: d.code for d in all_depts},
        roles=[(r, ROLE_LABELS[r]) for r in user_roles()],
        departments=[d for d in all_depts if d.active],
        **extra,
    )


@router.get("/users", response_class=HTMLResponse)
def userspage(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return _userspage(request, session)


@router.post("/users")
def user_add(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        user = accounts.create(
            session,
            actor(request, admin),
            username=text(form, "username", 64),
            password=str(form.get("password") or ""),
            roles=[r for r in form.getlist("roles") if isinstance(r, str)],
            display_name=text(form, "display_name", 64),
            department_code=text(form, "department_code", 20) or None,
            grid_codes=codes(form, "grid_codes"),
        )
        return f"已创建用户：{user.username}"

    return change(request, session, "/admin/users", act)


@router.post("/users/{user_id}/access")
def user_access(
    request: Request, user_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    """Change the roles, grids and department of an existing account (its logins end)."""

    def act() -> str:
        user = accounts.change_access(
            session,
            actor(request, admin),
            user_id,
            roles=[r for r in form.getlist("roles") if isinstance(r, str)],
            grid_codes=codes(form, "grid_codes"),
            department_code=text(form, "department_code", 20),
        )
        return f"已更新用户 {user.username} 的角色、网格与部门"

    return change(request, session, f"/admin/users#user-{user_id}", act)


@router.post("/users/{user_id}/active")
def user_active(
    request: Request, user_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        active = text(form, "active") == "1"
        user = accounts.set_active(session, actor(request, admin), user_id, active)
        return f"已{'启用' if active else '停用'}用户：{user.username}"

    return change(request, session, "/admin/users", act)


@router.post("/users/{user_id}/password", response_class=HTMLResponse)
def user_password(
    request: Request, user_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    """Set a random temporary password and show it once (it is never stored in clear, nor put in a cookie)."""
    user, temporary = accounts.reset_password(session, actor(request, admin), user_id)
    session.commit()
    return _userspage(request, session, reset={"username": user.username, "password": temporary})


# --- API keys -----------------------------------------------------------------------------------------------


def _keyspage(request: Request, session: Any, new_key: api_keys.NewKey | None = None) -> HTMLResponse:
    return page(request, "keys", "keys.html", clients=api_keys.list_keys(session), new_key=new_key)


@router.get("/keys", response_class=HTMLResponse)
def keyspage(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return _keyspage(request, session)


@router.post("/keys", response_class=HTMLResponse)
def key_create(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    """Create a key and show it once on the page that answers the POST (never in a redirect or a cookie)."""
    try:
        new = api_keys.create_key(session, text(form, "name", 100))
    except AppError as exc:
        session.rollback()
        response = RedirectResponse("/admin/keys", status_code=303)
        flash(response, exc.message, "error", request)
        return response
    audit(session, request, admin, "api_key_create", new.name, client_id=new.client_id)
    session.commit()
    return _keyspage(request, session, new)


@router.post("/keys/{client_id}/revoke")
def key_revoke(
    request: Request, client_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        client = api_keys.revoke_key(session, client_id)
        audit(session, request, admin, "api_key_revoke", client.name, client_id=client.id)
        return f"已吊销接口密钥：{client.name}"

    return change(request, session, "/admin/keys", act)
