"""受理员 / 值班长 / 派遣员 command center: the case queue with traffic lights, search, filters, column sort
and paging. The queue's parameters are one dependency (``Queue``, read into ``QueueParams``) and
``queue_filter`` turns them into a ``CaseFilter``: the queue's Excel export (views_export.py) and its map of
all matching cases (views_map.py) take the same dependency and the same filter."""

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
from civicgrid.cases.states import FINAL, OPEN, OPEN_REGISTERED, STATE_LABELS, State
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
IN_WORK_STATES = tuple(s.value for s in State if s in OPEN_REGISTERED)  # 在办: registered, not finished


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


@dataclass(frozen=True)
class QueueParams:
    """The queue's filter as the query string gives it (/center, its Excel export and its map of all
    matching cases): an unknown state and an unknown sort are dropped, ``q`` is normalised, dates stay as
    typed (``day_from``/``day_to`` read them; a bad one filters nothing)."""

    tab: str = ""
    state: str = ""
    category: str = ""
    street: str = ""
    department: str = ""
    received_from: str = ""
    received_to: str = ""
    registered_from: str = ""  # the leader's cards link here: 立案数, 结案数 of a period, 在办案卷
    closed_from: str = ""
    stage: str = ""  # "registered": 在办 (registered, not finished)
    overdue: bool = False
    q: str = ""
    sort: str = DEFAULT_SORT

    @property
    def day_from(self) -> date | None:
        return local_day(self.received_from)

    @property
    def day_to(self) -> date | None:
        return local_day(self.received_to)

    def links(self, tab: str) -> dict[str, str]:
        """The parameters a link back to this list carries (``tab`` as shown), empty ones left out."""
        params = {
            "tab": tab,
            "state": self.state,
            "category": self.category,
            "street": self.street,
            "department": self.department,
            "received_from": self.received_from,
            "received_to": self.received_to,
            "registered_from": self.registered_from,
            "closed_from": self.closed_from,
            "stage": self.stage,
            "q": self.q,
        }
        if self.overdue:
            params["overdue"] = "1"
        return params


def queue_params(
    tab: Annotated[str, Query(pattern="^(todo|open|overdue|all)$")] = "",
    state: Annotated[str, Query(max_length=16)] = "",
    category: Annotated[str, Query(max_length=8)] = "",
    street: Annotated[str, Query(max_length=20)] = "",
    department: Annotated[str, Query(max_length=20)] = "",
    received_from: Annotated[str, Query(max_length=10)] = "",
    received_to: Annotated[str, Query(max_length=10)] = "",
    registered_from: Annotated[str, Query(max_length=10)] = "",
    closed_from: Annotated[str, Query(max_length=10)] = "",
    stage: Annotated[str, Query(pattern="^(registered)?$")] = "",
    overdue: bool = False,
    q: Annotated[str, Query(max_length=search.MAX_CHARS)] = "",
    sort: Annotated[str, Query(max_length=10)] = "",
) -> QueueParams:
    return QueueParams(
        tab=tab,
        state=state if state in STATE_LABELS else "",
        category=category,
        street=street,
        department=department,
        received_from=received_from,
        received_to=received_to,
        registered_from=registered_from if local_day(registered_from) else "",
        closed_from=closed_from if local_day(closed_from) else "",
        stage=stage,
        overdue=overdue,
        q=search.normalise(q),
        sort=sort if sort in SORTS else DEFAULT_SORT,
    )


Queue = Annotated[QueueParams, Depends(queue_params)]


def default_tab(p: QueueParams, user: Principal) -> str:
    """The tab asked for, or the user's 待办 (todo) when their roles have one, else 在办 (open)."""
    return p.tab or ("todo" if todo_states(user) else "open")


def queue_filter(p: QueueParams, user: Principal) -> CaseFilter:
    """The queue's parameters as a filter. ``q`` searches (cases/search.py) once it has 2 characters;
    ``received_to`` is inclusive (the whole local day)."""
    tab = default_tab(p, user)
    day_from, day_to = p.day_from, p.day_to
    f = CaseFilter(
        category_code=p.category or None,
        street_code=p.street or None,
        department_code=p.department or None,
        text=p.q if len(p.q) >= search.MIN_CHARS else None,
        received_from=day_start(day_from) if day_from else None,
        received_to=day_start(day_to + timedelta(days=1)) if day_to else None,
    )
    if registered := local_day(p.registered_from):
        f.registered_from = day_start(registered)
    if closed := local_day(p.closed_from):
        f.closed_from = day_start(closed)
    if p.state:
        f.states = [p.state]
    elif p.stage == "registered":
        f.states = list(IN_WORK_STATES)
    elif tab == "todo":
        f.states = todo_states(user) or list(OPEN_STATES)
    elif tab in {"open", "overdue"}:
        f.states = list(OPEN_STATES)
    if p.overdue or tab == "overdue":
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
    p: Queue,
    size: Annotated[int, Query(ge=1, le=1000)] = PAGE_SIZE,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    size = size if size in PAGE_SIZES else PAGE_SIZE
    sort = p.sort
    notices = []
    day_from, day_to = p.day_from, p.day_to
    if (p.received_from and day_from is None) or (p.received_to and day_to is None):
        notices.append(N_("日期格式应为 年-月-日，如 2026-11-30；未按该日期筛选"))
    if day_from and day_to and day_to < day_from:
        notices.append(N_("结束日期早于开始日期，没有案卷能符合"))
    if 0 < len(p.q) < search.MIN_CHARS:
        notices.append(N_("搜索词至少 2 个字（或输入完整的案卷号、电话）"))
    tab = default_tab(p, user)
    f = queue_filter(p, user)
    cap = search.COUNT_CAP if f.text else None  # a search counts to 1,000 and shows "1000+" beyond
    rows, total = repository.list_cases(session, user, f, page=page, page_size=size, sort=sort, count_cap=cap)
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
        t: repository.list_cases(session, user, queue_filter(QueueParams(tab=t), user), page=1, page_size=1)[
            1
        ]
        for t in ("todo", "open", "overdue")
        if t != "todo" or todo_states(user)
    }
    params = p.links(tab)
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
        total=total if cap is None or total <= cap else f"{cap}+",
        page=page,
        pages=pages,
        base_qs=base_qs,
        counts=counts,
        tab=tab,
        filters=params | {"overdue": p.overdue, "sort": sort, "size": size},
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
