"""Where a posted request is: lat+long, a grid code (address_id) or free text (address_string, placed by the
same address matcher and confidence threshold as every other entry point: ``geo.service``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.geo.service import active_generation, confident, match_address
from civicgrid.models import Area


@dataclass(frozen=True)
class Place:
    lng: float
    lat: float
    address: str


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
    m = match_address(session, text)
    if not confident(m):
        return None, m.reason
    assert m.lng is not None and m.lat is not None
    return Place(m.lng, m.lat, text.strip()), m.reason
