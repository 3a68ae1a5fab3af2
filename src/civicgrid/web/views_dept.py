"""专业部门 inbox: dispatched, in-progress and overdue cases of my department; sign in one click.
Feedback (with photos), return (with a reason) and extension requests are taken on the case page."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from civicgrid.cases import present, repository, search
from civicgrid.cases.batch import actions_for as batch_actions_for
from civicgrid.cases.repository import CaseFilter
from civicgrid.cases.states import State
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.models import Department, utcnow
from civicgrid.org.roles import Principal
from civicgrid.web import lookups
from civicgrid.web.i18n import N_
from civicgrid.web.render import render
from civicgrid.web.session import require_web_roles
from civicgrid.web.views_center import Row, day_start, local_day, row_due, row_light

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
    q: Annotated[str, Query(max_length=search.MAX_CHARS)] = "",
    received_from: Annotated[str, Query(max_length=10)] = "",
    received_to: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    # Search and the received-date range narrow the tab's list; the counts stay those of the whole tabs.
    q = search.normalise(q)
    day_from, day_to = local_day(received_from), local_day(received_to)
    f = replace(
        TABS[tab],
        text=q if len(q) >= search.MIN_CHARS else None,
        received_from=day_start(day_from) if day_from else None,
        received_to=day_start(day_to + timedelta(days=1)) if day_to else None,
    )
    notices = []
    if 0 < len(q) < search.MIN_CHARS:
        notices.append(N_("搜索词至少 2 个字（或输入完整的案卷号、电话）"))
    if (received_from and day_from is None) or (received_to and day_to is None):
        notices.append(N_("日期格式应为 年-月-日，如 2026-11-30；未按该日期筛选"))
    rows, total = repository.list_cases(session, user, f, page=page, page_size=PAGE_SIZE)
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
            row_due(c),
        )
        for c in rows
    ]
    dept = session.get(Department, user.department_id) if user.department_id else None
    params = {"tab": tab, "q": q, "received_from": received_from, "received_to": received_to}
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
        base_qs=urlencode({k: v for k, v in params.items() if v}),
        filters=params,
        notices=notices,
        department=dept,
        back="/dept?" + urlencode({k: v for k, v in params.items() if v}),
        batch_actions=batch_actions_for(user),
    )
