"""Locating against the database's active grid generation. The spatial index is built once per generation."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, cast

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.errors import InvalidInput, NotFound, OutsideDistrict
from civicgrid.geo.address import AddressMatch, AddressMatcher
from civicgrid.geo.crs import Crs, to_wgs84
from civicgrid.geo.locator import GridLocator
from civicgrid.geo.plan import Area as PlanArea
from civicgrid.geo.plan import Road as PlanRoad
from civicgrid.models import Area, GridGeneration, Road
from civicgrid.refcache import ProcessCache


@dataclass(frozen=True)
class Location:
    lng: float  # WGS84
    lat: float
    generation_id: int
    grid_code: str
    community_code: str
    street_code: str


_cache: dict[int, GridLocator] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ActiveGeneration:
    id: int
    grid_digits: int


_active: ProcessCache[None, ActiveGeneration | None] = ProcessCache()
_area_names: ProcessCache[int, dict[str, str]] = ProcessCache()


def active_generation(session: Session) -> ActiveGeneration:
    """The generation new cases are located against (from the process cache, see refcache.py)."""

    def load() -> ActiveGeneration | None:
        row = session.execute(
            select(GridGeneration.id, GridGeneration.grid_digits).where(GridGeneration.active.is_(True))
        ).first()
        return ActiveGeneration(row.id, row.grid_digits) if row else None

    gen = _active.get(None, load)
    if gen is None:
        raise NotFound("尚未导入网格：请先运行 civicgrid init 或 civicgrid import-grids")
    return gen


def area_names(session: Session, generation_id: int) -> dict[str, str]:
    """Names of the streets and communities of a generation, by code."""

    def load() -> dict[str, str]:
        rows = session.execute(
            select(Area.code, Area.name).where(
                Area.generation_id == generation_id, Area.level.in_(("street", "community"))
            )
        )
        return {code: name for code, name in rows}

    return _area_names.get(generation_id, load)


def locator_for(session: Session, generation_id: int) -> GridLocator:
    with _lock:
        loc = _cache.get(generation_id)
        if loc is None:
            rows = session.execute(
                select(Area.code, Area.geometry).where(
                    Area.generation_id == generation_id, Area.level == "grid"
                )
            ).all()
            # Built with its raster: the exact test alone refuses points a few metres outside the edge that
            # the raster places (a fresh `make demo` failed on one), so the lazy raster stays off here.
            loc = GridLocator([r.code for r in rows], [shape(r.geometry) for r in rows])
            _cache.clear()  # only the active generation is kept warm
            _cache[generation_id] = loc
        return loc


def split_codes(grid_code: str, grid_digits: int) -> tuple[str, str]:
    """(community_code, street_code) of a unit grid code
    (6 district + 3 street + 3 community + grid digits)."""
    return grid_code[:12], grid_code[:9]


def validate_point(lng: float, lat: float) -> None:
    if not (-180.0 <= lng <= 180.0) or not (-90.0 <= lat <= 90.0):
        raise InvalidInput(f"坐标超出范围：经度应在 -180~180，纬度应在 -90~90（收到 {lng}, {lat}）")


def locate(session: Session, lng: float, lat: float, crs: str = "wgs84") -> Location:
    validate_point(lng, lat)
    try:
        wlng, wlat = to_wgs84(lng, lat, cast(Crs, crs))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    gen = active_generation(session)
    loc = locator_for(session, gen.id)
    code = loc.locate(float(wlng), float(wlat))
    if not code:
        near, dist = loc.nearest(float(wlng), float(wlat))
        raise OutsideDistrict(
            f"该位置不在本区范围内：最近的网格是 {near}，距离约 {dist:,.0f} 米",
            nearest_grid=near,
            distance_m=round(dist, 1),
        )
    community, street = split_codes(code, gen.grid_digits)
    return Location(float(wlng), float(wlat), gen.id, code, community, street)


_matchers: dict[int, AddressMatcher] = {}
ADDRESS_MIN_CONFIDENCE = 0.6


def address_matcher(session: Session, generation_id: int) -> AddressMatcher:
    with _lock:
        m = _matchers.get(generation_id)
        if m is None:
            areas = session.scalars(
                select(Area).where(
                    Area.generation_id == generation_id, Area.level.in_(("district", "street", "community"))
                )
            ).all()
            plain = {
                lvl: [
                    PlanArea(a.code, a.name, lvl, a.parent_code, shape(a.geometry))
                    for a in areas
                    if a.level == lvl
                ]
                for lvl in ("district", "street", "community")
            }
            roads = [
                PlanRoad(r.name, shape(r.geometry), tuple(r.community_codes))
                for r in session.scalars(select(Road).where(Road.generation_id == generation_id))
            ]
            top = plain["district"][0] if plain["district"] else None
            names = (top.name, top.name.removesuffix("区")) if top is not None else ()
            m = AddressMatcher(plain["street"], plain["community"], roads, district=top, district_names=names)
            _matchers.clear()
            _matchers[generation_id] = m
        return m


def match_address(session: Session, text: str) -> AddressMatch:
    """The best reading of an address text in the active generation (see ``confident``)."""
    return address_matcher(session, active_generation(session).id).match(text)


def confident(match: AddressMatch) -> bool:
    """One threshold for every entry point (the API, the web, Open311): below it a person places the point."""
    return match.lng is not None and match.lat is not None and match.confidence >= ADDRESS_MIN_CONFIDENCE


def locate_address(session: Session, text: str) -> tuple[Location, AddressMatch]:
    """Place a report from address text alone. Below the confidence threshold the caller must place it on the
    map."""
    match = match_address(session, text)
    if not confident(match):
        raise InvalidInput(
            f"无法根据地址准确定位（可信度 {match.confidence:.2f}）："
            "请在地图上选择位置或补充街道、社区、道路名称",
            address_confidence=match.confidence,
            address_reason=match.reason,
        )
    assert match.lng is not None and match.lat is not None
    return locate(session, match.lng, match.lat), match


def areas_geojson(session: Session, level: str) -> dict[str, Any]:
    """The active generation's areas of one level as a GeoJSON FeatureCollection (WGS84), ordered by code."""
    if level not in ("district", "street", "community", "grid"):
        raise InvalidInput(f"未知的区域层级：{level}，应为 grid、community、street 或 district")
    gen = active_generation(session)
    rows = session.scalars(
        select(Area).where(Area.generation_id == gen.id, Area.level == level).order_by(Area.code)
    )
    features = []
    for a in rows:
        props: dict[str, object] = {
            "code": a.code,
            "name": a.name,
            "level": a.level,
            "parent_code": a.parent_code,
            "area_m2": round(a.area_m2, 1),
        }
        if level == "grid":
            props |= {"community_code": a.code[:12], "street_code": a.code[:9]}
        features.append({"type": "Feature", "geometry": a.geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def areas_of_level(session: Session, level: str) -> list[Area]:
    """The active generation's areas of one level, by code."""
    gen = active_generation(session)
    q = select(Area).where(Area.generation_id == gen.id, Area.level == level).order_by(Area.code)
    return list(session.scalars(q))


def names_of(session: Session, codes: set[str]) -> dict[str, str]:
    """Names of areas of the active generation by code (any level)."""
    if not codes:
        return {}
    gen = active_generation(session)
    rows = session.execute(
        select(Area.code, Area.name).where(Area.generation_id == gen.id, Area.code.in_(codes))
    )
    return {code: name for code, name in rows}


def area_by_code(session: Session, code: str) -> Area | None:
    gen = active_generation(session)
    return session.scalar(select(Area).where(Area.generation_id == gen.id, Area.code == code))


def invalidate() -> None:
    with _lock:
        _cache.clear()
        _matchers.clear()
