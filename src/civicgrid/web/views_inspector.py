"""监督员 pages (mobile): my tasks — 核实 (verifying) and 核查 (checking) in my grids, nearest first — and
reporting a problem found on patrol with photos and GPS. Verify and check (with photos) are taken on the
case page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from civicgrid.cases import present, repository
from civicgrid.cases.repository import CaseFilter
from civicgrid.cases.states import STATE_LABELS, State
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.geo.crs import haversine_m
from civicgrid.models import Case, utcnow
from civicgrid.org.roles import Principal
from civicgrid.web import lookups
from civicgrid.web.render import render
from civicgrid.web.session import CsrfForm, flash, require_web_roles
from civicgrid.web.views_citizen import report_form_page, submit_report

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

InspectorUser = Annotated[Principal, Depends(require_web_roles("inspector"))]
TASK_STATES = (State.verifying.value, State.checking.value)
TASK_LABELS = {State.verifying.value: "核实", State.checking.value: "核查"}
MAX_TASKS = 200


@dataclass(frozen=True)
class Task:
    case: Case
    kind: str
    category: str
    due: datetime | None
    distance_m: int | None


def my_tasks(session: Any, user: Principal, lng: float | None, lat: float | None) -> list[Task]:
    """Cases waiting for this inspector on site: nearest first if the position is known, else by time left."""
    rows, _ = repository.list_cases(
        session, user, CaseFilter(states=list(TASK_STATES)), page=1, page_size=MAX_TASKS
    )
    names = present.names(session)
    tasks = []
    for c in rows:
        if not user.covers_grid(c.grid_code):
            continue
        dist = (
            int(float(haversine_m(lng, lat, c.lng, c.lat))) if lng is not None and lat is not None else None
        )
        tasks.append(
            Task(c, TASK_LABELS[c.state], names.categories.get(c.category_code, ""), c.stage_due_at, dist)
        )
    far = datetime.max.replace(tzinfo=utcnow().tzinfo)
    if lng is not None and lat is not None:
        tasks.sort(key=lambda t: (t.distance_m or 0, t.due or far))
    else:
        tasks.sort(key=lambda t: (t.due or far, t.case.id))
    return tasks


@router.get("/inspector")
def inspector_home(
    request: Request,
    session: DbSession,
    user: InspectorUser,
    lng: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
) -> HTMLResponse:
    tasks = my_tasks(session, user, lng, lat)
    mine, _ = repository.list_cases(session, user, CaseFilter(source="inspector"), page=1, page_size=10)
    mine = [c for c in mine if c.reporter_user_id == user.user_id]
    now = utcnow()
    names = present.names(session)
    return render(
        request,
        "inspector/tasks.html",
        tasks=tasks,
        mine=mine,
        by_distance=lng is not None and lat is not None,
        points=lookups.json_block([lookups.map_point(t.case, now, names.categories) for t in tasks]),
    )


def _report_page(
    request: Request, session: Any, values: dict[str, str], error: str = "", status: int = 200
) -> HTMLResponse:
    return report_form_page(request, session, values, error, status, inspector=True)


@router.get("/inspector/report")
def inspector_report_page(request: Request, session: DbSession, user: InspectorUser) -> HTMLResponse:
    return _report_page(request, session, {})


@router.post("/inspector/report")
def inspector_report(request: Request, session: DbSession, user: InspectorUser, form: CsrfForm) -> Response:
    values = {
        k: str(form.get(k) or "").strip() for k in ("description", "lng", "lat", "address", "category_code")
    }
    result = submit_report(request, session, form, user, values, source="inspector", inspector=True)
    if isinstance(result, Response):
        return result  # refused: the form again, typed values and photos kept
    case = result.case
    state_label = STATE_LABELS.get(case.state, case.state)
    session.commit()
    response = RedirectResponse("/inspector", status_code=303)
    flash(
        response,
        "已上报 {number}，当前状态：{state}",
        "success",
        values={"number": case.number, "state": state_label},
    )
    return response
