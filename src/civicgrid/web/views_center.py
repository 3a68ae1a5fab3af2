"""受理员 / 值班长 / 派遣员 command center: the case queue with traffic lights, search, filters, column sort
and paging. ``_filter`` turns the queue's parameters into a ``CaseFilter``; the map of all matching cases
(views_map.py) calls it with the same parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from civicgrid.cases import present, repository, search
from civicgrid.cases.batch import actions_for as batch_actions_for
from civicgrid.cases.repository import CaseFilter
from civicgrid.cases.states import FINAL, OPEN, STATE_LABELS, State
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.models import Case, utcnow
from civicgrid.org.roles import Principal
from civicgrid.settings import get_settings
from civicgrid.sla.deadlines import register_dispatch_due
from civicgrid.web import lookups
from civicgrid.web.i18n import N_
from civicgrid.web.render import render
from civicgrid.web.session import require_web_roles

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

CENTER_ROLES = ("operator", "shift_lead", "dispatcher", "leader", "admin")
CenterUser = Annotated[Principal, Depends(require_web_roles(*CENTER_ROLES))]
PAGE_SIZE = 20
PAGE_SIZES = (20, 50, 100)
SORTS = ("due", "-due", "received", "-received")
DEFAULT_SORT = "-received"
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
    department: str = ""


def todo_states(user: Principal) -> list[str]:
    states: list[str] = []
    for role, wanted in INBOX_STATES.items():
        if user.has(role):
            states.extend(s.value for s in wanted if s.value not in states)
    return states


def accept_due(case: Case) -> datetime | None:
    """待受理: when the case must be registered and dispatched (SPEC §6: 10 min urgent, 30 min other)."""
    return register_dispatch_due(case.received_at, case.urgent) if case.state == S.received.value else None


def row_due(case: Case) -> datetime | None:
    """The deadline a row counts down to: ``lookups.stage_due``, or the 待受理 limit from receipt."""
    return lookups.stage_due(case) or accept_due(case)


def row_light(case: Case, now: datetime) -> str:
    """The disposal light once dispatched; before that, red when the current stage is late (受理 and
    立案派遣 from receipt, 核实, 核查)."""
    lt = present.light(case, now)
    if lt != "none" or case.state in {s.value for s in FINAL}:
        return lt
    due = case.stage_due_at or accept_due(case)
    return "red" if due and now > due else "none"


def local_day(value: str) -> date | None:
    """A YYYY-MM-DD date typed in a filter, or None when empty or not a date."""
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def day_start(day: date) -> datetime:
    """Local midnight (the district's time zone) beginning ``day``, in UTC."""
    return datetime.combine(day, time(), ZoneInfo(get_settings().timezone)).astimezone(UTC)


def _filter(
    tab: str,
    user: Principal,
    state: str,
    category: str,
    street: str,
    overdue: bool,
    q: str,
    *,
    department: str = "",
    received_from: date | None = None,
    received_to: date | None = None,
) -> CaseFilter:
    """The queue's parameters as a filter. ``q`` searches (cases/search.py) once it has 2 characters;
    ``received_to`` is inclusive (the whole local day)."""
    text = search.normalise(q)
    f = CaseFilter(
        category_code=category or None,
        street_code=street or None,
        department_code=department or None,
        text=text if len(text) >= search.MIN_CHARS else None,
        received_from=day_start(received_from) if received_from else None,
        received_to=day_start(received_to + timedelta(days=1)) if received_to else None,
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


def sort_links(base: dict[str, str], sort: str) -> dict[str, tuple[str, str]]:
    """Per sortable column: the link that sorts by it (again: the other way) and its aria-sort state.
    Time left sorts most urgent first; received, newest first."""
    out = {}
    for key, first in (("due", "due"), ("received", "-received")):
        if sort.removeprefix("-") == key:
            target = key if sort.startswith("-") else f"-{key}"
            state = "descending" if sort.startswith("-") else "ascending"
        else:
            target, state = first, "none"
        out[key] = ("/center?" + urlencode(base | {"sort": target}), state)
    return out


@router.get("/center")
def center(
    request: Request,
    session: DbSession,
    user: CenterUser,
    tab: Annotated[str, Query(pattern="^(todo|open|overdue|all)$")] = "",
    state: Annotated[str, Query(max_length=16)] = "",
    category: Annotated[str, Query(max_length=8)] = "",
    street: Annotated[str, Query(max_length=20)] = "",
    department: Annotated[str, Query(max_length=20)] = "",
    received_from: Annotated[str, Query(max_length=10)] = "",
    received_to: Annotated[str, Query(max_length=10)] = "",
    overdue: bool = False,
    q: Annotated[str, Query(max_length=search.MAX_CHARS)] = "",
    sort: Annotated[str, Query(max_length=10)] = "",
    size: Annotated[int, Query(ge=1, le=1000)] = PAGE_SIZE,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    if state and state not in STATE_LABELS:
        state = ""
    sort = sort if sort in SORTS else DEFAULT_SORT
    size = size if size in PAGE_SIZES else PAGE_SIZE
    day_from, day_to = local_day(received_from), local_day(received_to)
    notices = []
    if (received_from and day_from is None) or (received_to and day_to is None):
        notices.append(N_("日期格式应为 年-月-日，如 2026-11-30；未按该日期筛选"))
    if day_from and day_to and day_to < day_from:
        notices.append(N_("结束日期早于开始日期，没有案卷能符合"))
    q = search.normalise(q)
    if 0 < len(q) < search.MIN_CHARS:
        notices.append(N_("搜索词至少 2 个字（或输入完整的案卷号、电话）"))
    tab = tab or ("todo" if todo_states(user) else "open")
    f = _filter(
        tab,
        user,
        state,
        category,
        street,
        overdue,
        q,
        department=department,
        received_from=day_from,
        received_to=day_to,
    )
    rows, total = repository.list_cases(session, user, f, page=page, page_size=size, sort=sort)
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
            row_due(c),
            names.departments.get(c.department_id, ("", ""))[1] if c.department_id else "",
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
    params = {
        "tab": tab,
        "state": state,
        "category": category,
        "street": street,
        "department": department,
        "received_from": received_from,
        "received_to": received_to,
        "q": q,
    }
    if overdue:
        params["overdue"] = "1"
    kept = {k: v for k, v in params.items() if v}
    extra = {
        k: v for k, v in (("sort", sort), ("size", str(size))) if v not in (DEFAULT_SORT, str(PAGE_SIZE))
    }
    base_qs = urlencode(kept | extra)
    pages = max(1, (total + size - 1) // size)
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
        filters=params | {"overdue": overdue, "sort": sort, "size": size},
        notices=notices,
        sorting=sort_links(kept | ({"size": str(size)} if size != PAGE_SIZE else {}), sort),
        page_sizes=PAGE_SIZES,
        show_department=True,
        states=[(s.value, STATE_LABELS[s.value]) for s in State],
        categories=lookups.category_choices(session),
        streets=streets,
        departments=lookups.department_choices(session),
        points=lookups.json_block([lookups.map_point(c, now, names.categories) for c in rows]),
        back=str(request.url.path) + ("?" + str(request.url.query) if request.url.query else ""),
        batch_actions=batch_actions_for(user),
        batch_departments=lookups.department_choices(session) if user.has("dispatcher") else [],
    )
