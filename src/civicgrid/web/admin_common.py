"""What the administrator's pages share (系统管理): the role check, the tabs, form readers, and one way to run
a change — commit and flash its message, or roll back and flash the error — then redirect."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from civicgrid.errors import AppError, InvalidInput
from civicgrid.org.roles import Principal
from civicgrid.security.audit import Actor, record_admin
from civicgrid.web.render import render
from civicgrid.web.session import flash, require_web_roles

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
TOKEN = re.compile(r"^[0-9a-f]{32}$")


# --- Helpers ------------------------------------------------------------------------------------------------


def text(form: FormData, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def number(form: FormData, name: str, label: str, minimum: float = 0.0) -> float:
    try:
        value = float(text(form, name))
    except ValueError:
        raise InvalidInput(f"{label}必须是数字") from None
    if value <= minimum:
        raise InvalidInput(f"{label}必须大于 {minimum:g}")
    return value


def actor(request: Request, admin: Principal) -> Actor:
    return Actor(admin.user_id, request.client.host if request.client else "")


def audit(session: Any, request: Request, admin: Principal, what: str, subject: str, **data: Any) -> None:
    record_admin(session, actor(request, admin), what, subject, **data)


def codes(form: FormData, name: str) -> list[str]:
    return [g for g in re.split(r"[\s,，;；]+", text(form, name, 4000)) if g]


def change(request: Request, session: Any, back: str, action: Callable[[], str]) -> Response:
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


def page(request: Request, tab: str, template: str, **ctx: Any) -> HTMLResponse:
    return render(request, f"admin/{template}", tabs=TABS, tab=tab, **ctx)
