"""Landmarks of the demo district (schools, hospitals, parks, stations, offices) for the base map.

Each landmark is placed at a fraction of the district's bounding box and then moved to the centre of the
nearest unit grid, so it always lies inside the generated district whatever its outline.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from civicgrid.geo.plan import DistrictPlan
from civicgrid.models import Landmark

# name, kind, fraction of the bounding box from the west, fraction from the south
PLACES: tuple[tuple[str, str, float, float], ...] = (
    ("姑苏区人民政府", "government", 0.50, 0.52),
    ("城市管理指挥中心", "government", 0.46, 0.47),
    ("苏州火车站", "station", 0.42, 0.92),
    ("南门汽车站", "station", 0.55, 0.08),
    ("观前街", "market", 0.55, 0.62),
    ("石路步行街", "market", 0.18, 0.55),
    ("拙政园", "scenic", 0.62, 0.78),
    ("平江历史街区", "scenic", 0.72, 0.64),
    ("留园", "scenic", 0.12, 0.66),
    ("盘门景区", "scenic", 0.30, 0.12),
    ("桂花公园", "park", 0.82, 0.42),
    ("桐泾公园", "park", 0.08, 0.30),
    ("北寺塔", "scenic", 0.46, 0.80),
    ("苏大附一院", "hospital", 0.66, 0.30),
    ("苏州市立医院", "hospital", 0.40, 0.70),
    ("苏州中学", "school", 0.58, 0.40),
    ("平江实验学校", "school", 0.78, 0.70),
    ("沧浪实验小学", "school", 0.36, 0.28),
    ("南环农贸市场", "market", 0.62, 0.18),
    ("金阊街道社区服务中心", "government", 0.24, 0.74),
)


@dataclass(frozen=True)
class DemoLandmark:
    name: str
    kind: str
    lng: float
    lat: float


def demo_landmarks(plan: DistrictPlan) -> list[DemoLandmark]:
    """The demo's landmarks, each at the centre of the unit grid nearest to its intended place."""
    x0, y0, x1, y1 = plan.district.geometry.bounds
    centres = [(g.geometry.centroid.x, g.geometry.centroid.y) for g in plan.grids]
    out = []
    for name, kind, fx, fy in PLACES:
        want = (x0 + fx * (x1 - x0), y0 + fy * (y1 - y0))
        lng, lat = min(centres, key=lambda c: (c[0] - want[0]) ** 2 + (c[1] - want[1]) ** 2)
        out.append(DemoLandmark(name, kind, round(lng, 6), round(lat, 6)))
    return out


def add_landmarks(session: Session, plan: DistrictPlan) -> int:
    """Store the demo's landmarks; returns how many."""
    rows = demo_landmarks(plan)
    session.add_all(Landmark(name=r.name, kind=r.kind, lng=r.lng, lat=r.lat) for r in rows)
    session.flush()
    return len(rows)
