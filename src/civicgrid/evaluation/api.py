"""HTTP routes of this domain (mounted by civicgrid.app): evaluation rows, weights, the monthly report."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request, Response
from fastapi.responses import HTMLResponse

from civicgrid.deps import DbSession
from civicgrid.errors import InvalidInput
from civicgrid.evaluation.catalog import UNIT_LABELS, UNITS
from civicgrid.evaluation.period import HELP, parse_period
from civicgrid.evaluation.weights import load_weights, save_weights
from civicgrid.fields import SaneDateTime
from civicgrid.jsonbody import JsonRoute
from civicgrid.org.auth import AdminUser, require_roles
from civicgrid.org.roles import Principal
from civicgrid.security.audit import record
from civicgrid.security.exportlog import SecurityLog, log_http_export
from civicgrid.settings import get_settings

router = APIRouter(prefix="/api/v1", tags=["综合评价 evaluation"], route_class=JsonRoute)
Leader = Annotated[Principal, Depends(require_roles("leader", "admin"))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _unit(unit: str) -> str:
    if unit not in UNITS:
        raise InvalidInput(
            f"未知的评价对象：{unit}，可选 {'、'.join(f'{u}（{UNIT_LABELS[u]}）' for u in UNITS)}"
        )
    return unit


@router.get("/evaluation", summary="综合评价：各指标、得分、等级与排名（领导、管理员）")
def get_evaluation(
    session: DbSession,
    _: Leader,
    period: Annotated[str, Query(description=HELP)],
    unit: Annotated[
        str, Query(description="department street community grid inspector operator shift_lead dispatcher")
    ] = "department",
    as_of: Annotated[
        SaneDateTime | None, Query(description="统计截止时刻（默认现在），用于复现历史结果")
    ] = None,
) -> dict[str, Any]:
    from civicgrid.evaluation.live import evaluate_live

    p = parse_period(period, get_settings().timezone)
    return evaluate_live(session, p, _unit(unit), as_of=as_of).to_json()


@router.get("/evaluation/weights", summary="当前生效的评价权重、分值档和等级线")
def get_weights(_: Leader) -> dict[str, Any]:
    return load_weights().to_json()


@router.put("/evaluation/weights", summary="修改评价权重（管理员）；校验不通过返回 422 与中文说明")
def put_weights(
    session: DbSession,
    admin: AdminUser,
    body: Annotated[dict[str, Any], Body(description="完整的权重配置 JSON")],
) -> dict[str, Any]:
    cfg = save_weights(body)
    record(
        session,
        "evaluation_weights_changed",
        user_id=admin.user_id,
        subject="综合评价权重",
        data={"version": cfg.version},
    )
    return cfg.to_json()


@router.get("/reports/monthly", summary="月度考核通报（Excel 或可打印网页）", response_model=None)
def get_monthly(
    request: Request,
    session: DbSession,
    leader: Leader,
    security_log: SecurityLog,
    period: Annotated[str, Query(description=HELP)],
    format: Annotated[Literal["html", "xlsx"], Query(description="html 或 xlsx")] = "html",
    as_of: Annotated[SaneDateTime | None, Query(description="统计截止时刻（默认现在）")] = None,
) -> Response:
    from civicgrid.evaluation.live import monthly_live

    p = parse_period(period, get_settings().timezone)
    report = monthly_live(session, p, as_of=as_of)
    response: Response
    if format == "xlsx":
        from civicgrid.evaluation.xlsx import monthly_workbook

        name = quote(f"月度考核通报-{p.key}.xlsx")
        response = Response(
            monthly_workbook(report),
            media_type=XLSX,
            headers={
                "Content-Disposition": (
                    f"attachment; filename=\"report-{p.key}.xlsx\"; filename*=UTF-8''{name}"
                )
            },
        )
    else:
        from civicgrid.evaluation.html import monthly_html

        response = HTMLResponse(monthly_html(report))
    log_http_export(
        security_log,
        request,
        leader,
        what="monthly_report",
        fmt=format,
        filters={"period": p.key, "as_of": as_of},
        rows=sum(len(section.rows) for section in report.sections.values()),
    )
    return response


def install(app: FastAPI) -> None:
    """Mount this domain's routes on the application."""
    app.include_router(router)
