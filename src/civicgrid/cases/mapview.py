"""Cases as the public sees them on a map: the public map of reports (/map) and the citizen form's
"nearby similar reports" hint. Both are masked: no reporter data, no case text, no case number, coordinates
rounded to about 100 m, only reports by the public (sources marked ``public``) and only categories that
``CIVICGRID_PUBLIC_MAP_HIDDEN_CATEGORIES`` does not hide; a report shows only once the command center has
accepted it (like Open311's list), except in the nearby hint, whose purpose is to show what was just reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, not_, or_, select
from sqlalchemy.orm import Session

from civicgrid.cases import sources
from civicgrid.cases.states import FINAL, INTAKE, OPEN_REGISTERED, State
from civicgrid.geo.crs import haversine_m
from civicgrid.geo.service import area_names, validate_point
from civicgrid.models import Case, Category, utcnow
from civicgrid.settings import get_settings

ROUND_DIGITS = 3  # 0.001° ≈ 111 m north-south, ≈ 95 m east-west here
NEARBY_RADIUS_M = 100.0
PUBLIC_LIMIT = 3000

# What the public reads instead of the engine's states.
PUBLIC_STATUS = {
    **{s.value: "已受理" for s in INTAKE if s is not State.received},
    State.received.value: "待受理",
    State.registered.value: "已立案",
    **{s.value: "处置中" for s in OPEN_REGISTERED if s is not State.registered},
    State.closed.value: "已办结",
}


@dataclass(frozen=True)
class PublicReport:
    category: str
    status: str
    day: str  # YYYY-MM-DD (local day of the report), no time
    lng: float  # rounded
    lat: float
    place: str  # street · community
    distance_m: int | None = None


def hidden_prefixes() -> tuple[str, ...]:
    raw = get_settings().public_map_hidden_categories
    return tuple(x.strip().upper() for x in raw.split(",") if x.strip())


def _public_clause() -> ColumnElement[bool]:
    public_sources = [s.code for s in sources.all_sources().values() if s.public]
    clause = and_(Case.source.in_(public_sources), Case.master_case_id.is_(None))
    hidden = hidden_prefixes()
    if hidden:
        clause = and_(clause, not_(or_(*(Case.category_code.startswith(p) for p in hidden))))
    return clause


def _masked(session: Session, cases: list[Case], gen_names: dict[str, str]) -> list[PublicReport]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(get_settings().timezone)
    cats = {code: name for code, name in session.execute(select(Category.code, Category.name))}
    out = []
    for c in cases:
        place = " · ".join(n for n in (gen_names.get(c.street_code), gen_names.get(c.community_code)) if n)
        out.append(
            PublicReport(
                category=cats.get(c.category_code, c.category_code),
                status=PUBLIC_STATUS.get(c.state, "处置中"),
                day=c.received_at.astimezone(tz).strftime("%Y-%m-%d"),
                lng=round(c.lng, ROUND_DIGITS),
                lat=round(c.lat, ROUND_DIGITS),
                place=place,
            )
        )
    return out


def _names(session: Session, cases: list[Case]) -> dict[str, str]:
    names: dict[str, str] = {}
    for gen in {c.generation_id for c in cases if c.generation_id is not None}:
        names |= area_names(session, gen)
    return names


def public_reports(session: Session, *, now: datetime | None = None) -> list[PublicReport]:
    """Open reports by the public, and those closed within ``public_map_days``, newest first (masked)."""
    now = now or utcnow()
    since = now - timedelta(days=get_settings().public_map_days)
    shown = [s.value for s in State if s not in FINAL and s is not State.received] + [State.closed.value]
    q = (
        select(Case)
        .where(
            _public_clause(),
            Case.state.in_(shown),
            or_(Case.state != State.closed.value, Case.closed_at >= since),
        )
        .order_by(Case.received_at.desc(), Case.id.desc())
        .limit(PUBLIC_LIMIT)
    )
    cases = list(session.scalars(q))
    return _masked(session, cases, _names(session, cases))


def nearby_open(
    session: Session, lng: float, lat: float, category_code: str, *, radius_m: float = NEARBY_RADIUS_M
) -> list[PublicReport]:
    """Open reports of the same category within ``radius_m`` of a point, nearest first (masked). Reports of
    any source count here (an inspector may have seen it first); hidden categories never show."""
    validate_point(lng, lat)
    if any(category_code.upper().startswith(p) for p in hidden_prefixes()):
        return []
    dlat = radius_m / 111_320.0
    dlng = radius_m / (111_320.0 * max(0.1, math.cos(math.radians(lat))))
    open_states = [s.value for s in (INTAKE | OPEN_REGISTERED)]
    q = select(Case).where(
        Case.category_code == category_code,
        Case.state.in_(open_states),
        Case.master_case_id.is_(None),
        Case.lng.between(lng - dlng, lng + dlng),
        Case.lat.between(lat - dlat, lat + dlat),
    )
    found = []
    for c in session.scalars(q.limit(200)):
        dist = float(haversine_m(lng, lat, c.lng, c.lat))
        if dist <= radius_m:
            found.append((dist, c))
    found.sort(key=lambda pair: pair[0])
    cases = [c for _, c in found[:10]]
    masked = _masked(session, cases, _names(session, cases))
    return [
        PublicReport(**{**m.__dict__, "distance_m": int(round(d / 10.0) * 10)})
        for m, (d, _) in zip(masked, found, strict=False)
    ]
