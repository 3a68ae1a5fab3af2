"""The leader's cockpit (领导驾驶舱) over the live database: district-wide aggregates, the overdue and
supervised lists, and the grid choropleth. The web page (``web/views_leader.py``) only renders them.

应处置 / 按期处置 / 按期处置率 / 当前超期 are those of ``cases.disposal`` (SPEC §7), the same definition
the analytics dashboard and the evaluation use: a case counts in the period holding its judging moment (the
earlier of its disposal and its due time), so a case still within its limit is not counted yet.

A period of N days is the last N local days, today included, judged up to now (``period_start``), as the
analytics dashboard and an evaluation range period have it. Every tile counts with the same query as the list
it links to: 当前超期 with ``cases.disposal.sa_overdue_now`` (the case list's overdue filter), 督办中 with
``supervised_query`` (leaders' supervision only; the sweeper's automatic 预警 are not 督办).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from civicgrid.analytics.settings import get_analytics_settings
from civicgrid.cases import disposal
from civicgrid.cases.states import OPEN, OPEN_REGISTERED
from civicgrid.geo.service import active_generation
from civicgrid.models import Area, Case, Category, Department, Supervision, utcnow
from civicgrid.settings import get_settings

OPEN_REG = tuple(s.value for s in OPEN_REGISTERED)
OPEN_ALL = tuple(s.value for s in OPEN)
LIST_LIMIT = 15


@dataclass(frozen=True)
class Kpis:
    reported: int
    registered: int
    closed: int
    open_cases: int
    overdue: int
    supervised: int
    due: int  # 应处置
    on_time: int  # 按期处置
    satisfied: int
    rated: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


def period_start(now: datetime, days: int) -> datetime:
    """The start of "the last ``days`` days": local midnight of the first day, today being the last."""
    tz = ZoneInfo(get_settings().timezone)
    first = now.astimezone(tz).date() - timedelta(days=days - 1)
    return datetime(first.year, first.month, first.day, tzinfo=tz).astimezone(now.tzinfo)


def supervised_query() -> Select[Any]:
    """Open cases under a leader's 督办 (the tile counts it, the 督办跟踪 list shows it)."""
    return select(Case.id).where(Case.supervised.is_(True), Case.state.in_(OPEN_ALL))


def kpis(session: Session, since: datetime, now: datetime) -> Kpis:
    def count(*where: Any) -> int:
        return int(session.scalar(select(func.count(Case.id)).where(*where)) or 0)

    d, o = session.execute(select(*disposal.sa_sums(now)).where(disposal.sa_judged_in(since, now))).one()
    sat, rated = session.execute(
        select(func.sum(case((Case.rating >= 4, 1), else_=0)), func.count(Case.rating)).where(
            Case.rated_at >= since
        )
    ).one()
    return Kpis(
        reported=count(Case.received_at >= since),
        registered=count(Case.registered_at >= since),
        closed=count(Case.closed_at >= since),
        open_cases=count(Case.state.in_(OPEN_REG)),
        overdue=count(disposal.sa_overdue_now(now)),
        supervised=int(session.scalar(select(func.count()).select_from(supervised_query().subquery())) or 0),
        due=int(d or 0),
        on_time=int(o or 0),
        satisfied=int(sat or 0),
        rated=int(rated or 0),
    )


def _offset_hours() -> float:
    offset = utcnow().astimezone(ZoneInfo(get_settings().timezone)).utcoffset()
    return offset.total_seconds() / 3600 if offset else 0.0


def _bucket(session: Session, col: Any, weekly: bool) -> Any:
    """The local day (or the Monday of the local week) of a UTC timestamp column, as 'YYYY-MM-DD' text."""
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone(get_settings().timezone, col)
        return func.to_char(func.date_trunc("week", local) if weekly else local, "YYYY-MM-DD")
    shift = f"{_offset_hours():+g} hours"
    return func.date(col, shift, "weekday 0", "-6 days") if weekly else func.date(col, shift)


def _labels(since: datetime, now: datetime, weekly: bool) -> list[str]:
    tz = ZoneInfo(get_settings().timezone)
    day, last = since.astimezone(tz).date(), now.astimezone(tz).date()
    if weekly:
        day -= timedelta(days=day.weekday())
    step = timedelta(days=7 if weekly else 1)
    out = []
    while day <= last:
        out.append(day.isoformat())
        day += step
    return out


def trend(session: Session, since: datetime, now: datetime, weekly: bool) -> dict[str, list[Any]]:
    """Reports and closures per day (or week), and the 按期处置率 of the cases judged then (None if none)."""
    labels = _labels(since, now, weekly)

    def per(col: Any, *cols: Any, where: tuple[Any, ...] = ()) -> dict[str, tuple[Any, ...]]:
        b = _bucket(session, col, weekly)
        rows = session.execute(select(b, *cols).where(col >= since, *where).group_by(b))
        return {str(r[0]): tuple(r[1:]) for r in rows}

    reported = per(Case.received_at, func.count(Case.id))
    closed = per(Case.closed_at, func.count(Case.id))
    judged = disposal.sa_judged_at()
    b = _bucket(session, judged, weekly)
    rates = {
        str(r[0]): (r[1], r[2])
        for r in session.execute(
            select(b, *disposal.sa_sums(now)).where(disposal.sa_judged_in(since, now)).group_by(b)
        )
    }

    def rate(label: str) -> float | None:
        d, o = rates.get(label, (0, 0))
        return round(100 * (o or 0) / d, 1) if d else None

    return {
        "labels": labels,
        "reported": [int(reported.get(x, (0,))[0]) for x in labels],
        "closed": [int(closed.get(x, (0,))[0]) for x in labels],
        "on_time_rate": [rate(x) for x in labels],
    }


def categories(session: Session, since: datetime, top: int = 10) -> list[dict[str, Any]]:
    n = func.count(Case.id)
    rows = session.execute(
        select(Category.code, Category.name, Category.major_name, n)
        .join(Category, Category.code == Case.category_code)
        .where(Case.received_at >= since, Case.state != "merged")
        .group_by(Category.code, Category.name, Category.major_name)
        .order_by(n.desc(), Category.code)
    ).all()
    out = [{"code": c, "name": name, "major": major, "count": int(k)} for c, name, major, k in rows[:top]]
    rest = sum(int(r[3]) for r in rows[top:])
    if rest:
        out.append({"code": "", "name": "其他", "major": "", "count": rest})
    return out


@dataclass(frozen=True)
class DeptRow:
    code: str
    name: str
    kind: str  # department | street_office
    due: int  # 应处置 in the period
    on_time: int
    overdue_now: int

    @property
    def rate(self) -> float | None:
        return disposal.rate(self.on_time, self.due)


@dataclass(frozen=True)
class Ranking:
    """One kind of unit ranked by 按期处置率: units with at least ``min_cases`` 应处置 are ranked (best first,
    then more cases, then fewer overdue now); the others are listed apart, unranked."""

    kind: str
    ranked: list[DeptRow]
    unranked: list[DeptRow]
    min_cases: int


UNIT_KINDS = {"department": "专业部门", "street_office": "街道办事处"}


def departments(session: Session, since: datetime, now: datetime) -> list[DeptRow]:
    """Every active unit with cases due in the period or overdue now."""
    due, on_time = disposal.sa_sums(now)
    period = {
        r[0]: (int(r[1] or 0), int(r[2] or 0))
        for r in session.execute(
            select(Case.department_id, due, on_time)
            .where(disposal.sa_judged_in(since, now))
            .group_by(Case.department_id)
        )
    }
    overdue = dict(
        session.execute(
            select(Case.department_id, func.count(Case.id))
            .where(disposal.sa_overdue_now(now))
            .group_by(Case.department_id)
        ).all()
    )
    return [
        DeptRow(d.code, d.short_name or d.name, d.kind, *period.get(d.id, (0, 0)), int(overdue.get(d.id, 0)))
        for d in session.scalars(
            select(Department).where(Department.active.is_(True)).order_by(Department.code)
        )
        if d.id in period or d.id in overdue
    ]


def rankings(rows: list[DeptRow], min_cases: int | None = None) -> list[Ranking]:
    """The units split by kind (专业部门, 街道办事处), each ranked under the minimum-volume rule."""
    n = min_cases if min_cases is not None else get_analytics_settings().ranking_min_cases
    out = []
    for kind in UNIT_KINDS:
        mine = [r for r in rows if r.kind == kind]
        ranked = sorted(
            (r for r in mine if r.due >= n),
            key=lambda r: (-(r.rate or 0.0), -r.due, r.overdue_now, r.code),
        )
        unranked = sorted((r for r in mine if r.due < n), key=lambda r: (-r.overdue_now, -r.due, r.code))
        if mine:
            out.append(Ranking(kind, ranked, unranked, n))
    return out


@dataclass(frozen=True)
class CaseLine:
    id: int
    number: str
    category: str
    department: str
    area: str
    due_at: datetime | None
    supervised: bool
    note: str = ""
    noted_at: datetime | None = None


def _case_lines(session: Session, q: Any) -> list[CaseLine]:
    rows = session.execute(q).all()
    codes = {r.Case.street_code for r in rows} | {r.Case.community_code for r in rows}
    gen = active_generation(session)
    names = dict(
        session.execute(
            select(Area.code, Area.name).where(Area.generation_id == gen.id, Area.code.in_(codes))
        ).all()
    )
    return [
        CaseLine(
            id=r.Case.id,
            number=r.Case.number,
            category=r.cat or r.Case.category_code,
            department=r.dept or "—",
            area=" · ".join(
                x for x in (names.get(r.Case.street_code), names.get(r.Case.community_code)) if x
            ),
            due_at=r.Case.due_at,
            supervised=r.Case.supervised,
            note=getattr(r, "note", "") or "",
            noted_at=getattr(r, "noted_at", None),
        )
        for r in rows
    ]


def overdue_cases(session: Session, now: datetime, limit: int = LIST_LIMIT) -> list[CaseLine]:
    q = (
        select(Case, Category.name.label("cat"), Department.name.label("dept"))
        .join(Category, Category.code == Case.category_code)
        .outerjoin(Department, Department.id == Case.department_id)
        .where(disposal.sa_overdue_now(now))
        .order_by(Case.due_at, Case.id)
        .limit(limit)
    )
    return _case_lines(session, q)


def supervised_cases(session: Session, limit: int | None = LIST_LIMIT) -> list[CaseLine]:
    """The cases of ``supervised_query`` with their latest leader's 督办 note, latest first."""
    latest = (
        select(Supervision.case_id, func.max(Supervision.id).label("sid"))
        .where(Supervision.level == "leader", Supervision.case_id.in_(supervised_query()))
        .group_by(Supervision.case_id)
        .subquery()
    )
    q = (
        select(
            Case,
            Category.name.label("cat"),
            Department.name.label("dept"),
            Supervision.note.label("note"),
            Supervision.created_at.label("noted_at"),
        )
        .join(latest, latest.c.case_id == Case.id)
        .join(Supervision, Supervision.id == latest.c.sid)
        .join(Category, Category.code == Case.category_code)
        .outerjoin(Department, Department.id == Case.department_id)
        .order_by(Supervision.id.desc())
        .limit(limit)
    )
    return _case_lines(session, q)


# --- Grid choropleth: geometry cached per generation, counts per request ------------------------------------

_GEOMETRY: dict[int, list[tuple[str, str]]] = {}  # the one cached loader of this module


def _rounded(coords: Any) -> Any:
    if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
        return [round(coords[0], 5), round(coords[1], 5)]
    return [_rounded(c) for c in coords]


def grid_shapes(session: Session, generation_id: int) -> list[tuple[str, str]]:
    """(grid code, the feature's JSON up to its counts) for every grid of a generation, loaded once.
    Coordinates are rounded to 5 decimals (about 1 m), enough for a district map."""
    if generation_id not in _GEOMETRY:
        rows = session.execute(
            select(Area.code, Area.name, Area.geometry)
            .where(Area.generation_id == generation_id, Area.level == "grid")
            .order_by(Area.code)
        )
        shapes = []
        for code, name, geom in rows:
            g = {"type": geom["type"], "coordinates": _rounded(geom["coordinates"])}
            head = {"type": "Feature", "id": code, "geometry": g, "properties": {"code": code, "name": name}}
            shapes.append((code, json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-2]))
        _GEOMETRY.clear()
        _GEOMETRY[generation_id] = shapes
    return _GEOMETRY[generation_id]


def grid_stats(session: Session, since: datetime, now: datetime) -> dict[str, tuple[int, int, int]]:
    """grid code → (cases reported, 应处置, late: disposed late or overdue undisposed) in the period."""
    due, on_time = disposal.sa_sums(now)
    counts = dict(
        session.execute(
            select(Case.grid_code, func.count(Case.id))
            .where(Case.received_at >= since, Case.state != "merged")
            .group_by(Case.grid_code)
        ).all()
    )
    by_grid = {
        r[0]: (int(r[1] or 0), int(r[1] or 0) - int(r[2] or 0))
        for r in session.execute(
            select(Case.grid_code, due, on_time)
            .where(disposal.sa_judged_in(since, now))
            .group_by(Case.grid_code)
        )
    }
    return {g: (int(counts.get(g, 0)), *by_grid.get(g, (0, 0))) for g in set(counts) | set(by_grid)}


def grid_geojson(session: Session, since: datetime, now: datetime) -> str:
    """The grids as GeoJSON text with per-grid counts of the period: n (reported), due (应处置), late."""
    stats = grid_stats(session, since, now)
    parts = []
    for code, head in grid_shapes(session, active_generation(session).id):
        n, due, late = stats.get(code, (0, 0, 0))
        parts.append(f'{head},"n":{n},"due":{due},"late":{late}}}}}')
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
