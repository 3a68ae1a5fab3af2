"""The shape of a district plan: its areas (district, streets, communities, unit grids) and named roads.

Production geography arrives as GeoJSON (``geo/grid_import.py``) and is stored as versioned grid generations;
this module only defines the in-memory plan that imports and the demo generator (``demo/district.py``)
produce.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, TypeAlias

from shapely.geometry import LineString, MultiPolygon, Polygon, mapping

from civicgrid.geo.crs import area_m2

Level: TypeAlias = Literal["district", "street", "community", "grid"]
AreaGeometry: TypeAlias = Polygon | MultiPolygon


@dataclass(frozen=True)
class Area:
    """A district, street, community or unit grid. `code` is the full hierarchical code; geometry is WGS84."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    geometry: AreaGeometry


@dataclass(frozen=True)
class Road:
    """A named road and the community codes it crosses, in order along the road."""

    name: str
    geometry: LineString
    community_codes: tuple[str, ...]


@dataclass(frozen=True)
class DistrictPlan:
    district: Area
    streets: tuple[Area, ...]
    communities: tuple[Area, ...]
    grids: tuple[Area, ...]
    roads: tuple[Road, ...]

    @cached_property
    def by_code(self) -> dict[str, Area]:
        areas = (self.district, *self.streets, *self.communities, *self.grids)
        return {a.code: a for a in areas}

    @property
    def grid_digits(self) -> int:
        return len(self.grids[0].code) - 12 if self.grids else 2

    def areas(self, level: Level) -> tuple[Area, ...]:
        if level == "district":
            return (self.district,)
        if level == "street":
            return self.streets
        if level == "community":
            return self.communities
        if level == "grid":
            return self.grids
        raise ValueError(f"未知的区域层级：{level!r}")

    def to_geojson(self, level: Level) -> dict[str, Any]:
        """A GeoJSON FeatureCollection of one level (WGS84, full-precision coordinates)."""
        features = []
        for area in self.areas(level):
            props: dict[str, Any] = {
                "code": area.code,
                "name": area.name,
                "level": area.level,
                "parent_code": area.parent_code,
            }
            if level == "grid":
                street = self.by_code[area.code[:9]]
                community = self.by_code[area.code[:12]]
                props.update(
                    street_code=street.code,
                    community_code=community.code,
                    street_name=street.name,
                    community_name=community.name,
                )
            props["area_m2"] = round(area_m2(area.geometry), 1)
            features.append({"type": "Feature", "geometry": mapping(area.geometry), "properties": props})
        return {"type": "FeatureCollection", "features": features}
