"""/healthz (the process answers), /readyz (the database answers, is migrated, has grids) and /metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import func, select, text

from civicgrid import warmup
from civicgrid.cases.states import OPEN_REGISTERED
from civicgrid.db import get_engine
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.models import Case, GridGeneration, utcnow
from civicgrid.notify import outbox
from civicgrid.ops.observe import require_metrics_access

router = APIRouter(tags=["运维 ops"], route_class=UnitOfWorkRoute)

CASES_BY_STATE = Gauge("civicgrid_cases", "Cases by state", ["state"])
OVERDUE = Gauge("civicgrid_cases_overdue", "Open cases past their disposal due time (not held)")
JOB_LAG = Gauge("civicgrid_job_lag_seconds", "Seconds since a periodic job last ran in this process", ["job"])
JOB_FAILURES = Gauge("civicgrid_job_failures", "Failed runs of a periodic job in this process", ["job"])
OUTBOX_PENDING = Gauge("civicgrid_outbox_pending", "Outbox deliveries not yet delivered")
OUTBOX_FAILING = Gauge("civicgrid_outbox_failing", "Undelivered outbox rows that have failed repeatedly")
OUTBOX_OLDEST = Gauge("civicgrid_outbox_oldest_pending_seconds", "Age of the oldest undelivered outbox row")


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
    # A process still loading its models at start-up takes no staff work yet (civicgrid/warmup.py).
    loading = warmup.pending()
    checks["warm_up"] = "；".join(loading.values()) if loading else "ok"
    ready = all(v == "ok" for v in checks.values())
    # The long-running services run in their own processes (``civicgrid services run``), often elsewhere:
    # their lines inform, they do not make the web unready.
    from civicgrid.jobs.services import status as services_status

    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks, "services": services_status()},
        status_code=200 if ready else 503,
    )


@router.get(
    "/metrics",
    summary="Prometheus 指标（需 CIVICGRID_METRICS_TOKEN 令牌；未设置时仅限本机）",
    response_class=Response,
    dependencies=[Depends(require_metrics_access)],
)
def metrics(request: Request, s: DbSession) -> Response:
    runner = getattr(request.app.state, "jobs", None)
    if runner is not None:
        for name, st in runner.status.items():
            if st.last_run is not None:
                JOB_LAG.labels(name).set((utcnow() - st.last_run).total_seconds())
            JOB_FAILURES.labels(name).set(st.failures)
    box = outbox.stats(s)
    OUTBOX_PENDING.set(box.pending)
    OUTBOX_FAILING.set(box.failing)
    OUTBOX_OLDEST.set(box.oldest_pending_s)
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
