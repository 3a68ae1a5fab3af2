from __future__ import annotations

import pytest
import shapely
from shapely.geometry import Point

from civicgrid.geo.address import AddressMatcher
from civicgrid.geo.plan import DistrictPlan


@pytest.fixture(scope="module")
def matcher(plan: DistrictPlan) -> AddressMatcher:
    return AddressMatcher.from_plan(plan)


def test_full_address_with_road_and_number(plan: DistrictPlan, matcher: AddressMatcher) -> None:
    m = matcher.match("平江街道桂花社区人民路12号")
    assert (m.street_code, m.community_code, m.road_name, m.house_number) == (
        "320508001",
        "320508001001",
        "人民路",
        "12",
    )
    assert m.confidence == 0.9
    assert m.reason == "匹配到街道“平江街道”、社区“桂花社区”、道路“人民路”；取道路在该区域内路段的中点"
    assert m.lng is not None and m.lat is not None
    point = Point(m.lng, m.lat)
    assert plan.by_code["320508001001"].geometry.covers(point)
    assert {r.name: r for r in plan.roads}["人民路"].geometry.distance(point) < 1e-9


def test_two_roads_give_their_crossing(plan: DistrictPlan, matcher: AddressMatcher) -> None:
    m = matcher.match("人民路与干将路交叉口")
    roads = {r.name: r.geometry for r in plan.roads}
    crossing = shapely.intersection(roads["人民路"], roads["干将路"])
    assert (m.road_name, m.cross_road, m.confidence) == ("人民路", "干将路", 0.9)
    assert (m.lng, m.lat) == (crossing.x, crossing.y)
    assert m.community_code == "320508002007" and m.street_code == "320508002"


@pytest.mark.parametrize(
    ("text", "street", "community", "confidence"),
    [
        ("桂花社区", "320508001", "320508001001", 0.8),
        ("桂花", "320508001", "320508001001", 0.7),  # suffix omitted
        ("南环社区居委会", "320508002", "320508002001", 0.8),
        ("苏州市姑苏区沧浪街道", "320508002", None, 0.4),
        ("江苏省苏州市姑苏区平江街道桂花社区", "320508001", "320508001001", 0.85),
        ("平江", "320508001", None, 0.3),
        ("沧浪街道桂花社区", "320508001", "320508001001", 0.6),  # contradiction: the community wins
        ("姑苏区", None, None, 0.1),
    ],
)
def test_areas_and_tolerance(
    matcher: AddressMatcher, text: str, street: str | None, community: str | None, confidence: float
) -> None:
    m = matcher.match(text)
    assert (m.street_code, m.community_code, m.confidence) == (street, community, confidence)
    assert m.lng is not None and m.lat is not None


def test_roads_alone_and_road_names_are_not_streets(plan: DistrictPlan, matcher: AddressMatcher) -> None:
    m = matcher.match("平江路")  # a road, not 平江街道
    assert (m.road_name, m.confidence) == ("平江路", 0.5)
    road = {r.name: r.geometry for r in plan.roads}["平江路"]
    middle = road.interpolate(0.5, normalized=True)
    assert (m.lng, m.lat) == (middle.x, middle.y)
    fuzzy = matcher.match("人民街88号")  # wrong road suffix
    assert (fuzzy.road_name, fuzzy.house_number, fuzzy.confidence) == ("人民路", "88", 0.4)


@pytest.mark.parametrize("text", ["", "北京市朝阳区建国路", "随便写点什么"])
def test_nothing_matched(matcher: AddressMatcher, text: str) -> None:
    m = matcher.match(text)
    assert (m.street_code, m.community_code, m.road_name, m.lng, m.lat, m.confidence) == (
        None,
        None,
        None,
        None,
        None,
        0.0,
    )
    assert m.reason == "未识别到街道、社区或道路"


def test_plain_name_lists(plan: DistrictPlan) -> None:
    matcher = AddressMatcher(
        [(s.code, s.name) for s in plan.streets],
        [(c.code, c.name) for c in plan.communities],
        [r.name for r in plan.roads],
    )
    m = matcher.match("平江街道桂花社区人民路12号")
    assert (m.street_code, m.community_code, m.road_name, m.lng, m.confidence) == (
        "320508001",
        "320508001001",
        "人民路",
        None,
        0.9,
    )
    assert matcher.match("南环").community_code == "320508002001"
