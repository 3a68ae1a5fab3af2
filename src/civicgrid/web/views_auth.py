"""Home (redirect by role), login and logout."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.errors import Unauthorized
from civicgrid.org.login import log_in
from civicgrid.org.roles import Principal
from civicgrid.org.service import log_out_everywhere
from civicgrid.org.tokens import issue_token
from civicgrid.web.render import mounted_sections, render
from civicgrid.web.session import (
    CsrfForm,
    OptionalWebUser,
    WebUser,
    clear_login_cookie,
    flash,
    revoke_login_cookie,
    safe_next,
    set_login_cookie,
)

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)


def home_for(request: Request, user: Principal | None) -> str:
    """Where each role starts its day."""
    if user is None:
        return "/report"
    served = mounted_sections(request)
    order = (
        ("admin", "/admin"),
        ("leader", "/leader"),
        ("dispatcher", "/center"),
        ("shift_lead", "/center"),
        ("operator", "/center"),
        ("handler", "/dept"),
        ("inspector", "/inspector"),
    )
    for role, target in order:
        if user.has(role) and target in served:
            return target
    if user.has_any({"admin", "leader"}):
        return "/center"
    return "/report"


@router.get("/")
def home(request: Request, user: OptionalWebUser) -> Response:
    return RedirectResponse(home_for(request, user), status_code=303)


@router.get("/login")
def login_page(request: Request, user: OptionalWebUser, next: str = "") -> HTMLResponse:
    return render(request, "login.html", next=safe_next(next, ""), username="", error="")


@router.post("/login")
async def login(request: Request, session: DbSession, form: CsrfForm) -> Response:
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""), "")
    ip = request.client.host if request.client else ""
    try:
        # The password is verified before, not inside, the short write that records the login.
        user = await log_in(session, username, password, ip, str(form.get("otp") or "") or None)
    except Unauthorized as exc:
        request.state.principal = None
        return await run_in_threadpool(
            render, request, "login.html", status_code=401, next=target, username=username, error=exc.message
        )
    token, ttl = issue_token(user.id, version=user.token_version)
    response = RedirectResponse(target or "/", status_code=303)
    set_login_cookie(response, token, ttl)
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, form: CsrfForm) -> Response:
    revoke_login_cookie(request, session)  # this login's token is refused from now on, wherever it is kept
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    clear_login_cookie(response)
    flash(response, "您已安全退出", "info")
    return response


@router.post("/logout/all")
def logout_all(request: Request, session: DbSession, user: WebUser, form: CsrfForm) -> Response:
    """End every login of this user (other browsers, phones, API tokens), this one too."""
    if user.user_id is not None:
        ip = request.client.host if request.client else ""
        log_out_everywhere(session, user.user_id, ip)
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    clear_login_cookie(response)
    flash(response, "已在所有设备上退出登录", "info")
    return response
