"""Request ids, structured (JSON) logs, Prometheus metrics and security headers, as one ASGI middleware;
and who may read the metrics (``require_metrics_access``).

/metrics tells an outsider the traffic, the routes and the number of open and overdue cases, so it is not
public: with ``CIVICGRID_METRICS_TOKEN`` set, the scraper sends ``Authorization: Bearer <token>``; without it,
only a client on this machine that did not come through a proxy may read it.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import time
import uuid
from contextvars import ContextVar
from typing import Any, Literal

from fastapi import Request
from prometheus_client import Counter, Histogram

from civicgrid.errors import Forbidden, Unauthorized
from civicgrid.settings import get_settings

request_id: ContextVar[str] = ContextVar("request_id", default="-")

REQUESTS = Counter("civicgrid_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "civicgrid_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(self), geolocation=(self), microphone=()"),
]


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(json_logs: bool, level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter()
        if json_logs
        else logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger("civicgrid")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _route_of(scope: dict[str, Any]) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class Observe:
    """Adds X-Request-ID and security headers to every response, counts and times requests by route
    template."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_with_headers(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                headers.append((b"x-request-id", rid.encode()))
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            route = _route_of(scope)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(time.perf_counter() - start)
            request_id.reset(token)


# --- Who may read /metrics ----------------------------------------------------------------------------------

# Headers a reverse proxy adds: a request that carries one came from elsewhere, whatever its socket says.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
Access = Literal["ok", "missing", "wrong", "not_local"]


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or ::ffff:127.x.y.z (a dual-stack socket); never a name such as "localhost"."""
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def metrics_access(token: str, authorization: str | None, host: str | None, forwarded: bool) -> Access:
    """Whether a request may read the metrics: the bearer token when one is set, else loopback only."""
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return "missing"
        return "ok" if hmac.compare_digest(given.strip().encode(), token.encode()) else "wrong"
    return "ok" if is_loopback(host) and not forwarded else "not_local"


def require_metrics_access(request: Request) -> None:
    """A dependency of /metrics: 401 without the token, 403 with a wrong one or from another machine."""
    access = metrics_access(
        get_settings().metrics_token,
        request.headers.get("authorization"),
        request.client.host if request.client else None,
        any(h in request.headers for h in FORWARDING_HEADERS),
    )
    if access == "missing":
        raise Unauthorized("读取监控指标需要令牌：请在 Authorization 头中提供 Bearer 令牌")
    if access == "wrong":
        raise Forbidden("监控指标令牌不正确")
    if access == "not_local":
        raise Forbidden("监控指标只对本机开放；如需远程采集，请设置 CIVICGRID_METRICS_TOKEN 并携带该令牌")
