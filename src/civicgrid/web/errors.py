"""Web error pages and security headers.

- ``render_error`` is registered in ``problems.renderers`` for the web path prefixes: a friendly
  Chinese page for any AppError / HTTP error; a missing or expired login redirects to ``/login``. JSON
  clients (``/web/api/…``, or a request that sends or asks only for JSON) get RFC 9457 problem details.
- ``SecurityHeaders`` is a small ASGI middleware adding a strict Content-Security-Policy,
  X-Content-Type-Options and Referrer-Policy to every response (the interactive API docs, which load
  their own scripts, are left alone).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicgrid.web.i18n import N_
from civicgrid.web.session import clear_login_cookie, flash

TITLES = {
    400: N_("请求有误"),
    401: N_("请先登录"),
    403: N_("无权操作"),
    404: N_("页面不存在"),
    405: N_("不支持的请求方法"),
    409: N_("当前状态不允许此操作"),
    413: N_("内容过大"),
    415: N_("文件类型不支持"),
    422: N_("输入不合法"),
    429: N_("请求过于频繁"),
}

_NO_CSP = ("/docs", "/redoc")

# Messages raised by the core that the pages show often (translated when shown).
COMMON_MESSAGES = (
    N_("出错了"),
    N_("登录已过期，请重新登录"),
    N_("登录凭证无效，请重新登录"),
    N_("账号不存在或已停用"),
    N_("用户名或密码错误"),
    N_("用户名或密码错误（连续输错 5 次，账号将锁定 15 分钟）"),
    N_("登录已失效（已退出登录或密码已重置），请重新登录"),
    N_("表单已失效（缺少安全校验码），请刷新页面后重新提交"),
    N_("表单已失效（安全校验未通过），请刷新页面后重新提交"),
    N_("案卷号或查询码不正确"),
    N_("该案卷不在您的职责范围内"),
)


# The small JSON endpoints the pages call (category suggestions, the leader's map data).
JSON_PREFIX = "/web/api/"


def wants_json(request: Request) -> bool:
    """A JSON client: one of the pages' JSON endpoints, a request that sends JSON, or one that asks only for
    JSON (a browser navigating asks for text/html)."""
    if request.url.path.startswith(JSON_PREFIX):
        return True
    accept = request.headers.get("accept", "")
    sends_json = request.headers.get("content-type", "").split(";")[0].strip().endswith("json")
    return sends_json or ("json" in accept and "text/html" not in accept)


def render_error(request: Request, status: int, message: str, code: str) -> Response:
    if wants_json(request):
        from civicgrid.problems import problem

        # Validation errors reach the web renderer as 400; a JSON client gets the API's 422, as on /api/v1.
        if code == "invalid_input" and status == 400:
            status = 422
        return problem(status, TITLES.get(status, COMMON_MESSAGES[0]), message, code, request.url.path)
    if status == 401:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        if request.method != "GET":  # a form posted after the login expired: come back to its page
            referer = request.headers.get("referer", "")
            base = str(request.base_url).rstrip("/")
            target = referer[len(base) :] if referer.startswith(base) else "/"
        response: Response = RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
        flash(response, "{reason}", "warning", values={"reason": message or "请先登录"})
        clear_login_cookie(response)
        return response
    from civicgrid.web.render import render

    back = request.headers.get("referer", "")
    same_site = back.startswith(str(request.base_url).rstrip("/"))
    return render(
        request,
        "error.html",
        status_code=status,
        status=status,
        title=TITLES.get(status, COMMON_MESSAGES[0]),
        message=message,
        code=code,
        back=back if same_site else "/",
    )


def csp(tile_host: str = "") -> str:
    img = "'self' data:" + (f" {tile_host}" if tile_host else "")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {img}; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        from civicgrid.web.render import tile_host

        self.csp = csp(tile_host()).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        with_csp = not path.startswith(_NO_CSP)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The API docs keep the narrow policy their route sets (images from our origin only).
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not with_csp or k.lower() != b"content-security-policy"
                ]
                if with_csp:
                    headers.append((b"content-security-policy", self.csp))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
