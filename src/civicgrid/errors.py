"""One error hierarchy. Every expected failure is an ``AppError`` with an HTTP status and a Chinese
message."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "请求有误"

    def __init__(self, message: str, *, status: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.extra = extra


class InvalidInput(AppError):
    status = 422
    code = "invalid_input"
    title = "输入不合法"


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "未找到"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    title = "未登录或登录已过期"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "无权操作"


class NotYourCase(Forbidden):
    code = "not_your_case"


class IllegalTransition(AppError):
    status = 409
    code = "illegal_transition"
    title = "当前状态不允许此操作"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "冲突"


class OutsideDistrict(InvalidInput):
    code = "outside_district"
    title = "位置不在本区范围内"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    title = "内容过大"


class UnsupportedMedia(AppError):
    status = 415
    code = "unsupported_media"
    title = "文件类型不支持"


class TooManyAttempts(AppError):
    """Too many failed attempts (e.g. wrong tracking codes): refused until ``retry_after`` seconds pass."""

    status = 429
    code = "too_many_attempts"
    title = "请求过于频繁"

    def __init__(self, message: str, *, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, retry_after=self.retry_after)
        self.headers = {"Retry-After": str(self.retry_after)}
