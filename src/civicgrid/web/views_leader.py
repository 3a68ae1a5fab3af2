"""The leader's dashboard page (领导驾驶舱) and 督办: the figures come from ``analytics/cockpit.py``."""

from __future__ import annotations

import json
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from civicgrid.analytics.cockpit import (
    UNIT_KINDS,
    categories,
    departments,
    grid_geojson,
    kpis,
    overdue_cases,
    period_start,
    rankings,
    supervised_cases,
    trend,
)
from civicgrid.cases.repository import get_case
from civicgrid.cases.transition import transition
from civicgrid.deps import DbSession, RowId, UnitOfWorkRoute
from civicgrid.errors import AppError
from civicgrid.models import utcnow
from civicgrid.org.roles import Principal
from civicgrid.replica import ReadSession, label, pin_primary
from civicgrid.settings import get_settings
from civicgrid.web import i18n
from civicgrid.web.render import render
from civicgrid.web.session import CsrfForm, flash, require_web_roles

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)
Leader = Annotated[Principal, Depends(require_web_roles("leader"))]

PERIODS = (7, 30, 90, 365)
DEFAULT_NOTE = "超期未处置，请责任单位加快办理并及时反馈"


# --- Pages --------------------------------------------------------------------------------------------------


def _days(days: int) -> int:
    return days if days in PERIODS else 30


def _json_block(data: Any) -> Markup:
    """JSON safe to print inside <script type="application/json"> (no '</script>' breakout)."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@router.get("/leader", response_class=HTMLResponse)
def dashboard(
    request: Request, session: ReadSession, user: Leader, days: Annotated[int, Query()] = 30
) -> Response:
    days = _days(days)
    now = utcnow()
    since = period_start(now, days)
    k = kpis(session, since, now)
    weekly = days > 90
    cats = categories(session, since)
    ranks = rankings(departments(session, since, now))
    tr = i18n.gettext_for(i18n.request_lang(request))
    charts = {
        "trend": trend(session, since, now, weekly),
        "categories": [c | {"name": tr(c["name"])} for c in cats],
        "weekly": weekly,
    }
    page = render(
        request,
        "leader/dashboard.html",
        days=days,
        since_day=since.astimezone(ZoneInfo(get_settings().timezone)).date().isoformat(),
        periods=PERIODS,
        kpis=k,
        rankings=ranks,
        unit_kinds=UNIT_KINDS,
        overdue=overdue_cases(session, now),
        supervised=supervised_cases(session),
        charts=_json_block(charts),
        default_note=DEFAULT_NOTE,
    )
    return label(request, page)


@router.get("/leader/supervised", response_class=HTMLResponse)
def supervised_list(request: Request, session: ReadSession, user: Leader) -> Response:
    """督办跟踪, all of it: the cases the 督办中 tile counts."""
    items = supervised_cases(session, limit=None)
    return label(request, render(request, "leader/supervised.html", supervised=items))


@router.get("/web/api/leader/grids")
def grids(
    request: Request, session: ReadSession, user: Leader, days: Annotated[int, Query()] = 30
) -> Response:
    now = utcnow()
    body = grid_geojson(session, period_start(now, _days(days)), now)
    response = Response(
        body, media_type="application/geo+json", headers={"Cache-Control": "private, max-age=60"}
    )
    return label(request, response)


@router.post("/leader/cases/{case_id}/supervise")
def supervise(request: Request, case_id: RowId, session: DbSession, user: Leader, form: CsrfForm) -> Response:
    note = str(form.get("note") or "").strip()
    raw_days = str(form.get("days") or "")
    back = f"/leader?days={_days(int(raw_days)) if raw_days.isdigit() else 30}"
    response = RedirectResponse(back + "#overdue", status_code=303)
    try:
        case_row = get_case(session, user, case_id)
        transition(session, case_row, "supervise", user, {"note": note})
    except AppError as exc:
        session.rollback()
        flash(response, exc.message, "error", request)
        return response
    session.commit()
    pin_primary(response)  # the dashboard it returns to shows this 督办 even if the replica is behind
    flash(response, f"已督办案卷 {case_row.number}，已通知责任单位", "success", request)
    return response
