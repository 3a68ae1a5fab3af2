"""Request bodies before any route sees them: a small size limit for everything but multipart uploads, and a
strict JSON parse (no NaN/Infinity/1e999, no lone surrogates) that runs on a worker thread for large bodies.

``JsonBody`` is an ASGI middleware. It reads the body while counting (a 413 problem as soon as the limit is
passed, without reading the rest), parses a JSON body once and leaves the result in the scope; routes built
with ``JsonRoute`` (and ``parsed_json``) use that result instead of parsing again on the event loop.
Uploads (``multipart/form-data``) pass untouched: ``limits.BodyLimit`` and the image checks bound them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Coroutine
from typing import Any

import anyio.to_thread
from fastapi import Request, Response

from civicgrid import problems
from civicgrid.deps import UnitOfWorkRoute

Scope = dict[str, Any]
PARSED = "civicgrid.json"  # scope key of the parsed JSON body
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


class JsonRejected(ValueError):
    """A body that is not acceptable JSON; the message is Chinese and shown to the client."""


def _reject_constant(name: str) -> Any:
    raise JsonRejected(f"请求体含有非有限数值 {name}（JSON 不允许 NaN 或 Infinity）")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRejected(f"请求体中的数值超出范围：{text[:20]}")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def loads_strict(body: bytes) -> Any:
    """Parse a JSON body as RFC 8259 says: UTF-8, finite numbers, whole characters. Raises JsonRejected."""
    try:
        value = json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except JsonRejected:
        raise
    except (ValueError, UnicodeDecodeError):
        raise JsonRejected("请求体不是有效的 JSON（或不是 UTF-8 编码）") from None
    except RecursionError:
        raise JsonRejected("请求体 JSON 嵌套过深") from None
    # Only a body that spells a surrogate as \\uD8xx..\\uDFxx can hold a lone one: walk only then.
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(value):
        raise JsonRejected("请求体含有不成对的代理字符（\\uD800–\\uDFFF），不是有效的 Unicode 文本")
    return value


def is_json(content_type: str) -> bool:
    """FastAPI reads a body without a content type, ``application/json`` and ``*/*+json`` as JSON."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("", "application/json") or (media.startswith("application/") and media.endswith("+json"))


class JsonBody:
    def __init__(self, app: Any, max_bytes: int, inline_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.inline_bytes = inline_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").decode("latin-1")
        if ctype.lower().startswith("multipart/"):
            await self.app(scope, receive, send)
            return
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and is_json(ctype):
            try:
                if len(body) > self.inline_bytes:
                    scope[PARSED] = await anyio.to_thread.run_sync(loads_strict, body)
                else:
                    scope[PARSED] = loads_strict(body)
            except JsonRejected as exc:
                response = problems.render_for(Request(scope), 422, "输入不合法", str(exc), "invalid_input")
                await response(scope, receive, send)
                return
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Any, send: Any) -> None:
        kib = self.max_bytes // 1024
        limit = f"{kib // 1024} MB" if kib >= 1024 and kib % 1024 == 0 else f"{kib} KB"
        response = problems.render_for(
            Request(scope),
            413,
            "内容过大",
            f"请求内容超过 {limit} 上限（照片请用 multipart/form-data 上传）",
            "payload_too_large",
        )
        await response(scope, receive, send)


def parsed_json(request: Request) -> Any:
    """The JSON body that ``JsonBody`` parsed; raises KeyError when there was none (an empty body)."""
    return request.scope[PARSED]


class JsonRoute(UnitOfWorkRoute):
    """A route whose JSON body comes from ``JsonBody`` (parsed strictly, off the event loop when large)
    instead of a second parse by FastAPI on the loop."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def use_parsed(request: Request) -> Response:
            if PARSED in request.scope:
                request._json = request.scope[PARSED]  # Starlette's cache of Request.json()
            return await handler(request)

        return use_parsed
