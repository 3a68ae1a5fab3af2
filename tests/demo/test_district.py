from __future__ import annotations

import re
import time
from collections import Counter

import shapely
from shapely.geometry import Polygon

from civicgrid.demo.district import STREETS, generate_demo_district
from civicgrid.geo.crs import area_m2
from civicgrid.geo.plan import DistrictPlan


def test_counts_and_codes(plan: DistrictPlan) -> None:
    assert len(plan.grids) == 3800
    assert len(plan.communities) == 60
    assert len(plan.streets) == 8
    assert len(plan.roads) == 40
    assert plan.district.code == "320508" and plan.district.name == "姑苏区"
    assert [(s.code, s.name) for s in plan.streets] == [
        (f"320508{i + 1:03d}", name) for i, (name, _, _) in enumerate(STREETS)
    ]
    assert all(re.fullmatch(r"320508\d{8}", g.code) for g in plan.grids)
    assert len({g.code for g in plan.grids}) == 3800
    assert len({c.name for c in plan.communities}) == 60
    assert all(c.name.endswith("社区") for c in plan.communities)
    assert plan.by_code["320508001001"].name == "桂花社区"
    assert plan.by_code["320508002001"].name == "南环社区"
    assert plan.grids[0].code == "32050800100101" and plan.grids[0].name == "桂花社区01网格"


def test_hierarchy_is_consistent(plan: DistrictPlan) -> None:
    per_street = Counter(c.parent_code for c in plan.communities)
    assert sorted(per_street.values()) == [4, 5, 7, 8, 8, 9, 9, 10]
    per_community = Counter(g.parent_code for g in plan.grids)
    assert max(per_community.values()) == 77 and min(per_community.values()) == 44
    for community in plan.communities:
        assert community.code[:9] == community.parent_code
        numbers = sorted(int(g.code[12:]) for g in plan.grids if g.parent_code == community.code)
        assert numbers == list(range(1, len(numbers) + 1))
    assert all(g.code[:12] == g.parent_code for g in plan.grids)


def test_geometries_are_valid_polygons_that_tile(plan: DistrictPlan) -> None:
    for area in (plan.district, *plan.streets, *plan.communities):
        assert isinstance(area.geometry, Polygon), area.code
        assert area.geometry.is_valid
    assert len(plan.district.geometry.interiors) == 0
    total = sum(area_m2(g.geometry) for g in plan.grids)
    assert round(total) == round(area_m2(plan.district.geometry)) == 38000124
    assert round(sum(area_m2(s.geometry) for s in plan.streets)) == 38000124
    # Each grid is about 10,000 m².
    areas = [area_m2(g.geometry) for g in plan.grids]
    assert min(areas) > 9990
    assert max(areas) < 10010
    x0, y0, x1, y1 = plan.district.geometry.bounds
    assert x0 >= 120.58 and y0 >= 31.28
    assert x1 <= 120.67 and y1 <= 31.35


def test_roads_cross_communities(plan: DistrictPlan) -> None:
    roads = {r.name: r for r in plan.roads}
    assert {"人民路", "干将路", "十梓街", "凤凰街"} <= set(roads)
    assert "320508001001" in roads["人民路"].community_codes
    crossing = shapely.intersection(roads["人民路"].geometry, roads["干将路"].geometry)
    assert crossing.geom_type == "Point"
    for road in plan.roads:
        assert plan.district.geometry.covers(road.geometry)
        assert len(road.community_codes) >= 3
        assert len(set(road.community_codes)) == len(road.community_codes)


def test_geojson_properties(plan: DistrictPlan) -> None:
    grids = plan.to_geojson("grid")
    assert grids["type"] == "FeatureCollection" and len(grids["features"]) == 3800
    first = grids["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    assert first["properties"] == {
        "code": "32050800100101",
        "name": "桂花社区01网格",
        "level": "grid",
        "parent_code": "320508001001",
        "street_code": "320508001",
        "community_code": "320508001001",
        "street_name": "平江街道",
        "community_name": "桂花社区",
        "area_m2": 9998.3,
    }
    streets = plan.to_geojson("street")
    assert [f["properties"]["level"] for f in streets["features"]] == ["street"] * 8
    assert plan.to_geojson("district")["features"][0]["properties"]["parent_code"] is None


def test_deterministic_fast_and_three_digit_codes() -> None:
    start = time.perf_counter()
    again = generate_demo_district()
    assert time.perf_counter() - start < 5.0
    other = generate_demo_district(grid_digits=3)
    assert [g.geometry for g in other.grids] == [g.geometry for g in again.grids]
    assert other.grids[0].code == "320508001001001" and other.grids[0].name == "桂花社区001网格"
    assert all(len(g.code) == 15 for g in other.grids)
    assert generate_demo_district(seed=1).grids[5].geometry != again.grids[5].geometry
