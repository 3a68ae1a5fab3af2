"""The offline base map: the demo district's streets, community names, 40 named roads and landmarks as one
GeoJSON document, served with an ETag."""

from __future__ import annotations

from typing import Any

from shapely.geometry import Point, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.demo.landmarks import PLACES
from civicgrid.geo.basemap import basemap_features
from civicgrid.geo.service import locate
from civicgrid.models import Area, Road
from civicgrid.models.geo import LANDMARK_KINDS


def _layer(fc: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [f for f in fc["features"] if f["properties"]["layer"] == name]


def test_basemap_draws_every_named_road_as_a_line(session: Session) -> None:
    fc = basemap_features(session)
    roads = _layer(fc, "road")
    stored = set(session.scalars(select(Road.name)))
    assert len(roads) == 40
    assert {f["properties"]["name"] for f in roads} == stored
    assert all(f["geometry"]["type"] in ("LineString", "MultiLineString") for f in roads)
    assert "人民路" in stored


def test_street_names_sit_inside_their_street_and_every_community_is_named(session: Session) -> None:
    fc = basemap_features(session)
    streets = _layer(fc, "street")
    n_streets = session.scalar(select(func.count()).where(Area.level == "street"))
    n_communities = session.scalar(select(func.count()).where(Area.level == "community"))
    assert len(streets) == n_streets == 8
    for f in streets:
        p = f["properties"]
        assert shape(f["geometry"]).contains(Point(p["label_lng"], p["label_lat"])), p["name"]
    communities = _layer(fc, "community")
    assert len(communities) == n_communities
    assert all(f["properties"]["name"] and f["geometry"]["type"] == "Point" for f in communities)


def test_demo_landmarks_are_named_points_inside_the_district(session: Session) -> None:
    marks = _layer(basemap_features(session), "landmark")
    assert [f["properties"]["name"] for f in marks] == [name for name, *_ in PLACES]
    for f in marks:
        assert f["properties"]["kind"] in LANDMARK_KINDS
        lng, lat = f["geometry"]["coordinates"]
        assert locate(session, lng, lat).grid_code.startswith("320508")


def test_basemap_endpoint_is_geojson_with_an_etag(client: Any) -> None:
    first = client.get("/api/v1/basemap")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/geo+json")
    body = first.json()
    assert body["type"] == "FeatureCollection"
    assert {f["properties"]["layer"] for f in body["features"]} == {"street", "community", "road", "landmark"}
    etag = first.headers["etag"]
    again = client.get("/api/v1/basemap", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
