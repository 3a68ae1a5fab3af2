"""HTTP routes: dashboard, hotspots, recurring problems, spikes (leader/admin); case exports (scoped)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import StreamingResponse

from civicgrid.analytics import exports, queries, service
from civicgrid.analytics.settings import get_analytics_settings
from civicgrid.cases.repository import CaseFilter
from civicgrid.cases.states import State
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.fields import SaneDateTime
from civicgrid.models import utcnow
from civicgrid.org.auth import CurrentUser, require_roles
from civicgrid.org.roles import Principal
from civicgrid.replica import ReadSession
from civicgrid.security.exportlog import SecurityLog, log_http_export

LeaderUser = Annotated[Principal, Depends(require_roles("leader", "admin"))]
router = APIRouter(prefix="/api/v1", tags=["统计分析 analytics"], route_class=UnitOfWorkRoute)


@router.get("/analytics/dashboard", summary="领导驾驶舱：总量、分类、来源、区域、部门、超期与趋势")
def dashboard(
    session: ReadSession,
    _: LeaderUser,
    period: Annotated[str, Query(description="统计周期：week / month / quarter / year")] = "month",
) -> dict[str, Any]:
    if period not in queries.PERIODS:
        from civicgrid.errors import InvalidInput

        raise InvalidInput(f"未知的统计周期：{period}，可选 {'、'.join(queries.PERIODS)}")
    cur = service.request_cursor(session)
    return queries.dashboard(cur, period=period, now=utcnow())


@router.get("/analytics/hotspots", summary="热点（H3 六边形或单元网格，GeoJSON）")
def hotspots(
    session: ReadSession,
    _: LeaderUser,
    level: Annotated[str, Query(pattern="^(h3|grid)$", description="h3 或 grid")] = "h3",
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    top: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> dict[str, Any]:
    cur = service.request_cursor(session, with_grids=level == "h3")
    items = queries.hotspots(cur, level=level, now=utcnow(), days=days, top=top)
    geometry = service.grid_geometry(session, [i["cell"] for i in items]) if level == "grid" else None
    return queries.hotspots_geojson(items, level=level, geometry=geometry)


@router.get("/analytics/recurring", summary="反复发生的问题（同一网格同一类别）")
def recurring(
    session: ReadSession,
    _: LeaderUser,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    min_count: Annotated[int | None, Query(ge=2)] = None,
) -> list[dict[str, Any]]:
    cur = service.request_cursor(session)
    n = min_count or get_analytics_settings().recurring_min
    return queries.recurring(cur, now=utcnow(), days=days, min_count=n)


@router.get("/analytics/spikes", summary="异常激增预警（街道 × 类别，近 7 天对比前 8 周）")
def spikes(session: ReadSession, _: LeaderUser) -> list[dict[str, Any]]:
    cfg = get_analytics_settings()
    cur = service.request_cursor(session)
    return queries.spikes(
        cur,
        now=utcnow(),
        min_count=cfg.spike_min_count,
        ratio=cfg.spike_ratio,
        z=cfg.spike_z,
        names=service.names(session),
    )


@router.get("/exports/cases", summary="导出案卷（CSV / Excel / Parquet，按权限范围，筛选同案卷列表）")
def export_cases(
    request: Request,
    session: DbSession,
    actor: CurrentUser,
    security_log: SecurityLog,
    format: Annotated[str, Query(description="csv / xlsx / parquet")] = "csv",
    state: Annotated[list[State] | None, Query(description="状态，可多选")] = None,
    category: str | None = None,
    department: str | None = None,
    street: str | None = None,
    community: str | None = None,
    grid: str | None = None,
    source: str | None = None,
    received_from: SaneDateTime | None = None,
    received_to: SaneDateTime | None = None,
    overdue: bool | None = None,
    number: str | None = None,
) -> Response:
    fmt = exports.check_format(format)
    f = CaseFilter(
        states=[s.value for s in state] if state else None,
        category_code=category,
        department_code=department,
        street_code=street,
        community_code=community,
        grid_code=grid,
        source=source,
        received_from=received_from,
        received_to=received_to,
        overdue=overdue,
        number=number,
    )
    rows = exports.export_rows(session, actor, f)
    stamp = utcnow().strftime("%Y%m%d%H%M")
    disposition = {"Content-Disposition": f'attachment; filename="cases-{stamp}.{fmt}"'}
    body = None
    if fmt == "xlsx":
        body = exports.xlsx_bytes(rows, get_analytics_settings().xlsx_max_rows)
    elif fmt == "parquet":
        body = exports.parquet_bytes(rows)
    # Recorded (and committed) before any byte of the export leaves; a refused export is not recorded.
    log_http_export(security_log, request, actor, what="cases", fmt=fmt, filters=f, rows=len(rows))
    if body is None:
        return StreamingResponse(
            exports.csv_chunks(rows), media_type=exports.FORMATS[fmt], headers=disposition
        )
    return Response(body, media_type=exports.FORMATS[fmt], headers=disposition)


def install(app: FastAPI) -> None:
    """Mount the analytics and export routes."""
    app.include_router(router)
