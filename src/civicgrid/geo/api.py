"""Grids and areas as GeoJSON (public: the citizen's map needs them), and point location."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.errors import InvalidInput
from civicgrid.geo.basemap import basemap
from civicgrid.geo.service import active_generation, area_names, locate
from civicgrid.models import Area

router = APIRouter(prefix="/api/v1", tags=["网格 geo"], route_class=UnitOfWorkRoute)


def _features(rows: list[Area]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": a.code,
                "geometry": a.geometry,
                "properties": {
                    "code": a.code,
                    "name": a.name,
                    "level": a.level,
                    "parent_code": a.parent_code,
                    "area_m2": round(a.area_m2, 1),
                },
            }
            for a in rows
        ],
    }


@router.get("/areas", summary="行政区域（区、街道、社区）GeoJSON")
def areas(
    session: DbSession, level: Annotated[str, Query(pattern="^(district|street|community)$")] = "street"
) -> dict[str, Any]:
    gen = active_generation(session)
    rows = session.scalars(
        select(Area).where(Area.generation_id == gen.id, Area.level == level).order_by(Area.code)
    )
    return _features(list(rows))


@router.get("/grids", summary="单元网格 GeoJSON（可按街道/社区/范围筛选）")
def grids(
    session: DbSession,
    street: str | None = None,
    community: str | None = None,
    bbox: Annotated[
        str | None,
        Query(description="minLng,minLat,maxLng,maxLat", pattern=r"^-?\d+(\.\d+)?(,-?\d+(\.\d+)?){3}$"),
    ] = None,
) -> dict[str, Any]:
    gen = active_generation(session)
    q = select(Area).where(Area.generation_id == gen.id, Area.level == "grid")
    if community:
        q = q.where(Area.parent_code == community)
    elif street:
        q = q.where(Area.code.startswith(street, autoescape=True))
    if bbox:
        try:
            x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
        except ValueError:
            raise InvalidInput("bbox 格式应为 minLng,minLat,maxLng,maxLat") from None
        q = q.where(Area.centroid_lng.between(x0, x1), Area.centroid_lat.between(y0, y1))
    return _features(list(session.scalars(q.order_by(Area.code))))


@router.get("/locate", summary="坐标定位到网格")
def locate_point(
    session: DbSession,
    lng: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    crs: Annotated[str, Query(pattern="^(wgs84|gcj02|bd09)$")] = "wgs84",
) -> dict[str, Any]:
    loc = locate(session, lng, lat, crs)
    names = area_names(session, loc.generation_id)
    return {
        "lng": loc.lng,
        "lat": loc.lat,
        "grid_code": loc.grid_code,
        "community_code": loc.community_code,
        "community_name": names.get(loc.community_code),
        "street_code": loc.street_code,
        "street_name": names.get(loc.street_code),
        "generation_id": loc.generation_id,
    }


@router.get(
    "/basemap",
    summary="离线底图：街道、社区名称、道路与地标 GeoJSON",
    description="每个要素的 properties.layer 为 street、community、road 或 landmark（WGS84）。支持 ETag。",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}, 304: {"description": "未改变"}},
)
def basemap_layers(request: Request, session: DbSession) -> Response:
    doc = basemap(session)
    headers = {"ETag": doc.etag, "Cache-Control": "public, max-age=300"}
    if doc.etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(doc.body, media_type="application/geo+json", headers=headers)
