"""The administrator's pages (系统管理): overview, grids import, departments, categories and limits, routing
rules (users and API keys: ``views_admin_accounts.py``). Admin only; every change goes through a service that
writes a security audit row in the same transaction (POST → commit → redirect)."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from civicgrid.catalog import admin as catalog_admin
from civicgrid.catalog.routing import STREET_OFFICE
from civicgrid.catalog.seed import LIMIT_UNITS
from civicgrid.catalog.service import active_categories, all_categories
from civicgrid.deps import DbSession, RowId, UnitOfWorkRoute
from civicgrid.errors import InvalidInput
from civicgrid.geo.grid_import import parse_grid_geojson
from civicgrid.geo.store import generations, store_import
from civicgrid.ops.overview import overview as admin_overview
from civicgrid.org import departments as depts_service
from civicgrid.settings import get_settings
from civicgrid.web.admin_common import TOKEN, Admin, actor, audit, change, number, page, text
from civicgrid.web.session import CsrfForm, flash

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=UnitOfWorkRoute)


# --- Overview -----------------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def overview(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    o = admin_overview(session)
    return page(request, "", "overview.html", counts=o.counts, events=o.events, names=o.usernames)


# --- Grids import: upload → dry-run preview → confirm -------------------------------------------------------


def _pending_dir() -> Path:
    path = get_settings().data_dir / "grid-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _digits(form: FormData) -> int:
    raw = text(form, "grid_digits") or str(get_settings().grid_digits)
    if raw not in ("2", "3"):
        raise InvalidInput("网格码位数只能是 2 或 3")
    return int(raw)


@router.get("/grids", response_class=HTMLResponse)
def gridspage(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return page(request, "grids", "grids.html", generations=generations(session), preview=None)


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
        "name": text(form, "name", 100) or upload.filename,
        "digits": digits,
    }
    return page(request, "grids", "grids.html", generations=generations(session), preview=preview)


@router.post("/grids/commit")
def grids_commit(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        token = text(form, "token")
        path = _pending_dir() / f"{token}.geojson"
        if not TOKEN.match(token) or not path.is_file():
            raise InvalidInput("预览已过期，请重新上传文件")
        digits = _digits(form)
        result = parse_grid_geojson(
            path.read_bytes(), grid_digits=digits, district_code=get_settings().district_code
        )
        if not result.ok:
            raise InvalidInput("文件未通过校验，不能导入")
        name = text(form, "name", 100) or "导入的网格"
        activate = text(form, "activate") == "1"
        gen = store_import(session, result.grids, name=name, grid_digits=digits, activate=activate)
        audit(
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

    return change(request, session, "/admin/grids", act)


# --- Departments --------------------------------------------------------------------------------------------


@router.get("/departments", response_class=HTMLResponse)
def departmentspage(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return page(
        request, "departments", "departments.html", departments=depts_service.all_departments(session)
    )


@router.post("/departments")
def department_add(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        dept = depts_service.create(
            session,
            actor(request, admin),
            code=text(form, "code", 20),
            name=text(form, "name", 100),
            short_name=text(form, "short_name", 40),
            kind="street_office" if text(form, "kind") == "street_office" else "department",
            street_code=text(form, "street_code", 20) or None,
        )
        return f"已添加部门：{dept.name}"

    return change(request, session, "/admin/departments", act)


@router.post("/departments/{dept_id}")
def department_edit(
    request: Request, dept_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        dept = depts_service.rename(
            session,
            actor(request, admin),
            dept_id,
            name=text(form, "name", 100),
            short_name=text(form, "short_name", 40),
        )
        return f"已更新部门：{dept.name}"

    return change(request, session, "/admin/departments", act)


@router.post("/departments/{dept_id}/active")
def department_active(
    request: Request, dept_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        active = text(form, "active") == "1"
        dept = depts_service.set_active(session, actor(request, admin), dept_id, active)
        return f"已{'启用' if dept.active else '停用'}部门：{dept.name}"

    return change(request, session, "/admin/departments", act)


# --- Categories and limits ----------------------------------------------------------------------------------


@router.get("/categories", response_class=HTMLResponse)
def categoriespage(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return page(
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
            actor(request, admin),
            code,
            limit_amount=number(form, "limit_amount", "处置时限"),
            limit_unit=text(form, "limit_unit"),
            urgent=text(form, "urgent") == "1",
            department_code=text(form, "department_code", 20) or None,
            merge_radius_m=number(form, "merge_radius_m", "并案半径", minimum=-0.001),
            merge_window_h=number(form, "merge_window_h", "并案时间窗", minimum=-0.001),
        )
        return f"已更新类别 {code} {cat.name}：处置时限 {cat.limit_text}"

    return change(request, session, f"/admin/categories#cat-{code}", act)


# --- Routing rules ------------------------------------------------------------------------------------------


@router.get("/routing", response_class=HTMLResponse)
def routingpage(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    return page(
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
        raw_priority = text(form, "priority") or "0"
        if not raw_priority.lstrip("-").isdigit() or len(raw_priority) > 6:
            raise InvalidInput("优先级必须是整数")
        cat_code, area = text(form, "category_code", 8) or None, text(form, "area_code", 20) or None
        _rule, dept = catalog_admin.add_rule(
            session,
            actor(request, admin),
            category_code=cat_code,
            area_code=area,
            department_code=text(form, "department_code", 20),
            priority=int(raw_priority),
        )
        return f"已添加派遣规则：{cat_code or '全部类别'} × {area or '全区'} → {dept.name}"

    return change(request, session, "/admin/routing", act)


@router.post("/routing/{rule_id}/delete")
def routing_delete(
    request: Request, rule_id: RowId, session: DbSession, admin: Admin, form: CsrfForm
) -> Response:
    def act() -> str:
        catalog_admin.delete_rule(session, actor(request, admin), rule_id)
        return f"已删除派遣规则 #{rule_id}"

    return change(request, session, "/admin/routing", act)
