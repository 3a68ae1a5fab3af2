"""The administrator's pages (系统管理): grids import, departments, categories and limits, routing rules,
users and API keys. Admin only; every change writes a security audit row in the same transaction
(POST → commit → redirect)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from civicgrid.catalog import admin as catalog_admin
from civicgrid.catalog.routing import STREET_OFFICE
from civicgrid.catalog.seed import LIMIT_UNITS
from civicgrid.catalog.service import active_categories, all_categories
from civicgrid.deps import DbSession, RowId, UnitOfWorkRoute
from civicgrid.errors import AppError, InvalidInput
from civicgrid.geo.grid_import import parse_grid_geojson
from civicgrid.geo.store import generations, store_import
from civicgrid.open311 import keys as api_keys
from civicgrid.ops.overview import overview as admin_overview
from civicgrid.org import accounts
from civicgrid.org import departments as depts_service
from civicgrid.org import service as users_service
from civicgrid.org.roles import ROLE_LABELS, Principal, user_roles
from civicgrid.security.audit import Actor, record_admin
from civicgrid.settings import get_settings
from civicgrid.web.render import render
from civicgrid.web.session import CsrfForm, flash, require_web_roles

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=UnitOfWorkRoute)
Admin = Annotated[Principal, Depends(require_web_roles("admin"))]

TABS = (
    ("", "概览"),
    ("grids", "网格导入"),
    ("departments", "部门"),
    ("categories", "类别与时限"),
    ("routing", "派遣规则"),
    ("users", "用户与角色"),
    ("keys", "接口密钥"),
    ("outbox", "外发消息"),
)
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


# --- Helpers ------------------------------------------------------------------------------------------------


def _text(form: FormData, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _number(form: FormData, name: str, label: str, minimum: float = 0.0) -> float:
    try:
        value = float(_text(form, name))
    except ValueError:
        raise InvalidInput(f"{label}必须是数字") from None
    if value <= minimum:
        raise InvalidInput(f"{label}必须大于 {minimum:g}")
    return value


def _actor(request: Request, admin: Principal) -> Actor:
    return Actor(admin.user_id, request.client.host if request.client else "")


def _audit(session: Any, request: Request, admin: Principal, what: str, subject: str, **data: Any) -> None:
    record_admin(session, _actor(request, admin), what, subject, **data)


def _codes(form: FormData, name: str) -> list[str]:
    return [g for g in re.split(r"[\s,，;；]+", _text(form, name, 4000)) if g]


def _change(request: Request, session: Any, back: str, action: Callable[[], str]) -> Response:
    """Run one change: commit and flash its message, or roll back and flash the error; redirect back."""
    response = RedirectResponse(back, status_code=303)
    try:
        message = action()
    except AppError as exc:
        session.rollback()
        flash(response, exc.message, "error", request)
        return response
    session.commit()
    flash(response, message, "success", request)
    return response


def _page(request: Request, tab: str, template: str, **ctx: Any) -> HTMLResponse:
    return render(request, f"admin/{template}", tabs=TABS, tab=tab, **ctx)


# --- Overview -----------------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def overview(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    o = admin_overview(session)
    return _page(request, "", "overview.html", counts=o.counts, events=o.events, names=o.usernames)


# --- Grids import: upload → dry-run preview → confirm -------------------------------------------------------


def _pending_dir() -> Path:
    path = get_settings().data_dir / "grid-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _digits(form: FormData) -> int:
    raw = _text(form, "grid_digits") or str(get_settings().grid_digits)
    if raw not in ("2", "3"):
        raise InvalidInput("网格码位数只能是 2 或 3")
    return int(raw)


@router.get("/grids", response_class=HTMLResponse)
def grids_page(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return _page(request, "grids", "grids.html", generations=generations(session), preview=None)


@router.post("/grids/preview", response_class=HTMLResponse)
def grids_preview(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        response = RedirectResponse("/admin/grids", status_code=303)
        flash(response, "请选择要导入的 GeoJSON 文件", "error", request)
        return response
    data = upload.file.read(get_settings().max_upload_bytes + 1)
    digits = _digits(form)
    result = parse_grid_geojson(data, grid_digits=digits, district_code=get_settings().district_code)
    token = ""
    if result.ok:
        token = secrets.token_hex(16)
        (_pending_dir() / f"{token}.geojson").write_bytes(data)
    preview = {
        "summary": result.summary(),
        "errors": result.errors[:200],
        "ok": result.ok,
        "token": token,
        "filename": upload.filename,
        "name": _text(form, "name", 100) or upload.filename,
        "digits": digits,
    }
    return _page(request, "grids", "grids.html", generations=generations(session), preview=preview)


@router.post("/grids/commit")
def grids_commit(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        token = _text(form, "token")
        path = _pending_dir() / f"{token}.geojson"
        if not _TOKEN.match(token) or not path.is_file():
            raise InvalidInput("预览已过期，请重新上传文件")
        digits = _digits(form)
        result = parse_grid_geojson(
            path.read_bytes(), grid_digits=digits, district_code=get_settings().district_code
        )
        if not result.ok:
            raise InvalidInput("文件未通过校验，不能导入")
        name = _text(form, "name", 100) or "导入的网格"
        activate = _text(form, "activate") == "1"
        gen = store_import(session, result.grids, name=name, grid_digits=digits, activate=activate)
        _audit(
            session,
            request,
            admin,
            "grid_import",
            name,
            generation_id=gen.id,
            grids=len(result.grids),
            activate=activate,
        )
        path.unlink(missing_ok=True)
        return f"已导入网格版本「{name}」：{len(result.grids)} 个网格" + (
            "，并已启用" if activate else "（未启用）"
        )

    return _change(request, session, "/admin/grids", act)


# --- Departments --------------------------------------------------------------------------------------------


@router.get("/departments", response_class=HTMLResponse)
def departments_page(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return _page(
        request, "departments", "departments.html", departments=depts_service.all_departments(session)
    )


@router.post("/departments")
def department_add(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        dept = depts_service.create(
            session,
            _actor(request, admin),
            code=_text(form, "code", 20),
            name=_text(form, "name", 100),
            short_name=_text(form, "short_name", 40),
            kind="street_office" if _text(form, "kind") == "street_office" else "department",
            street_code=_text(form, "street_code", 20) or None,
        )
        return f"已添加部门：{dept.name}"

    return _change(request, session, "/admin/departments", act)


@router.post("/departments/{dept_id}")
def department_edit(
    request: Request, dept_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        dept = depts_service.rename(
            session,
            _actor(request, admin),
            dept_id,
            name=_text(form, "name", 100),
            short_name=_text(form, "short_name", 40),
        )
        return f"已更新部门：{dept.name}"

    return _change(request, session, "/admin/departments", act)


@router.post("/departments/{dept_id}/active")
def department_active(
    request: Request, dept_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        active = _text(form, "active") == "1"
        dept = depts_service.set_active(session, _actor(request, admin), dept_id, active)
        return f"已{'启用' if dept.active else '停用'}部门：{dept.name}"

    return _change(request, session, "/admin/departments", act)


# --- Categories and limits ----------------------------------------------------------------------------------


@router.get("/categories", response_class=HTMLResponse)
def categories_page(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return _page(
        request,
        "categories",
        "categories.html",
        categories=all_categories(session),
        units=LIMIT_UNITS,
        departments=depts_service.all_departments(session, active_only=True),
        street_office=STREET_OFFICE,
    )


@router.post("/categories/{code}")
def category_edit(request: Request, code: str, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        cat = catalog_admin.update_category(
            session,
            _actor(request, admin),
            code,
            limit_amount=_number(form, "limit_amount", "处置时限"),
            limit_unit=_text(form, "limit_unit"),
            urgent=_text(form, "urgent") == "1",
            department_code=_text(form, "department_code", 20) or None,
            merge_radius_m=_number(form, "merge_radius_m", "并案半径", minimum=-0.001),
            merge_window_h=_number(form, "merge_window_h", "并案时间窗", minimum=-0.001),
        )
        return f"已更新类别 {code} {cat.name}：处置时限 {cat.limit_text}"

    return _change(request, session, f"/admin/categories#cat-{code}", act)


# --- Routing rules ------------------------------------------------------------------------------------------


@router.get("/routing", response_class=HTMLResponse)
def routing_page(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return _page(
        request,
        "routing",
        "routing.html",
        rules=catalog_admin.routing_rules(session),
        categories=active_categories(session),
        departments=depts_service.all_departments(session, active_only=True),
    )


@router.post("/routing")
def routing_add(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        raw_priority = _text(form, "priority") or "0"
        if not raw_priority.lstrip("-").isdigit() or len(raw_priority) > 6:
            raise InvalidInput("优先级必须是整数")
        cat_code, area = _text(form, "category_code", 8) or None, _text(form, "area_code", 20) or None
        _rule, dept = catalog_admin.add_rule(
            session,
            _actor(request, admin),
            category_code=cat_code,
            area_code=area,
            department_code=_text(form, "department_code", 20),
            priority=int(raw_priority),
        )
        return f"已添加派遣规则：{cat_code or '全部类别'} × {area or '全区'} → {dept.name}"

    return _change(request, session, "/admin/routing", act)


@router.post("/routing/{rule_id}/delete")
def routing_delete(
    request: Request, rule_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        catalog_admin.delete_rule(session, _actor(request, admin), rule_id)
        return f"已删除派遣规则 #{rule_id}"

    return _change(request, session, "/admin/routing", act)


# --- Users and roles ----------------------------------------------------------------------------------------


def _users_page(request: Request, session: Any, **extra: Any) -> HTMLResponse:
    all_depts = depts_service.all_departments(session)
    return _page(
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
def users_page(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return _users_page(request, session)


@router.post("/users")
def user_add(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        user = accounts.create(
            session,
            _actor(request, admin),
            username=_text(form, "username", 64),
            password=str(form.get("password") or ""),
            roles=[r for r in form.getlist("roles") if isinstance(r, str)],
            display_name=_text(form, "display_name", 64),
            department_code=_text(form, "department_code", 20) or None,
            grid_codes=_codes(form, "grid_codes"),
        )
        return f"已创建用户：{user.username}"

    return _change(request, session, "/admin/users", act)


@router.post("/users/{user_id}/access")
def user_access(
    request: Request, user_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    """Change the roles, grids and department of an existing account (its logins end)."""

    def act() -> str:
        user = accounts.change_access(
            session,
            _actor(request, admin),
            user_id,
            roles=[r for r in form.getlist("roles") if isinstance(r, str)],
            grid_codes=_codes(form, "grid_codes"),
            department_code=_text(form, "department_code", 20),
        )
        return f"已更新用户 {user.username} 的角色、网格与部门"

    return _change(request, session, f"/admin/users#user-{user_id}", act)


@router.post("/users/{user_id}/active")
def user_active(
    request: Request, user_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        active = _text(form, "active") == "1"
        user = accounts.set_active(session, _actor(request, admin), user_id, active)
        return f"已{'启用' if active else '停用'}用户：{user.username}"

    return _change(request, session, "/admin/users", act)


@router.post("/users/{user_id}/password", response_class=HTMLResponse)
def user_password(
    request: Request, user_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    """Set a random temporary password and show it once (it is never stored in clear, nor put in a cookie)."""
    user, temporary = accounts.reset_password(session, _actor(request, admin), user_id)
    session.commit()
    return _users_page(request, session, reset={"username": user.username, "password": temporary})


# --- API keys -----------------------------------------------------------------------------------------------


def _keys_page(request: Request, session: Any, new_key: api_keys.NewKey | None = None) -> HTMLResponse:
    return _page(request, "keys", "keys.html", clients=api_keys.list_keys(session), new_key=new_key)


@router.get("/keys", response_class=HTMLResponse)
def keys_page(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return _keys_page(request, session)


@router.post("/keys", response_class=HTMLResponse)
def key_create(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    """Create a key and show it once on the page that answers the POST (never in a redirect or a cookie)."""
    try:
        new = api_keys.create_key(session, _text(form, "name", 100))
    except AppError as exc:
        session.rollback()
        response = RedirectResponse("/admin/keys", status_code=303)
        flash(response, exc.message, "error", request)
        return response
    _audit(session, request, admin, "api_key_create", new.name, client_id=new.client_id)
    session.commit()
    return _keys_page(request, session, new)


@router.post("/keys/{client_id}/revoke")
def key_revoke(
    request: Request, client_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        client = api_keys.revoke_key(session, client_id)
        _audit(session, request, admin, "api_key_revoke", client.name, client_id=client.id)
        return f"已吊销接口密钥：{client.name}"

    return _change(request, session, "/admin/keys", act)
