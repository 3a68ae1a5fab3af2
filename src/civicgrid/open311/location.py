"""Where a posted request is: lat+long, a grid code (address_id) or free text (address_string)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.geo import plan as district
from civicgrid.geo.address import AddressMatcher
from civicgrid.geo.service import active_generation
from civicgrid.models import Area, Road

MIN_ADDRESS_CONFIDENCE = 0.3

_matchers: dict[int, AddressMatcher] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Place:
    lng: float
    lat: float
    address: str


def matcher_for(session: Session) -> AddressMatcher:
    """The address matcher of the active grid generation, built once per generation."""
    gen = active_generation(session)
    with _lock:
        found = _matchers.get(gen.id)
        if found is not None:
            return found
    rows = session.scalars(
        select(Area).where(Area.generation_id == gen.id, Area.level.in_(("district", "street", "community")))
    )
    areas = {"district": [], "street": [], "community": []}  # type: dict[str, list[district.Area]]
    for a in rows:
        areas[a.level].append(district.Area(a.code, a.name, a.level, a.parent_code, shape(a.geometry)))  # type: ignore[arg-type]
    roads = [
        district.Road(r.name, shape(r.geometry), tuple(r.community_codes or ()))
        for r in session.scalars(select(Road).where(Road.generation_id == gen.id))
    ]
    top = areas["district"][0] if areas["district"] else None
    names = (top.name, top.name.removesuffix("区")) if top is not None else ("姑苏区", "姑苏")
    built = AddressMatcher(areas["street"], areas["community"], roads, district=top, district_names=names)
    with _lock:
        _matchers.clear()
        _matchers[gen.id] = built
    return built


def by_address_id(session: Session, grid_code: str) -> Place | None:
    gen = active_generation(session)
    area = session.scalar(
        select(Area).where(Area.generation_id == gen.id, Area.level == "grid", Area.code == grid_code)
    )
    if area is None:
        return None
    return Place(area.centroid_lng, area.centroid_lat, f"网格 {area.code}")


def by_address_string(session: Session, text: str) -> tuple[Place | None, str]:
    """(place, explanation). None when the text is not understood well enough to place a report."""
    m = matcher_for(session).match(text)
    if m.lng is None or m.lat is None or m.confidence < MIN_ADDRESS_CONFIDENCE:
        return None, m.reason
    return Place(m.lng, m.lat, text.strip()), m.reason
