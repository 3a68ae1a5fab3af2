"""Rendering errors: RFC 9457 problem details for the JSON API. (Open311 and the web register their own.)"""

from __future__ import annotations

from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from civicgrid import validation
from civicgrid.errors import AppError

PROBLEM_JSON = "application/problem+json"

_HTTP_TITLES = {
    404: "未找到",
    405: "不支持的请求方法",
    413: "内容过大",
    401: "未登录或登录已过期",
    403: "无权操作",
}

# Path prefixes whose errors are rendered by another renderer (registered by that module).
renderers: list[tuple[str, Any]] = []


def problem(
    status: int,
    title: str,
    detail: str,
    code: str,
    instance: str = "",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": f"urn:civicgrid:problem:{code}", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers or None)


_PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
}
_PROBLEM_TEXT = {
    400: "请求有误",
    401: "未登录或登录已过期",
    403: "无权操作",
    404: "未找到",
    409: "当前状态不允许此操作",
    413: "内容过大",
    415: "文件类型不支持",
    422: "输入不合法",
    429: "请求过于频繁",
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "description": text + "（RFC 9457 problem details）",
        "content": {PROBLEM_JSON: {"schema": _PROBLEM_SCHEMA}},
    }
    for code, text in _PROBLEM_TEXT.items()
}


def _walk(routes: Any, prefix: str = "") -> Any:
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            ctx = getattr(route, "include_context", None)
            yield from _walk(inner.routes, prefix + (getattr(ctx, "prefix", "") or ""))
        elif getattr(route, "methods", None):
            yield prefix, route


def allowed_methods(app: Any, path: str) -> list[str]:
    """Every method some route serves at ``path`` (for the Allow header of a 405)."""
    methods: set[str] = set()
    for prefix, route in _walk(app.routes):
        if path.startswith(prefix) and route.path_regex.match(path[len(prefix) :] if prefix else path):
            methods |= set(route.methods)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _other_renderer(request: Request) -> Any:
    for prefix, render in renderers:
        if request.url.path.startswith(prefix):
            return render
    return None


def render_for(request: Request, status: int, title: str, detail: str, code: str) -> Response:
    """An error answered outside the exception handlers (by a middleware), in the renderer of its path."""
    render = _other_renderer(request)
    if render:
        return cast(Response, render(request, status, detail, code))
    return problem(status, title, detail, code, request.url.path)


def _validation_detail(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    return validation.summarize(exc.errors())  # never the input: see validation.py


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Any:
        render = _other_renderer(request)
        if render:
            response = render(request, exc.status, exc.message, exc.code)
        else:
            response = problem(exc.status, exc.title, exc.message, exc.code, request.url.path, **exc.extra)
        response.headers.update(getattr(exc, "headers", None) or {})  # e.g. Retry-After of a 429
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Any:
        detail, errors = _validation_detail(exc)
        render = _other_renderer(request)
        if render:
            return render(request, 400, detail, "invalid_input")
        return problem(422, "输入不合法", detail, "invalid_input", request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Any:
        render = _other_renderer(request)
        detail = exc.detail if isinstance(exc.detail, str) else "请求有误"
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"找不到该地址：{request.url.path}"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            detail = f"不支持 {request.method} 方法"
            headers = {"Allow": ", ".join(allowed_methods(request.app, request.url.path))}
        if render:
            response = render(request, exc.status_code, detail, "http_error")
            if headers and exc.status_code == 405:
                response.headers.update(headers)
            return response
        return problem(
            exc.status_code,
            _HTTP_TITLES.get(exc.status_code, "请求有误"),
            detail,
            "http_error",
            request.url.path,
            headers=headers,
        )
