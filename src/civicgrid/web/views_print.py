"""Print layouts: a case's 派遣单 (dispatch sheet), 处置单 (disposal sheet) and whole 案卷 (case file,
with the timeline's public and internal notes and every photo), as A4 pages without navigation (``print/*``,
``static/css/print.css``); and the monthly report (月度考核通报) for leaders, with its Excel export.

Each page reads the case through the same scoped ``get_case`` as the case page: a handler prints only their
department's cases. Personal data shows as the case page shows it (``present.case_out`` masks by role).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from civicgrid.cases import attachments, present, repository, sources
from civicgrid.cases.states import CLOSE_TYPE_LABELS
from civicgrid.deps import DbSession, RowId, UnitOfWorkRoute
from civicgrid.errors import NotFound
from civicgrid.evaluation.html import Toolbar, monthly_css, monthly_html
from civicgrid.evaluation.live import monthly_live
from civicgrid.evaluation.period import parse_period
from civicgrid.evaluation.report import MonthlyReport
from civicgrid.evaluation.xlsx import monthly_workbook
from civicgrid.models import CaseEvent, utcnow
from civicgrid.org.roles import Principal
from civicgrid.security.exportlog import SecurityLog, log_http_export
from civicgrid.settings import get_settings
from civicgrid.web import lookups
from civicgrid.web.i18n import N_
from civicgrid.web.render import local, render
from civicgrid.web.session import WebUser, require_web_roles
from civicgrid.web.views_case import STAFF_ROLES
from civicgrid.web.views_export import xlsx_response

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)
Leader = Annotated[Principal, Depends(require_web_roles("leader"))]

SHEETS = {"dispatch": N_("派遣单"), "disposal": N_("处置单"), "file": N_("案卷")}
REPORT_MONTHS = 12  # the months offered in the report's period picker


def _last(events: list[CaseEvent], *actions: str) -> CaseEvent | None:
    found = [e for e in events if e.action in actions]
    return max(found, key=lambda e: (e.created_at, e.id)) if found else None


@router.get("/cases/{case_id}/print/{sheet}")
def print_case(
    case_id: RowId, sheet: str, request: Request, session: DbSession, user: WebUser
) -> HTMLResponse:
    if sheet not in SHEETS or not user.has_any(STAFF_ROLES):
        raise NotFound("没有这种打印单")
    case = repository.get_case(session, user, case_id, with_events=True)
    names = present.names(session)
    now = utcnow()
    events = sorted(case.events, key=lambda e: (e.created_at, e.id))
    areas = lookups.area_names(session, {case.street_code, case.community_code})
    photos = attachments.photos(case.attachments)
    split = attachments.before_after(case.attachments)
    return render(
        request,
        f"print/{sheet}.html",
        sheet=sheet,
        sheet_title=SHEETS[sheet],
        case=case,
        out=present.case_out(case, user, names, now),
        street_name=areas.get(case.street_code, case.street_code),
        community_name=areas.get(case.community_code, case.community_code),
        source_label=sources.label(case.source),
        dispatch=_last(events, "dispatch"),
        register=_last(events, "register"),
        feedback=_last(events, "feedback"),
        check=_last(events, "check"),
        close=_last(events, "close"),
        items=list(reversed(lookups.timeline(events, public=False))),  # oldest first on paper
        photos=photos,
        before=split.before,
        after=split.after,
        close_type=CLOSE_TYPE_LABELS.get(case.close_type or "", case.close_type or ""),
        printed_at=now,
    )


# --- The monthly report -------------------------------------------------------------------------------------


def _months(today: date, n: int = REPORT_MONTHS) -> list[tuple[str, str]]:
    """The last ``n`` months, this one first, as (period key, label)."""
    out = []
    year, month = today.year, today.month
    for _ in range(n):
        out.append((f"{year}-{month:02d}", f"{year}年{month}月"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def _monthly(
    request: Request, session: Any, user: Principal, security_log: Any, period: str, fmt: str
) -> MonthlyReport:
    """The report of the chosen month (this month so far by default), its reading recorded in the security
    log as the page or the workbook that shows it."""
    today = local(utcnow()).date()
    p = parse_period(period or f"{today.year}-{today.month:02d}", get_settings().timezone)
    report = monthly_live(session, p)
    log_http_export(
        security_log,
        request,
        user,
        what="monthly_report",
        fmt=fmt,
        filters={"period": p.key},
        rows=sum(len(section.rows) for section in report.sections.values()),
        channel="web",
    )
    return report


@router.get("/leader/report")
def monthly_report(
    request: Request,
    session: DbSession,
    user: Leader,
    security_log: SecurityLog,
    period: Annotated[str, Query(max_length=24)] = "",
) -> HTMLResponse:
    """月度考核通报 for the chosen month, ready to print."""
    report = _monthly(request, session, user, security_log, period, "html")
    toolbar = Toolbar(
        back="/leader",
        action="/leader/report",
        xlsx=f"/leader/report.xlsx?period={quote(report.period.key)}",
        periods=_months(local(utcnow()).date()),
    )
    return HTMLResponse(monthly_html(report, stylesheet="/leader/report.css", toolbar=toolbar))


@router.get("/leader/report.xlsx")
def monthly_report_xlsx(
    request: Request,
    session: DbSession,
    user: Leader,
    security_log: SecurityLog,
    period: Annotated[str, Query(max_length=24)] = "",
) -> Response:
    """The monthly report and every evaluation table (one sheet per kind of unit) as a workbook."""
    report = _monthly(request, session, user, security_log, period, "xlsx")
    return xlsx_response(monthly_workbook(report), f"月度考核通报{report.period.key}")


@router.get("/leader/report.css")
def monthly_report_css(user: Leader) -> Response:
    return Response(
        monthly_css(),
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "private, max-age=3600"},
    )
