"""Understand free-text addresses well enough to place a report.

Examples: "平江街道桂花社区人民路12号", "人民路与干将路交叉口", "桂花社区", "苏州市姑苏区沧浪街道".

Matching is dictionary based: full names first, then tolerant forms (a street or community without its
街道/社区 suffix, a road with another road suffix such as 人民街 for 人民路), always longest first so that
平江路 is read as a road and not as 平江街道. Matched text is masked so no character is used twice.

Confidence (0..1), the base value of the most precise thing found, then adjusted:
    0.90  two roads that intersect: their crossing point
    0.85  a road crossing the named community: the middle of the road's stretch inside it
    0.80  a community: a point inside it (point on surface)
    0.60  a road crossing the named street: the middle of its stretch inside the street
    0.50  a road alone: the middle of the road
    0.40  a street: a point inside it
    0.10  only the district (or city) name
    0.00  nothing recognised (street, community, road and location all None)
    +0.05 street and community both named and consistent
    -0.10 per element matched only in a tolerant form, and when a name is ambiguous
    -0.20 a contradiction (community not in the named street, road not crossing it, roads not meeting)
The result is clamped to [0, 1] and rounded to two decimals. Without geometry (plain name lists) the
textual match is the same but lng/lat stay None.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from civicgrid.geo.plan import Area, DistrictPlan, Road

Kind = Literal["street", "community", "road"]

_STREET_SUFFIXES = ("街道", "镇", "乡")
_COMMUNITY_SUFFIXES = ("社区", "村")
# Longer official forms of a name, matched as exact: 平江街道办事处, 桂花社区居委会.
_STREET_FORMS = ("办事处", "办")
_COMMUNITY_FORMS = ("居民委员会", "居委会", "委员会")
_ROAD_SUFFIXES = ("大道", "路", "街", "巷", "道")
_PREFIXES = ("江苏省", "江苏", "苏州市", "苏州")
_MASK = "\0"


@dataclass(frozen=True)
class AddressMatch:
    street_code: str | None
    community_code: str | None
    road_name: str | None
    lng: float | None
    lat: float | None
    confidence: float
    reason: str
    cross_road: str | None = None
    house_number: str | None = None


@dataclass(frozen=True)
class _Place:
    kind: Kind
    code: str
    name: str
    parent_code: str | None
    geometry: BaseGeometry | None


@dataclass(frozen=True)
class _Hit:
    place: _Place
    position: int
    exact: bool


def _stem(name: str, suffixes: Sequence[str]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _mid(geom: BaseGeometry) -> Point:
    """The middle of a line (or of the longest piece of a multi-line); a point on the surface otherwise."""
    lines = [g for g in shapely.get_parts(shapely.line_merge(geom)) if isinstance(g, LineString)]
    if lines:
        return max(lines, key=lambda g: g.length).interpolate(0.5, normalized=True)
    return geom.representative_point()


class AddressMatcher:
    """Built once per grid generation from its streets, communities and roads."""

    def __init__(
        self,
        streets: Sequence[Area | tuple[str, str]],
        communities: Sequence[Area | tuple[str, str]],
        roads: Sequence[Road | str] = (),
        *,
        district: Area | None = None,
        district_names: Sequence[str] = ("姑苏区", "姑苏"),
    ) -> None:
        self._district = district
        self._district_names = tuple(sorted(district_names, key=len, reverse=True))
        places: list[_Place] = []
        for item in streets:
            code, name, geom = (
                (item.code, item.name, item.geometry) if isinstance(item, Area) else (*item, None)
            )
            places.append(_Place("street", code, name, code[:6], geom))
        for item in communities:
            if isinstance(item, Area):
                places.append(_Place("community", item.code, item.name, item.parent_code, item.geometry))
            else:
                places.append(_Place("community", item[0], item[1], item[0][:9], None))
        for road in roads:
            if isinstance(road, Road):
                places.append(_Place("road", road.name, road.name, None, road.geometry))
            else:
                places.append(_Place("road", road, road, None, None))
        self._places = {(p.kind, p.code): p for p in places}
        self._patterns = self._build_patterns(places)
        with_geometry = [p for p in places if p.kind == "community" and p.geometry is not None]
        self._community_list = with_geometry
        self._community_tree = shapely.STRtree([p.geometry for p in with_geometry]) if with_geometry else None

    @classmethod
    def from_plan(cls, plan: DistrictPlan) -> AddressMatcher:
        return cls(plan.streets, plan.communities, plan.roads, district=plan.district)

    @staticmethod
    def _build_patterns(places: Sequence[_Place]) -> list[tuple[str, bool, tuple[_Place, ...]]]:
        """(surface text, exact?, candidate places), longest surface first, exact before tolerant."""
        table: dict[tuple[str, bool], list[_Place]] = {}
        for place in places:
            surfaces = {(place.name, True)}
            if place.kind == "road":
                stem = _stem(place.name, _ROAD_SUFFIXES)
                if len(stem) >= 2:
                    surfaces |= {(stem + s, False) for s in _ROAD_SUFFIXES if stem + s != place.name}
            else:
                street = place.kind == "street"
                surfaces |= {
                    (place.name + form, True) for form in (_STREET_FORMS if street else _COMMUNITY_FORMS)
                }
                stem = _stem(place.name, _STREET_SUFFIXES if street else _COMMUNITY_SUFFIXES)
                if len(stem) >= 2 and stem != place.name:
                    surfaces.add((stem, False))
            for key in surfaces:
                table.setdefault(key, []).append(place)
        # An exact surface shadows the tolerant one of the same text.
        for text, exact in list(table):
            if exact:
                table.pop((text, False), None)
        ordered = sorted(table.items(), key=lambda kv: (-len(kv[0][0]), not kv[0][1], kv[0][0]))
        return [(surface, exact, tuple(cands)) for (surface, exact), cands in ordered]

    # --- matching ---------------------------------------------------------------------------------

    def match(self, text: str) -> AddressMatch:
        norm = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))
        mentions_district = any(name in norm for name in (*self._district_names, *_PREFIXES))
        for prefix in (*_PREFIXES, *self._district_names):
            norm = norm.replace(prefix, _MASK * len(prefix))
        hits: list[tuple[_Hit, tuple[_Place, ...]]] = []
        for surface, exact, candidates in self._patterns:
            start = norm.find(surface)
            while start != -1:
                hits.append((_Hit(candidates[0], start, exact), candidates))
                norm = norm[:start] + _MASK * len(surface) + norm[start + len(surface) :]
                start = norm.find(surface, start + len(surface))
        hits.sort(key=lambda h: h[0].position)
        number = re.search(r"(\d+)号", unicodedata.normalize("NFKC", text or ""))
        return self._resolve(hits, mentions_district, number.group(1) if number else None)

    def _resolve(
        self, hits: list[tuple[_Hit, tuple[_Place, ...]]], mentions_district: bool, house_number: str | None
    ) -> AddressMatch:
        found: list[str] = []  # what was recognised
        notes: list[str] = []  # how the point was chosen, and doubts
        adjust = 0.0
        streets = [(h, c) for h, c in hits if h.place.kind == "street"]
        communities = [(h, c) for h, c in hits if h.place.kind == "community"]
        roads: list[_Hit] = []
        for h, _ in hits:
            if h.place.kind == "road" and all(r.place.code != h.place.code for r in roads):
                roads.append(h)

        street: _Place | None = None
        if streets:
            hit, cands = streets[0]
            street = cands[0]
            adjust -= 0.0 if hit.exact else 0.1
            found.append(f"街道“{street.name}”" + ("" if hit.exact else "（省略了“街道”）"))
        community: _Place | None = None
        if communities:
            hit, cands = communities[0]
            inside = [c for c in cands if street is None or c.parent_code == street.code]
            community = (inside or list(cands))[0]
            if len(inside or cands) > 1:
                adjust -= 0.1
                notes.append("社区名称有重名，取第一个")
            adjust -= 0.0 if hit.exact else 0.1
            found.append(f"社区“{community.name}”" + ("" if hit.exact else "（省略了“社区”）"))
            if street is not None and community.parent_code != street.code:
                adjust -= 0.2
                notes.append("该社区不属于所写街道，以社区为准")
                street = self._places.get(("street", community.parent_code or ""), street)
            elif street is not None:
                adjust += 0.05
        for hit in roads[:2]:
            adjust -= 0.0 if hit.exact else 0.1
            found.append(f"道路“{hit.place.name}”" + ("" if hit.exact else "（道路后缀不一致）"))

        base, point = 0.0, None
        area = community or street
        if len(roads) >= 2:
            base = 0.9
            point, met = self._crossing(roads[0].place, roads[1].place, area, notes)
            if not met:
                adjust -= 0.2
        elif roads:
            road = roads[0].place
            base = 0.85 if community else 0.6 if street else 0.5
            point = self._along(road, area, notes)
            if point is None and area is not None and area.geometry is not None and road.geometry is not None:
                adjust -= 0.2
                base = 0.8 if community else 0.4
                point = area.geometry.representative_point()
            elif point is None and road.geometry is not None:
                point = _mid(road.geometry)
                notes.append("取道路中点")
        elif community is not None:
            base = 0.8
            point = community.geometry.representative_point() if community.geometry is not None else None
        elif street is not None:
            base = 0.4
            point = street.geometry.representative_point() if street.geometry is not None else None
        elif mentions_district:
            base = 0.1
            found.append("区县名称")
            notes.append("未识别到街道、社区或道路，取区内一点")
            if self._district is not None:
                point = self._district.geometry.representative_point()

        if base == 0.0:
            return AddressMatch(
                None, None, None, None, None, 0.0, "未识别到街道、社区或道路", house_number=house_number
            )
        if community is None and point is not None and roads:
            community = self._community_at(point)  # a point taken from roads: say where it fell
            if community is not None and street is not None and community.parent_code != street.code:
                community = None
        if street is None and community is not None:
            street = self._places.get(("street", community.parent_code or ""))
        confidence = round(min(1.0, max(0.0, base + adjust)), 2)
        return AddressMatch(
            street_code=street.code if street else (community.parent_code if community else None),
            community_code=community.code if community else None,
            road_name=roads[0].place.name if roads else None,
            lng=point.x if point is not None else None,
            lat=point.y if point is not None else None,
            confidence=confidence,
            reason="；".join(["匹配到" + "、".join(found), *notes]),
            cross_road=roads[1].place.name if len(roads) >= 2 else None,
            house_number=house_number,
        )

    def _crossing(
        self, a: _Place, b: _Place, area: _Place | None, notes: list[str]
    ) -> tuple[Point | None, bool]:
        """The crossing point of two roads and whether they really meet (unknown geometry: True)."""
        if a.geometry is None or b.geometry is None:
            return None, True
        meet = shapely.intersection(a.geometry, b.geometry)
        points = [g for g in shapely.get_parts(meet) if isinstance(g, Point)]
        if points:
            area_geom = area.geometry if area is not None else None
            if area_geom is not None:
                points.sort(key=lambda p: area_geom.distance(p))
            notes.append("取两条道路的交叉点")
            return points[0], True
        pa, pb = nearest_points(a.geometry, b.geometry)
        notes.append("两条道路不相交，取两路最近处")
        return Point((pa.x + pb.x) / 2.0, (pa.y + pb.y) / 2.0), False

    def _along(self, road: _Place, area: _Place | None, notes: list[str]) -> Point | None:
        """The middle of the road's stretch inside the area, or None if the road does not cross it."""
        if road.geometry is None or area is None or area.geometry is None:
            return None
        piece = shapely.intersection(road.geometry, area.geometry)
        if piece.is_empty or piece.length == 0:
            notes.append("道路不经过该区域，取区域内一点")
            return None
        notes.append("取道路在该区域内路段的中点")
        return _mid(piece)

    def _community_at(self, point: Point) -> _Place | None:
        if self._community_tree is None:
            return None
        hits = self._community_tree.query(point, predicate="intersects")
        return self._community_list[int(hits.min())] if len(hits) else None
