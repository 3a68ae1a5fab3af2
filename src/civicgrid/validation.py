"""Validation errors as a client sees them: where, what and which kind, for at most ``MAX_ERRORS`` errors —
never the input. Pure (no web framework): the case engine, the API and the web pages share it.

Pydantic's ``errors()`` carry the offending ``input``; echoed back, a 50 MB body became a 52 MB problem and
a reporter's phone number reached proxies and logs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from civicgrid.errors import InvalidInput

MAX_ERRORS = 20
_MAX_MSG = 200
_MAX_LOC = 64


def summarize(raw: Sequence[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """The detail line and the ``errors`` list (``field``, ``message``, ``type``) of pydantic's errors."""
    errors = []
    parts = []
    for err in list(raw)[:MAX_ERRORS]:
        loc = ".".join(str(p)[:_MAX_LOC] for p in err.get("loc", ()) if p != "body") or "请求体"
        msg = str(err.get("msg", ""))[:_MAX_MSG].removeprefix("Value error, ")
        if err.get("type") == "json_invalid":
            msg = "请求体不是有效的 JSON（或不是 UTF-8 编码）"
        parts.append(f"{loc}：{msg}")
        errors.append({"field": loc, "message": msg, "type": err.get("type")})
    if len(raw) > MAX_ERRORS:
        parts.append(f"另有 {len(raw) - MAX_ERRORS} 处错误未列出")
    return "；".join(parts), errors


def invalid(raw: Sequence[Mapping[str, Any]]) -> InvalidInput:
    """A 422 ``InvalidInput`` for pydantic's errors, without their input."""
    detail, errors = summarize(raw)
    return InvalidInput(detail, errors=errors)
