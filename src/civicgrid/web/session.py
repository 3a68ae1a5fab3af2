"""The web session: who is logged in (the JWT cookie), CSRF protection, signed cookies and flash messages.

Public interface (used by every web view, including the leader and admin pages):
- ``WebUser``: a dependency giving the logged-in ``Principal``; without a valid cookie the request
  is redirected to ``/login`` (an expired token adds a message).
- ``OptionalWebUser``: the ``Principal`` or ``None`` (public pages).
- ``require_web_roles(*roles)``: a dependency factory, like ``org.auth.require_roles`` but for pages.
- ``CsrfForm``: a dependency that reads the posted form and checks its CSRF token (field ``csrf_token``).
  The token is bound to the browser (a nonce cookie) and to the login (org/csrf.py): it changes at
  login, and the same value in the ``X-CSRF-Token`` header lets the pages' scripts call the JSON API.
- ``flash(response, text, level, request=None, values=None)``: a message shown (translated) on the next page.
- ``set_login_cookie``/``clear_login_cookie``, ``revoke_login_cookie`` (logout), ``safe_next`` (no open
  redirects), ``pack``/``unpack`` (signed cookies).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from civicgrid.deps import DbSession
from civicgrid.errors import AppError, Forbidden, Unauthorized
from civicgrid.org.auth import COOKIE, load_login, load_principal
from civicgrid.org.csrf import CSRF_COOKIE, csrf_token_for, csrf_token_ok
from civicgrid.org.roles import ROLE_LABELS, Principal
from civicgrid.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

CSRF_FIELD = "csrf_token"
FLASH_COOKIE = "civicgrid_flash"
LANG_COOKIE = "lang"


class LoginRequired(Unauthorized):
    """Raised by ``WebUser`` when there is no valid login; the web renderer turns it into a redirect."""

    code = "login_required"


class CsrfFailed(AppError):
    status = 403
    code = "csrf_failed"
    title = "表单已失效"


# --- Signing ------------------------------------------------------------------------------------------------


def _key(purpose: str) -> bytes:
    return hashlib.sha256(f"civicgrid-web:{purpose}:{get_settings().secret_key}".encode()).digest()


def sign(purpose: str, value: str) -> str:
    mac = hmac.new(_key(purpose), value.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{value}.{mac}"


def unsign(purpose: str, signed: str | None) -> str | None:
    if not signed or "." not in signed:
        return None
    value, _, mac = signed.rpartition(".")
    good = hmac.new(_key(purpose), value.encode(), hashlib.sha256).hexdigest()[:32]
    return value if hmac.compare_digest(good, mac) else None


def pack(purpose: str, data: Any) -> str:
    """A JSON value signed for a cookie (readable by us only after checking the signature)."""
    raw = base64.urlsafe_b64encode(json.dumps(data, ensure_ascii=False).encode()).decode().rstrip("=")
    return sign(purpose, raw)


def unpack(purpose: str, signed: str | None) -> Any:
    raw = unsign(purpose, signed)
    if raw is None:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None


def set_cookie(
    response: Response, name: str, value: str, *, max_age: int | None = None, path: str = "/"
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="lax",
        secure=get_settings().env == "production",
    )


# --- CSRF: a random nonce in an HttpOnly cookie, and its HMAC with the login in every form ----------------


def csrf_nonce(request: Request) -> str:
    """The request's CSRF nonce (from the cookie, or a new one that ``render`` sets on the response)."""
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce:
        return str(nonce)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    nonce = cookie if 16 <= len(cookie) <= 64 and cookie.isalnum() else secrets.token_hex(16)
    request.state.csrf_nonce = nonce
    request.state.csrf_new = nonce != cookie
    return nonce


def csrf_token(request: Request) -> str:
    return csrf_token_for(csrf_nonce(request), request.cookies.get(COOKIE))


def ensure_csrf_cookie(request: Request, response: Response) -> None:
    if getattr(request.state, "csrf_new", False):
        set_cookie(response, CSRF_COOKIE, request.state.csrf_nonce)


def check_csrf(request: Request, form: FormData) -> None:
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not cookie:
        raise CsrfFailed("表单已失效（缺少安全校验码），请刷新页面后重新提交")
    if not csrf_token_ok(sent, cookie, request.cookies.get(COOKIE)):
        raise CsrfFailed("表单已失效（安全校验未通过），请刷新页面后重新提交")


async def csrf_form(request: Request) -> FormData:
    form = await request.form()
    check_csrf(request, form)
    return form


CsrfForm = Annotated[FormData, Depends(csrf_form)]


# --- Who is logged in ---------------------------------------------------------------------------------------


def optional_web_user(request: Request, session: DbSession) -> Principal | None:
    token = request.cookies.get(COOKIE)
    principal: Principal | None = None
    if token:
        try:
            principal = load_principal(session, token)
        except Unauthorized:
            principal = None
    request.state.principal = principal
    return principal


def web_user(request: Request, session: DbSession) -> Principal:
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired("请先登录")
    try:
        principal = load_principal(session, token)
    except Unauthorized as exc:
        raise LoginRequired(exc.message) from None
    request.state.principal = principal
    return principal


WebUser = Annotated[Principal, Depends(web_user)]
OptionalWebUser = Annotated[Principal | None, Depends(optional_web_user)]


def require_web_roles(*roles: str) -> Callable[[Principal], Principal]:
    """A page dependency: the logged-in principal holding one of ``roles`` (else a friendly 403 page)."""
    wanted = frozenset(roles)

    def dep(p: WebUser) -> Principal:
        if not p.has_any(wanted):
            names = "、".join(ROLE_LABELS.get(r, r) for r in roles)
            raise Forbidden(f"此页面需要以下角色之一：{names}")
        return p

    return dep


# --- Flash messages (one signed cookie, read once) ----------------------------------------------------------


def flash(
    response: Response,
    text: str,
    level: str = "success",
    request: Request | None = None,
    values: dict[str, Any] | None = None,
) -> None:
    """Queue a message for the next page. Levels: success, info, warning, error. ``text`` is a Chinese msgid,
    translated when shown; ``{name}`` placeholders are filled from ``values`` (which are not translated)."""
    pending: list[Any] = []
    if request is not None:
        pending = list(unpack("flash", request.cookies.get(FLASH_COOKIE)) or [])
    pending.append([level, text, values or {}])
    set_cookie(response, FLASH_COOKIE, pack("flash", pending[-5:]), max_age=300)


def take_flashes(request: Request) -> list[tuple[str, str, dict[str, Any]]]:
    """Queued messages as (level, msgid, values); the page that shows them clears the cookie."""
    raw = unpack("flash", request.cookies.get(FLASH_COOKIE))
    if not isinstance(raw, list):
        return []
    request.state.flash_taken = True
    out = []
    for x in raw:
        if isinstance(x, list) and len(x) == 3 and isinstance(x[2], dict):
            out.append((str(x[0]), str(x[1]), x[2]))
    return out


def clear_taken_flashes(request: Request, response: Response) -> None:
    if getattr(request.state, "flash_taken", False):
        response.delete_cookie(FLASH_COOKIE, path="/")


# --- Login and logout ---------------------------------------------------------------------------------------


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths are followed after login (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def set_login_cookie(response: Response, token: str, ttl_seconds: int) -> None:
    set_cookie(response, COOKIE, token, max_age=ttl_seconds)


def clear_login_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def revoke_login_cookie(request: Request, session: Session) -> Principal | None:
    """Revoke the token of the login cookie (a logout), if it is still valid; returns whose it was."""
    from civicgrid.org.service import revoke_token
    from civicgrid.security import audit

    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        login = load_login(session, token)
    except Unauthorized:
        return None
    revoke_token(session, login.claims)
    ip = request.client.host if request.client else ""
    audit.record(session, "logout", user_id=login.principal.user_id, subject=login.principal.username, ip=ip)
    return login.principal
