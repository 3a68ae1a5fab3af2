"""/healthz (the process answers), /readyz (the database answers, is migrated, has grids) and /metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import func, select, text

from civicgrid.cases.states import OPEN_REGISTERED
from civicgrid.db import get_engine, session_factory
from civicgrid.deps import UnitOfWorkRoute
from civicgrid.models import Case, GridGeneration, utcnow
from civicgrid.ops.observe import require_metrics_access

router = APIRouter(tags=["运维 ops"], route_class=UnitOfWorkRoute)

CASES_BY_STATE = Gauge("civicgrid_cases", "Cases by state", ["state"])
OVERDUE = Gauge("civicgrid_cases_overdue", "Open cases past their disposal due time (not held)")
SWEEPER_LAG = Gauge("civicgrid_sweeper_lag_seconds", "Seconds since the SLA sweeper last ran in this process")


@router.get("/healthz", summary="存活检查")
async def healthz() -> dict[str, str]:
    # On the event loop: the process answers even while every database thread is busy.
    return {"status": "ok"}


@router.get("/readyz", summary="就绪检查（数据库、迁移、网格）")
def readyz() -> Any:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from civicgrid.migrate import alembic_config
    from civicgrid.settings import get_settings

    checks: dict[str, str] = {}
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
            current = MigrationContext.configure(conn).get_current_revision()
            head = ScriptDirectory.from_config(alembic_config(get_settings().database_url)).get_current_head()
            checks["database"] = "ok"
            checks["migrations"] = (
                "ok" if current == head else f"数据库版本 {current}，应为 {head}：请运行 civicgrid migrate"
            )
            grids = conn.execute(
                select(func.count()).select_from(GridGeneration).where(GridGeneration.active.is_(True))
            ).scalar()
            checks["grids"] = "ok" if grids else "尚未导入网格"
    except Exception as exc:  # the point of a readiness probe is to say so, not to crash
        checks["database"] = f"无法连接数据库：{type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
    )


@router.get(
    "/metrics",
    summary="Prometheus 指标（需 CIVICGRID_METRICS_TOKEN 令牌；未设置时仅限本机）",
    response_class=Response,
    dependencies=[Depends(require_metrics_access)],
)
def metrics(request: Request) -> Response:
    sweeper = getattr(request.app.state, "sweeper", None)
    if sweeper is not None and sweeper.last_run is not None:
        SWEEPER_LAG.set((utcnow() - sweeper.last_run).total_seconds())
    with session_factory(write=False)() as s:
        for state, n in s.execute(select(Case.state, func.count()).group_by(Case.state)):
            CASES_BY_STATE.labels(state).set(n)
        OVERDUE.set(
            s.scalar(
                select(func.count())
                .select_from(Case)
                .where(
                    Case.state.in_([x.value for x in OPEN_REGISTERED]),
                    Case.due_at < utcnow(),
                    Case.held.is_(False),
                )
            )
            or 0
        )
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
