from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from civicgrid.geo.grid_import import parse_grid_geojson
from civicgrid.geo.plan import DistrictPlan


def _feature(code: Any, ring: list[list[float]] | None = None, **props: Any) -> dict[str, Any]:
    ring = ring or [[120.6, 31.3], [120.601, 31.3], [120.601, 31.301], [120.6, 31.301], [120.6, 31.3]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"code": code, **props},
    }


def _fc(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def test_round_trip_of_the_demo_plan(plan: DistrictPlan) -> None:
    raw = json.dumps(plan.to_geojson("grid"), ensure_ascii=False).encode("utf-8")
    result = parse_grid_geojson(raw, district_code="320508")
    assert result.errors == []
    assert result.ok
    assert [g.code for g in result.grids] == [g.code for g in plan.grids]
    assert all(
        r.geometry.equals_exact(g.geometry, 0.0) for r, g in zip(result.grids, plan.grids, strict=True)
    )
    first = result.grids[0]
    assert (first.street_code, first.community_code, first.district_code) == (
        "320508001",
        "320508001001",
        "320508",
    )
    assert (first.name, first.street_name, first.community_name) == ("桂花社区01网格", "平江街道", "桂花社区")
    summary = result.summary()
    assert (summary.features, summary.grids, summary.errors) == (3800, 3800, 0)
    assert summary.total_area_m2 == 38000118.9
    assert len(summary.streets) == 8 and len(summary.communities) == 60
    assert summary.streets[0].code == "320508001" and summary.streets[0].name == "平江街道"
    assert sum(s.grids for s in summary.streets) == 3800
    assert summary.as_dict()["streets"][0]["grids"] == summary.streets[0].grids


def test_every_kind_of_problem_is_reported_not_raised() -> None:
    bow_tie = [[120.6, 31.3], [120.601, 31.301], [120.601, 31.3], [120.6, 31.301], [120.6, 31.3]]
    projected = [[500000, 3460000], [500100, 3460000], [500100, 3460100], [500000, 3460000]]
    data = _fc(
        _feature("32050800100101", name="一号网格"),  # 0 ok
        _feature("32050800100101"),  # 1 duplicate
        _feature("3205080010010"),  # 2 too short
        _feature("3205080010010A"),  # 3 not digits
        _feature("32050800100102", bow_tie),  # 4 self-intersection
        _feature("32050800100103", projected),  # 5 not WGS84
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [120.6, 31.3]},
            "properties": {"code": "32050800100104"},
        },
        {"type": "Feature", "geometry": None, "properties": {}},  # 7 no code, no geometry
        _feature("32050900100101"),  # 8 another district
        _feature("32050800000101"),  # 9 street 000
        _feature("32050800100105", name=12),  # 10 name not text
        "not a feature",  # 11
        _feature(
            32050800100106, [[120.7, 31.3], [120.701, 31.3], [120.701, 31.301], [120.7, 31.3]]
        ),  # 12 ok, int
    )
    result = parse_grid_geojson(data, district_code="320508")
    assert [g.code for g in result.grids] == ["32050800100101", "32050800100106"]
    messages = [(e.index, e.message) for e in result.errors]
    assert messages == [
        (1, "网格编码重复，与第 1 个要素相同"),
        (2, "网格编码应为 14 位（区县 6 + 街道 3 + 社区 3 + 网格 2），实际 13 位"),
        (3, "网格编码必须全部为数字：3205080010010A"),
        (4, "几何无效：自相交（Self-intersection[120.6005 31.3005]）"),
        (5, "坐标超出 WGS84 经纬度范围（是否为投影坐标？）"),
        (6, "几何类型必须是 Polygon 或 MultiPolygon，实际为 Point"),
        (7, "缺少网格编码 properties.code"),
        (7, "缺少几何 geometry"),
        (8, "网格编码不属于区县 320508"),
        (9, "网格编码中的街道、社区或网格序号不能全为 0"),
        (10, "属性 name 必须是文本"),
        (11, "要素必须是 GeoJSON Feature"),
    ]
    assert not result.ok
    assert result.summary().errors == 12


def test_three_digit_grids_and_overlaps() -> None:
    a = _feature("320508001001001")
    b = _feature(
        "320508001001002",
        [[120.6005, 31.3], [120.6015, 31.3], [120.6015, 31.301], [120.6005, 31.301], [120.6005, 31.3]],
    )
    result = parse_grid_geojson(_fc(a, b), grid_digits=3)
    assert [g.code for g in result.grids] == ["320508001001001", "320508001001002"]
    assert [(e.index, e.message) for e in result.errors] == [
        (1, "与第 1 个要素（320508001001001）重叠约 5282 平方米")
    ]
    assert (
        parse_grid_geojson(_fc(_feature("32050800100101")), grid_digits=3)
        .errors[0]
        .message.startswith("网格编码应为 15 位")
    )


def test_file_level_errors() -> None:
    assert parse_grid_geojson(b"{not json").errors[0].message.startswith("文件不是有效的 JSON")
    assert parse_grid_geojson({"type": "Feature"}).errors[0].message == "顶层必须是 GeoJSON FeatureCollection"
    assert parse_grid_geojson(_fc()).errors[0].message == "文件中没有任何网格要素"
    with pytest.raises(ValueError):
        parse_grid_geojson(_fc(), grid_digits=4)


def test_input_is_not_modified(plan: DistrictPlan) -> None:
    data = plan.to_geojson("grid")
    before = copy.deepcopy(data["features"][:3])
    parse_grid_geojson(data)
    assert data["features"][:3] == before
