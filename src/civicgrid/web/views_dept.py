"""专业部门 inbox: dispatched, in-progress and overdue cases of my department; sign in one click.
Feedback (with photos), return (with a reason) and extension requests are taken on the case page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from civicgrid.cases import present, repository
from civicgrid.cases.repository import CaseFilter
from civicgrid.cases.states import State
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.models import Department, utcnow
from civicgrid.org.roles import Principal
from civicgrid.web import lookups
from civicgrid.web.render import render
from civicgrid.web.session import require_web_roles
from civicgrid.web.views_center import Row, row_light

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

DeptUser = Annotated[Principal, Depends(require_web_roles("handler"))]
PAGE_SIZE = 20
TABS: dict[str, CaseFilter] = {
    "new": CaseFilter(states=[State.dispatched.value]),
    "doing": CaseFilter(states=[State.processing.value]),
    "overdue": CaseFilter(overdue=True),
    "done": CaseFilter(states=[State.feedback.value, State.checking.value, State.checked.value]),
    "all": CaseFilter(),
}
TAB_LABELS = {"new": "待签收", "doing": "处置中", "overdue": "已超期", "done": "待核查", "all": "全部"}


@router.get("/dept")
def dept_inbox(
    request: Request,
    session: DbSession,
    user: DeptUser,
    tab: Annotated[str, Query(pattern="^(new|doing|overdue|done|all)$")] = "new",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    rows, total = repository.list_cases(session, user, TABS[tab], page=page, page_size=PAGE_SIZE)
    counts = {
        t: repository.list_cases(session, user, f, page=1, page_size=1)[1]
        for t, f in TABS.items()
        if t != "all"
    }
    names = present.names(session)
    streets = {c.value: c.label for c in lookups.street_choices(session)}
    now = utcnow()
    items = [
        Row(
            c,
            names.categories.get(c.category_code, c.category_code),
            streets.get(c.street_code, ""),
            row_light(c, now),
            lookups.stage_due(c),
        )
        for c in rows
    ]
    dept = session.get(Department, user.department_id) if user.department_id else None
    return render(
        request,
        "dept/inbox.html",
        items=items,
        total=total,
        counts=counts,
        tab=tab,
        tabs=TAB_LABELS,
        page=page,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        base_qs=urlencode({"tab": tab}),
        department=dept,
        back=f"/dept?tab={tab}",
    )
