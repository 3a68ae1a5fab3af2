"""受理员 / 值班长 / 派遣员 command center: the case queue with traffic lights, filters and paging."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from civicgrid.cases import present, repository
from civicgrid.cases.repository import CaseFilter
from civicgrid.cases.states import FINAL, OPEN, STATE_LABELS, State
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.models import Case, utcnow
from civicgrid.org.roles import Principal
from civicgrid.web import lookups
from civicgrid.web.render import render
from civicgrid.web.session import require_web_roles

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

CENTER_ROLES = ("operator", "shift_lead", "dispatcher", "leader", "admin")
CenterUser = Annotated[Principal, Depends(require_web_roles(*CENTER_ROLES))]
PAGE_SIZE = 20
S = State

# What waits for each role of the center (监督与指挥分离: the dispatcher only sees what is ready to dispatch).
INBOX_STATES: dict[str, tuple[State, ...]] = {
    "operator": (S.received, S.feedback),
    "shift_lead": (S.received, S.verified, S.checked),
    "dispatcher": (S.registered, S.returned),
}
OPEN_STATES = tuple(s.value for s in State if s in OPEN)


@dataclass(frozen=True)
class Row:
    case: Case
    category: str
    street: str
    light: str
    due: datetime | None


def todo_states(user: Principal) -> list[str]:
    states: list[str] = []
    for role, wanted in INBOX_STATES.items():
        if user.has(role):
            states.extend(s.value for s in wanted if s.value not in states)
    return states


def row_light(case: Case, now: datetime) -> str:
    """The disposal light once dispatched; before that, red when the current stage (核实/立案派遣) is late."""
    lt = present.light(case, now)
    if lt != "none" or case.state in {s.value for s in FINAL}:
        return lt
    return "red" if case.stage_due_at and now > case.stage_due_at else "none"


def _filter(
    tab: str, user: Principal, state: str, category: str, street: str, overdue: bool, q: str
) -> CaseFilter:
    f = CaseFilter(
        category_code=category or None, street_code=street or None, number=q.strip().upper() or None
    )
    if state:
        f.states = [state]
    elif tab == "todo":
        f.states = todo_states(user) or list(OPEN_STATES)
    elif tab in {"open", "overdue"}:
        f.states = list(OPEN_STATES)
    if overdue or tab == "overdue":
        f.overdue = True
    return f


@router.get("/center")
def center(
    request: Request,
    session: DbSession,
    user: CenterUser,
    tab: Annotated[str, Query(pattern="^(todo|open|overdue|all)$")] = "",
    state: Annotated[str, Query(max_length=16)] = "",
    category: Annotated[str, Query(max_length=8)] = "",
    street: Annotated[str, Query(max_length=20)] = "",
    overdue: bool = False,
    q: Annotated[str, Query(max_length=24)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    if state and state not in STATE_LABELS:
        state = ""
    tab = tab or ("todo" if todo_states(user) else "open")
    f = _filter(tab, user, state, category, street, overdue, q)
    rows, total = repository.list_cases(session, user, f, page=page, page_size=PAGE_SIZE)
    names = present.names(session)
    streets = lookups.street_choices(session)
    street_names = {c.value: c.label for c in streets}
    now = utcnow()
    items = [
        Row(
            c,
            names.categories.get(c.category_code, c.category_code),
            street_names.get(c.street_code, ""),
            row_light(c, now),
            lookups.stage_due(c),
        )
        for c in rows
    ]
    counts = {
        t: repository.list_cases(session, user, _filter(t, user, "", "", "", False, ""), page=1, page_size=1)[
            1
        ]
        for t in ("todo", "open", "overdue")
        if t != "todo" or todo_states(user)
    }
    params = {"tab": tab, "state": state, "category": category, "street": street, "q": q}
    if overdue:
        params["overdue"] = "1"
    base_qs = urlencode({k: v for k, v in params.items() if v})
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return render(
        request,
        "center/queue.html",
        items=items,
        total=total,
        page=page,
        pages=pages,
        base_qs=base_qs,
        counts=counts,
        tab=tab,
        filters=params | {"overdue": overdue},
        states=[(s.value, STATE_LABELS[s.value]) for s in State],
        categories=lookups.category_choices(session),
        streets=streets,
        points=lookups.json_block([lookups.map_point(c, now, names.categories) for c in rows]),
        back=str(request.url.path) + ("?" + str(request.url.query) if request.url.query else ""),
    )
