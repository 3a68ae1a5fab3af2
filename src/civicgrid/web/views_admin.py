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
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from civicgrid.catalog.routing import STREET_OFFICE
from civicgrid.deps import DbSession, RowId, UnitOfWorkRoute
from civicgrid.errors import AppError, InvalidInput, NotFound
from civicgrid.geo.grid_import import parse_grid_geojson
from civicgrid.geo.store import store_import
from civicgrid.models import (
    ApiClient,
    Area,
    Category,
    Department,
    GridGeneration,
    RoutingRule,
    SecurityEvent,
    User,
)
from civicgrid.open311 import keys as api_keys
from civicgrid.org.roles import ROLE_LABELS, Principal, user_roles
from civicgrid.org.service import create_user, reset_password, set_active
from civicgrid.security import audit
from civicgrid.settings import get_settings
from civicgrid.sla.clock import UNITS
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
_CODE = re.compile(r"^[A-Za-z0-9_]{2,20}$")
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


def _audit(
    session: Session, request: Request, admin: Principal, what: str, subject: str, **data: Any
) -> None:
    ip = request.client.host if request.client else ""
    audit.record(session, f"admin_{what}"[:30], user_id=admin.user_id, subject=subject, ip=ip, data=data)


def _change(request: Request, session: Session, back: str, action: Callable[[], str]) -> Response:
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


def _departments(session: Session, active_only: bool = False) -> list[Department]:
    q = select(Department).order_by(Department.kind, Department.code)
    if active_only:
        q = q.where(Department.active.is_(True))
    return list(session.scalars(q))


def _department(session: Session, code: str) -> Department:
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise InvalidInput(f"未知的部门代码：{code}")
    return dept


# --- Overview -----------------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def overview(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    def count(model: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    counts = {
        "grids": count(
            Area,
            Area.level == "grid",
            Area.generation_id.in_(select(GridGeneration.id).where(GridGeneration.active)),
        ),
        "departments": count(Department, Department.active.is_(True)),
        "categories": count(Category, Category.active.is_(True)),
        "routing": count(RoutingRule),
        "users": count(User, User.active.is_(True)),
        "keys": count(ApiClient, ApiClient.revoked_at.is_(None)),
    }
    events = list(session.scalars(select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(20)))
    names = dict(session.execute(select(User.id, User.username)).all())
    return _page(request, "", "overview.html", counts=counts, events=events, names=names)


# --- Grids import: upload → dry-run preview → confirm -------------------------------------------------------


def _pending_dir() -> Path:
    path = get_settings().data_dir / "grid-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _generations(session: Session) -> list[tuple[GridGeneration, int]]:
    n = func.count(Area.id)
    rows = session.execute(
        select(GridGeneration, n)
        .outerjoin(Area, (Area.generation_id == GridGeneration.id) & (Area.level == "grid"))
        .group_by(GridGeneration.id)
        .order_by(GridGeneration.id.desc())
    ).all()
    return [(g, int(k)) for g, k in rows]


def _digits(form: FormData) -> int:
    raw = _text(form, "grid_digits") or str(get_settings().grid_digits)
    if raw not in ("2", "3"):
        raise InvalidInput("网格码位数只能是 2 或 3")
    return int(raw)


@router.get("/grids", response_class=HTMLResponse)
def grids_page(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return _page(request, "grids", "grids.html", generations=_generations(session), preview=None)


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
    return _page(request, "grids", "grids.html", generations=_generations(session), preview=preview)


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
    return _page(request, "departments", "departments.html", departments=_departments(session))


@router.post("/departments")
def department_add(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        code, name = _text(form, "code", 20).upper(), _text(form, "name", 100)
        if not _CODE.match(code) or not name:
            raise InvalidInput("部门代码为 2–20 位字母或数字，名称不能为空")
        if session.scalar(select(Department.id).where(Department.code == code)):
            raise InvalidInput(f"部门代码已存在：{code}")
        kind = "street_office" if _text(form, "kind") == "street_office" else "department"
        street = _text(form, "street_code", 20) or None
        session.add(
            Department(
                code=code, name=name, short_name=_text(form, "short_name", 40), kind=kind, street_code=street
            )
        )
        session.flush()
        _audit(session, request, admin, "department_create", code, name=name, kind=kind)
        return f"已添加部门：{name}"

    return _change(request, session, "/admin/departments", act)


def _dept_by_id(session: Session, dept_id: int) -> Department:
    dept = session.get(Department, dept_id)
    if dept is None:
        raise NotFound(f"部门不存在：{dept_id}")
    return dept


@router.post("/departments/{dept_id}")
def department_edit(
    request: Request, dept_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        dept = _dept_by_id(session, dept_id)
        name = _text(form, "name", 100)
        if not name:
            raise InvalidInput("部门名称不能为空")
        old = dept.name
        dept.name, dept.short_name = name, _text(form, "short_name", 40)
        _audit(session, request, admin, "department_update", dept.code, old=old, new=name)
        return f"已更新部门：{name}"

    return _change(request, session, "/admin/departments", act)


@router.post("/departments/{dept_id}/active")
def department_active(
    request: Request, dept_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        dept = _dept_by_id(session, dept_id)
        dept.active = _text(form, "active") == "1"
        _audit(session, request, admin, "department_active", dept.code, active=dept.active)
        return f"已{'启用' if dept.active else '停用'}部门：{dept.name}"

    return _change(request, session, "/admin/departments", act)


# --- Categories and limits ----------------------------------------------------------------------------------


@router.get("/categories", response_class=HTMLResponse)
def categories_page(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    cats = list(session.scalars(select(Category).order_by(Category.code)))
    return _page(
        request,
        "categories",
        "categories.html",
        categories=cats,
        units=UNITS,
        departments=_departments(session, active_only=True),
        street_office=STREET_OFFICE,
    )


@router.post("/categories/{code}")
def category_edit(request: Request, code: str, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        cat = session.get(Category, code)
        if cat is None:
            raise NotFound(f"类别不存在：{code}")
        unit = _text(form, "limit_unit")
        if unit not in UNITS:
            raise InvalidInput(f"时限单位应为 {'、'.join(UNITS)}")
        dept = _text(form, "department_code", 20) or None
        if dept and dept != STREET_OFFICE:
            _department(session, dept)
        before = {
            "limit": cat.limit_text,
            "urgent": cat.urgent,
            "department": cat.department_code,
            "merge_radius_m": cat.merge_radius_m,
            "merge_window_h": cat.merge_window_h,
        }
        cat.limit_amount = _number(form, "limit_amount", "处置时限")
        cat.limit_unit = unit
        cat.urgent = _text(form, "urgent") == "1"
        cat.department_code = dept
        cat.merge_radius_m = _number(form, "merge_radius_m", "并案半径", minimum=-0.001)
        cat.merge_window_h = _number(form, "merge_window_h", "并案时间窗", minimum=-0.001)
        after = {
            "limit": cat.limit_text,
            "urgent": cat.urgent,
            "department": cat.department_code,
            "merge_radius_m": cat.merge_radius_m,
            "merge_window_h": cat.merge_window_h,
        }
        _audit(session, request, admin, "category_update", code, before=before, after=after)
        return f"已更新类别 {code} {cat.name}：处置时限 {cat.limit_text}"

    return _change(request, session, f"/admin/categories#cat-{code}", act)


# --- Routing rules ------------------------------------------------------------------------------------------


@router.get("/routing", response_class=HTMLResponse)
def routing_page(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    rows = session.execute(
        select(RoutingRule, Category.name, Department.name)
        .outerjoin(Category, Category.code == RoutingRule.category_code)
        .join(Department, Department.id == RoutingRule.department_id)
        .order_by(RoutingRule.id.desc())
    ).all()
    cats = list(session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.code)))
    return _page(
        request,
        "routing",
        "routing.html",
        rules=rows,
        categories=cats,
        departments=_departments(session, True),
    )


@router.post("/routing")
def routing_add(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        cat_code = _text(form, "category_code", 8) or None
        if cat_code and session.get(Category, cat_code) is None:
            raise InvalidInput(f"未知的类别：{cat_code}")
        area = _text(form, "area_code", 20) or None
        if area and not session.scalar(
            select(Area.id).where(
                Area.code == area,
                Area.generation_id.in_(select(GridGeneration.id).where(GridGeneration.active)),
            )
        ):
            raise InvalidInput(f"当前网格版本中没有这个区域代码：{area}")
        dept = _department(session, _text(form, "department_code", 20))
        raw_priority = _text(form, "priority") or "0"
        if not raw_priority.lstrip("-").isdigit():
            raise InvalidInput("优先级必须是整数")
        rule = RoutingRule(
            category_code=cat_code, area_code=area, department_id=dept.id, priority=int(raw_priority)
        )
        session.add(rule)
        session.flush()
        _audit(
            session,
            request,
            admin,
            "routing_create",
            f"rule {rule.id}",
            category=cat_code,
            area=area,
            department=dept.code,
        )
        return f"已添加派遣规则：{cat_code or '全部类别'} × {area or '全区'} → {dept.name}"

    return _change(request, session, "/admin/routing", act)


@router.post("/routing/{rule_id}/delete")
def routing_delete(
    request: Request, rule_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        rule = session.get(RoutingRule, rule_id)
        if rule is None:
            raise NotFound(f"派遣规则不存在：{rule_id}")
        data = {"category": rule.category_code, "area": rule.area_code, "department_id": rule.department_id}
        session.delete(rule)
        _audit(session, request, admin, "routing_delete", f"rule {rule_id}", **data)
        return f"已删除派遣规则 #{rule_id}"

    return _change(request, session, "/admin/routing", act)


# --- Users and roles ----------------------------------------------------------------------------------------


def _users_page(request: Request, session: Session, **extra: Any) -> HTMLResponse:
    users = list(session.scalars(select(User).order_by(User.id)))
    depts = {d.id: d.name for d in _departments(session)}
    roles = [(r, ROLE_LABELS[r]) for r in user_roles()]
    return _page(
        request,
        "users",
        "users.html",
        users=users,
        dept_names=depts,
        roles=roles,
        departments=_departments(session, True),
        **extra,
    )


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return _users_page(request, session)


@router.post("/users")
def user_add(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        roles = [r for r in form.getlist("roles") if isinstance(r, str)]
        grids = [g for g in re.split(r"[\s,，;；]+", _text(form, "grid_codes", 4000)) if g]
        user = create_user(
            session,
            _text(form, "username", 64),
            str(form.get("password") or ""),
            roles,
            display_name=_text(form, "display_name", 64),
            department_code=_text(form, "department_code", 20) or None,
            grid_codes=grids,
        )
        _audit(session, request, admin, "user_create", user.username, roles=roles, grids=len(grids))
        return f"已创建用户：{user.username}"

    return _change(request, session, "/admin/users", act)


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户不存在：{user_id}")
    return user


@router.post("/users/{user_id}/active")
def user_active(
    request: Request, user_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        user = _user(session, user_id)
        active = _text(form, "active") == "1"
        if not active and user.id == admin.user_id:
            raise InvalidInput("不能停用自己的账号")
        set_active(user, active)  # and its existing tokens are refused
        _audit(session, request, admin, "user_active", user.username, active=active)
        return f"已{'启用' if active else '停用'}用户：{user.username}"

    return _change(request, session, "/admin/users", act)


@router.post("/users/{user_id}/password", response_class=HTMLResponse)
def user_password(
    request: Request, user_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    """Set a random temporary password and show it once (it is never stored in clear, nor put in a cookie)."""
    user = _user(session, user_id)
    temporary = secrets.token_urlsafe(9)
    reset_password(user, temporary)  # unlocks the account and ends every login of it
    _audit(session, request, admin, "user_password_reset", user.username)
    session.commit()
    return _users_page(request, session, reset={"username": user.username, "password": temporary})


# --- API keys -----------------------------------------------------------------------------------------------


def _keys_page(request: Request, session: Session, new_key: api_keys.NewKey | None = None) -> HTMLResponse:
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
