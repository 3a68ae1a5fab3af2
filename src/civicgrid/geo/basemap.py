"""The offline base map: the district's streets, community names, named roads and landmarks as one GeoJSON
FeatureCollection (WGS84), drawn under every map when no tile service is configured (and over the tiles'
own labels' gaps when one is).

Every feature has a ``layer`` property: ``street`` (outline polygon, with ``label_lng``/``label_lat`` where
its name is written), ``community`` (a point where its name is written), ``road`` (a line with its name) and
``landmark`` (a point with its ``kind``). The document is built once per grid generation and kept, already
serialised with its ETag, in the process cache (refcache.py), so serving it costs a dictionary lookup.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.geo.service import active_generation
from civicgrid.models import Area, Landmark, Road
from civicgrid.refcache import ProcessCache

LAYERS = ("street", "community", "road", "landmark")


@dataclass(frozen=True)
class BaseMap:
    body: bytes  # the FeatureCollection as UTF-8 JSON
    etag: str


_cache: ProcessCache[int, BaseMap] = ProcessCache(max_entries=4)


def _round(coords: Any) -> Any:
    """Coordinates to 6 decimals (≈ 0.1 m): the document is a third smaller and draws the same."""
    if isinstance(coords, (int, float)):
        return round(float(coords), 6)
    return [_round(c) for c in coords]


def _geometry(geom: dict[str, Any]) -> dict[str, Any]:
    return {"type": geom["type"], "coordinates": _round(geom["coordinates"])}


def _point(lng: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(lng, 6), round(lat, 6)]}


def basemap_features(session: Session) -> dict[str, Any]:
    """The active generation's base map as a GeoJSON FeatureCollection (see the module docstring)."""
    gen = active_generation(session)
    features: list[dict[str, Any]] = []
    areas = session.scalars(
        select(Area)
        .where(Area.generation_id == gen.id, Area.level.in_(("street", "community")))
        .order_by(Area.level.desc(), Area.code)
    )
    for a in areas:
        if a.level == "street":
            label = shape(a.geometry).representative_point()
            features.append(
                {
                    "type": "Feature",
                    "geometry": _geometry(a.geometry),
                    "properties": {
                        "layer": "street",
                        "code": a.code,
                        "name": a.name,
                        "label_lng": round(label.x, 6),
                        "label_lat": round(label.y, 6),
                    },
                }
            )
        else:
            label = shape(a.geometry).representative_point()
            features.append(
                {
                    "type": "Feature",
                    "geometry": _point(label.x, label.y),
                    "properties": {"layer": "community", "code": a.code, "name": a.name},
                }
            )
    for r in session.scalars(select(Road).where(Road.generation_id == gen.id).order_by(Road.id)):
        features.append(
            {
                "type": "Feature",
                "geometry": _geometry(r.geometry),
                "properties": {"layer": "road", "name": r.name},
            }
        )
    for m in session.scalars(select(Landmark).order_by(Landmark.id)):
        features.append(
            {
                "type": "Feature",
                "geometry": _point(m.lng, m.lat),
                "properties": {"layer": "landmark", "name": m.name, "kind": m.kind},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def basemap(session: Session) -> BaseMap:
    """The serialised base map of the active generation with its ETag (process-cached)."""
    gen = active_generation(session)

    def load() -> BaseMap:
        body = json.dumps(basemap_features(session), ensure_ascii=False, separators=(",", ":")).encode()
        return BaseMap(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')

    return _cache.get(gen.id, load)


def landmarks(session: Session) -> list[Landmark]:
    """Every landmark, by name."""
    return list(session.scalars(select(Landmark).order_by(Landmark.name)))
