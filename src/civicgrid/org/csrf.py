"""Cross-site request forgery: the CSRF token bound to the login, and a guard in front of the JSON API.

A browser attaches the login cookie to any request, including a form another site makes it post. So:

- The CSRF token is an HMAC of the browser's random CSRF nonce (an HttpOnly cookie) and the ``jti`` of its
  login token: it changes at every login, and a token of one login (or one browser) is refused with another.
  The web forms send it in the ``csrf_token`` field (web/session.py); pages also carry it in
  ``<meta name="csrf-token">`` for scripts that call the API.
- ``CsrfGuard`` (an ASGI middleware) stands in front of ``/api/`` and ``/open311``: an unsafe request
  (anything but GET, HEAD, OPTIONS) is refused with 403, before any route runs or any body is read, when the
  browser says it comes from another site (``Sec-Fetch-Site: cross-site``) or when its ``Origin`` is neither
  this site nor one of ``trusted_origins``.
- Where an unsafe request there would be authenticated by the login cookie (no ``Authorization: Bearer``),
  ``org.auth`` refuses it with 403 unless it carries the ``X-CSRF-Token`` header of that login
  (``cookie_refusal``). Bearer tokens, anonymous calls and Open311 ``api_key`` calls from servers (no
  browser headers) pass as before.

``origin_refusal`` and ``cookie_refusal`` are the pure decisions.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from civicgrid.errors import Forbidden
from civicgrid.org.tokens import login_binding
from civicgrid.settings import get_settings

CSRF_COOKIE = "civicgrid_csrf"
LOGIN_COOKIE = "civicgrid_token"  # org.auth.COOKIE (not imported: org.auth pulls in the database layer)
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
GUARDED_PREFIXES = ("/api/", "/open311")

CROSS_SITE = "跨站请求已拒绝：浏览器表明该请求来自其他网站"
FOREIGN_ORIGIN = "跨站请求已拒绝：请求来源（Origin）{origin} 不是本站"
NO_HEADER = (
    "使用登录 Cookie 调用接口时，必须在 X-CSRF-Token 请求头中附带页面上的安全校验码（csrf-token）；"
    "程序调用请改用 Bearer 令牌"
)
BAD_HEADER = "安全校验码（X-CSRF-Token）与当前登录不符，请刷新页面后重试"


class CsrfRefused(Forbidden):
    code = "csrf_failed"
    title = "跨站请求已拒绝"


def _key() -> bytes:
    # The same derivation as the other web signing keys (web/session.py), purpose "csrf".
    return hashlib.sha256(f"civicgrid-web:csrf:{get_settings().secret_key}".encode()).digest()


def csrf_token_for(nonce: str, login_token: str | None) -> str:
    """The CSRF token of a browser (its nonce) and its login (the token in the login cookie, if any)."""
    message = f"{nonce}|{login_binding(login_token)}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def csrf_token_ok(sent: str | None, nonce: str | None, login_token: str | None) -> bool:
    if not sent or not nonce:
        return False
    return hmac.compare_digest(csrf_token_for(nonce, login_token), sent)


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` in lower case, default ports dropped; ``None`` for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def trusted_origins() -> frozenset[str]:
    raw = get_settings().trusted_origins
    return frozenset(o for o in (_origin_of(x) for x in raw.split(",") if x.strip()) if o)


def origin_refusal(
    method: str, headers: Mapping[str, str], own_origin: str, trusted: frozenset[str] = frozenset()
) -> str | None:
    """Why an API request must be refused as coming from another site (a Chinese message), or ``None``.
    ``headers`` are keyed in lower case; ``own_origin`` is this site as the client addressed it."""
    if method.upper() in SAFE_METHODS:
        return None
    if headers.get("sec-fetch-site", "").strip().lower() == "cross-site":
        return CROSS_SITE
    origin = headers.get("origin")
    if origin is not None:
        normal = _origin_of(origin)
        if normal is None or (normal != _origin_of(own_origin) and normal not in trusted):
            return FOREIGN_ORIGIN.format(origin=origin.strip()[:100] or "（空）")
    return None


def cookie_refusal(method: str, headers: Mapping[str, str], cookies: Mapping[str, str]) -> str | None:
    """Why an unsafe request authenticated by the login cookie must be refused (no or a wrong
    ``X-CSRF-Token``), or ``None``. Called only when the cookie is what would authenticate it."""
    if method.upper() in SAFE_METHODS:
        return None
    sent = headers.get(CSRF_HEADER)
    if not sent:
        return NO_HEADER
    if not csrf_token_ok(sent.strip(), cookies.get(CSRF_COOKIE), cookies.get(LOGIN_COOKIE)):
        return BAD_HEADER
    return None


def check_cookie_use(request: Request) -> None:
    """Raise ``CsrfRefused`` (403) if this request may not be authenticated by its login cookie."""
    if not request.url.path.startswith(GUARDED_PREFIXES):
        return  # the web pages check the form field instead (web/session.py)
    reason = cookie_refusal(request.method, request.headers, request.cookies)
    if reason is not None:
        raise CsrfRefused(reason)


class CsrfGuard:
    """ASGI middleware applying ``origin_refusal`` to ``/api/`` and ``/open311``; a refusal is rendered like
    any other error of the path (an RFC 9457 problem, or an Open311 error body)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method", "GET") in SAFE_METHODS
            or not str(scope.get("path", "")).startswith(GUARDED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
        reason = origin_refusal(request.method, request.headers, own, trusted_origins())
        if reason is None:
            await self.app(scope, receive, send)
            return
        response = _render(request, reason)
        await response(scope, receive, send)


def _render(request: Request, message: str) -> Any:
    from civicgrid import problems

    for prefix, render in problems.renderers:
        if request.url.path.startswith(prefix):
            return render(request, 403, message, "csrf_failed")
    return problems.problem(403, "跨站请求已拒绝", message, "csrf_failed", request.url.path)
