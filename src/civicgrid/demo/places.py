"""Where demo cases happen: a point on or beside one of the district's 40 named roads, with a street address
(``干将路128号``, ``人民路与十梓街交叉口``) that a reader can find on the map. Pure: geometry only.

House numbers follow the road: odd on one side, even on the other, about one number per 10 m, counted from
the road's start, so two cases at the same spot get the same address.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import shapely
from shapely.geometry import Point

from civicgrid.geo.crs import metres_per_degree
from civicgrid.geo.plan import DistrictPlan, Road

NEAR_ROAD_M = 400.0  # a grid farther than this from every road gets a community address


@dataclass(frozen=True)
class Place:
    lng: float
    lat: float
    address: str


class Places:
    """Addresses for points in the demo district, built once per plan."""

    def __init__(self, plan: DistrictPlan) -> None:
        self.plan = plan
        self.roads = list(plan.roads)
        lat0 = plan.district.geometry.centroid.y
        self.mx, self.my = metres_per_degree(lat0)
        self._lines = [r.geometry for r in self.roads]
        self._tree = shapely.STRtree(self._lines)
        self._crossings: dict[str, list[tuple[str, float, float]]] = {}
        for i, a in enumerate(self.roads):
            for b in self.roads[i + 1 :]:
                for p in shapely.get_parts(a.geometry.intersection(b.geometry)):
                    if isinstance(p, Point):
                        self._crossings.setdefault(a.name, []).append((b.name, p.x, p.y))
                        self._crossings.setdefault(b.name, []).append((a.name, p.x, p.y))
        self._inside = plan.district.geometry
        shapely.prepare(self._inside)

    def _metres(self, dlng: float, dlat: float) -> float:
        return math.hypot(dlng * self.mx, dlat * self.my)

    def near(self, lng: float, lat: float, rng: random.Random) -> Place:
        """A point within a few metres of the road nearest to (lng, lat), and its address."""
        pt = Point(lng, lat)
        idx = int(self._tree.nearest(pt))
        road = self.roads[idx]
        line = road.geometry
        along = line.project(pt)
        on = line.interpolate(along)
        if self._metres(on.x - lng, on.y - lat) > NEAR_ROAD_M:
            return Place(lng, lat, self._community_address(lng, lat, rng))
        side = 1 if (pt.x - on.x) * self.my + (pt.y - on.y) * self.mx >= 0 else -1
        offset = rng.uniform(4, 14) / self.my  # the pavement beside the carriageway
        plng, plat = on.x + side * offset * 0.3, on.y + side * offset
        if not self._inside.contains(Point(plng, plat)):  # a road at the district's edge
            return Place(lng, lat, self._community_address(lng, lat, rng))
        metres = along * (self.mx + self.my) / 2
        number = max(1, int(metres / 10)) * 2 + (1 if side > 0 else 0)
        address = self._address(road, line, on, number, rng)
        return Place(plng, plat, address)

    def _address(self, road: Road, line: object, on: Point, number: int, rng: random.Random) -> str:
        crossing = self._crossing(road, on)
        r = rng.random()
        if crossing and r < 0.22:
            return f"{road.name}与{crossing}交叉口"
        if r < 0.32:
            return f"{road.name}{number}号对面"
        if r < 0.42:
            return f"{road.name}{number}号附近"
        return f"{road.name}{number}号"

    def _crossing(self, road: Road, on: Point) -> str | None:
        """The name of a road crossing ``road`` within 150 m of ``on``, if any."""
        reach = 150.0 / self.my
        for other, x, y in self._crossings.get(road.name, ()):
            if abs(x - on.x) < reach and abs(y - on.y) < reach:
                return other
        return None

    def _community_address(self, lng: float, lat: float, rng: random.Random) -> str:
        comm = next(
            (c.name for c in self.plan.communities if c.geometry.covers(Point(lng, lat))),
            "",
        )
        return f"{comm}{rng.randint(1, 40)}幢{rng.choice(['东侧', '西侧', '楼下', '门口'])}"
