"""Maps beyond a page's own cases: every case matching the queue's filter (clustered on the queue's map and
the wall), the public map of reports (/map, no login, masked) and the citizen form's nearby hint.

The pages build no queries: matching cases come from ``cases.repository.matching_points`` with the queue's own
parameters and filter (``views_center.Queue``, ``queue_filter``), public and nearby reports from
``cases.mapview`` (masked there).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from civicgrid.cases import mapview, present, repository
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.models import utcnow
from civicgrid.web import lookups
from civicgrid.web.render import render
from civicgrid.web.views_center import CenterUser, Queue, queue_filter, row_light

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

MAX_POINTS = 5000  # a district's open cases many times over; past it the map says how many it left out


def _point(p: dict[str, Any]) -> dict[str, Any]:
    lng, lat = p.pop("lng"), p.pop("lat")
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lng, lat]}, "properties": p}


@router.get("/web/api/cases.geojson")
def matching_cases(session: DbSession, user: CenterUser, queue: Queue) -> dict[str, Any]:
    """Every case the queue would list with the same parameters (not only one page), as GeoJSON points."""
    f = queue_filter(queue, user)
    rows, total = repository.matching_points(session, user, f, limit=MAX_POINTS)
    names = present.names(session).categories
    now = utcnow()
    features = []
    for c in rows:
        p = lookups.map_point(c, now, names)
        p["light"] = row_light(c, now)
        features.append(_point(p))
    return {"type": "FeatureCollection", "total": total, "shown": len(features), "features": features}


def _public_feature(r: mapview.PublicReport) -> dict[str, Any]:
    p = asdict(r)
    p.pop("distance_m")
    # What the shared map code draws: green once done, blue while open.
    p |= {"label": r.category, "detail": " · ".join(x for x in (r.status, r.day, r.place) if x)}
    p["light"] = "green" if r.status == "已办结" else "none"
    return _point(p)


@router.get("/web/api/public-reports")
def public_reports(session: DbSession) -> dict[str, Any]:
    """Reports by the public on the public map: masked (see cases/mapview.py)."""
    reports = mapview.public_reports(session)
    return {"type": "FeatureCollection", "features": [_public_feature(r) for r in reports]}


@router.get("/web/api/nearby")
def nearby(
    session: DbSession,
    lng: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    category: Annotated[str, Query(min_length=1, max_length=8, pattern="^[A-Za-z0-9]+$")],
) -> dict[str, Any]:
    """Open reports of the same category within about 100 m (masked), for the citizen form's hint."""
    found = mapview.nearby_open(session, lng, lat, category.upper())
    return {
        "count": len(found),
        "radius_m": int(mapview.NEARBY_RADIUS_M),
        "reports": [asdict(r) for r in found],
    }


@router.get("/map", response_class=HTMLResponse)
def public_map(request: Request, session: DbSession) -> HTMLResponse:
    """问题地图: what the public reported and what became of it, without names, numbers or exact points."""
    reports = mapview.public_reports(session)
    counts: dict[str, int] = {}
    for r in reports:
        counts[r.status] = counts.get(r.status, 0) + 1
    return render(
        request,
        "public/map.html",
        total=len(reports),
        counts=sorted(counts.items(), key=lambda kv: -kv[1]),
        recent=reports[:10],
        days=mapview.get_settings().public_map_days,
    )
