"""The demo district's monitoring stations and their last 30 days (``civicgrid init --demo``).

Fifteen stations of 姑苏区: four air points (two 国控, two 省控), four building-site dust monitors, four
water sections on the district's rivers with their target classes, two boiler stacks with permit limits
and one noise point. Each is placed at a fraction of the district's bounding box near its namesake, moved
to the centre of the nearest unit grid (as the landmarks are) and added through
``monitoring.stations.add``, so it is located to its grid like any station.

The history is what the stations would have sent: an hourly packet (CN 2061) for every hour since midnight
30 days ago and a daily packet (2031) for each of those 30 whole days, built by ``hj212.build`` and parsed
back by ``hj212.parse_frame``, then stored as the listener stores them: the readings, then the rules on the
hours that can change an episode (:func:`judged_hours`). Most days are clean; four episodes break the
default rules of SPEC §10, so the demo opens its sensor cases through the real rules: a haze at 南门
(hourly AQI above 200 for five hours), dust at the 白洋湾 site (PM10 above 150), ammonia in 山塘河 (worse
than its target class) and a NOx excursion at a boiler stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from civicgrid.geo.plan import DistrictPlan
from civicgrid.models import Reading, Station, utcnow
from civicgrid.monitoring import alarms, hj212, readings
from civicgrid.monitoring import stations as station_service
from civicgrid.monitoring.simulate import Model, SimStation, data_packet, period_stats, spread

LOCAL = ZoneInfo("Asia/Shanghai")
READINGS = cast(Table, Reading.__table__)
DAYS = 30


@dataclass(frozen=True)
class DemoStation:
    mn: str  # district code + ST + serial, as the district numbers its loggers
    kind: str
    name: str
    fx: float  # fraction of the bounding box from the west
    fy: float  # … from the south
    target_class: str | None = None
    permit_limits: dict[str, float] = field(default_factory=dict)


STATIONS: tuple[DemoStation, ...] = (
    DemoStation("32050822000001", "air", "南门空气自动监测站（国控）", 0.56, 0.10),
    DemoStation("32050822000002", "air", "彩香空气自动监测站（国控）", 0.16, 0.48),
    DemoStation("32050822000003", "air", "平江路空气自动监测站（省控）", 0.70, 0.64),
    DemoStation("32050822000004", "air", "虎丘空气自动监测站（省控）", 0.22, 0.80),
    DemoStation("32050839000001", "dust", "苏站路安置房项目工地扬尘监测点", 0.48, 0.88),
    DemoStation("32050839000002", "dust", "白洋湾城市更新项目工地扬尘监测点", 0.10, 0.56),
    DemoStation("32050839000003", "dust", "南环路地铁站施工工地扬尘监测点", 0.62, 0.20),
    DemoStation("32050839000004", "dust", "桐泾路改造工程工地扬尘监测点", 0.07, 0.34),
    DemoStation("32050821000001", "water", "外城河觅渡桥断面", 0.86, 0.20, target_class="III"),
    DemoStation("32050821000002", "water", "山塘河星桥断面", 0.26, 0.72, target_class="IV"),
    DemoStation("32050821000003", "water", "胥江胥门断面", 0.30, 0.38, target_class="III"),
    DemoStation("32050821000004", "water", "平江河白塔东路断面", 0.72, 0.72, target_class="IV"),
    DemoStation(
        "32050831000001",
        "source",
        "虎丘集中供热站燃气锅炉排口",
        0.18,
        0.70,
        permit_limits={"a21026": 35.0, "a21002": 50.0},
    ),
    DemoStation(
        "32050831000002",
        "source",
        "苏锦街道区域供热站锅炉排口",
        0.56,
        0.94,
        permit_limits={"a21026": 35.0, "a21002": 50.0},
    ),
    DemoStation("32050823000001", "noise", "观前街声环境监测点", 0.55, 0.60),
)

# The episodes: station, days before today, local start hour, and the intensity of each hour (1 = full).
EPISODES: tuple[tuple[str, int, int, tuple[float, ...]], ...] = (
    ("32050822000001", 6, 19, (0.4, 0.7, 0.9, 1.0, 1.0, 1.0, 0.9, 0.6, 0.3)),  # winter haze at 南门
    ("32050839000002", 12, 9, (0.5, 0.9, 1.0, 1.0, 0.8, 0.4)),  # earthworks without dust nets
    ("32050821000002", 3, 5, (0.6, 1.0, 1.0, 1.0, 0.7, 0.3)),  # an overflow into 山塘河
    ("32050831000001", 9, 7, (1.0, 1.0, 0.3)),  # a burner fault at a boiler stack
)
PW = "GS2026"  # the demo's logger password (HJ 212 PW), the same for every demo station


def placed(plan: DistrictPlan) -> list[tuple[DemoStation, float, float]]:
    """Each demo station at the centre of the unit grid nearest to its intended place (so inside)."""
    x0, y0, x1, y1 = plan.district.geometry.bounds
    centres = [(g.geometry.centroid.x, g.geometry.centroid.y) for g in plan.grids]
    out = []
    for s in STATIONS:
        want = (x0 + s.fx * (x1 - x0), y0 + s.fy * (y1 - y0))
        lng, lat = min(centres, key=lambda c: (c[0] - want[0]) ** 2 + (c[1] - want[1]) ** 2)
        out.append((s, round(lng, 6), round(lat, 6)))
    return out


def add_stations(session: Session, plan: DistrictPlan) -> list[Station]:
    """Add the demo stations through the stations service (each located to its grid)."""
    out = []
    for s, lng, lat in placed(plan):
        data = station_service.StationIn(s.mn, s.kind, s.name, lng, lat, PW, target_class=s.target_class)
        station = station_service.add(session, data)
        if s.permit_limits:
            station.permit_limits = dict(s.permit_limits)
        out.append(station)
    session.flush()
    return out


def _intensities(now_local: datetime) -> dict[tuple[str, datetime], float]:
    today = now_local.replace(hour=0, minute=0, second=0, microsecond=0)
    out = {}
    for mn, days_ago, hour, ramp in EPISODES:
        start = today - timedelta(days=days_ago) + timedelta(hours=hour)
        for i, x in enumerate(ramp):
            out[(mn, start + timedelta(hours=i))] = x
    return out


def history(station: SimStation, now_local: datetime, days: int = DAYS) -> Iterator[bytes]:
    """The station's hourly packets of every whole hour since midnight ``days`` days ago, and the daily
    packets of those ``days`` days, in the order a logger sends them (a day's packet after its last hour)."""
    model = Model(station, seed="demo")
    digits = {c.code: c.digits for c in model.curves}
    end = now_local.replace(minute=0, second=0, microsecond=0)  # the current hour is not over
    hour = end.replace(hour=0) - timedelta(days=days)
    boost = _intensities(now_local)
    day_samples: list[dict[str, float]] = []
    while hour < end:
        values = model.values(hour + timedelta(minutes=30), boost.get((station.mn, hour), 0.0))
        sent = hour + timedelta(hours=1, seconds=20)
        yield data_packet(station, "2061", hour, spread(values, digits, model.rng), sent=sent)
        day_samples.append(values)
        hour += timedelta(hours=1)
        if hour.hour == 0:
            if len(day_samples) == 24:
                day = hour - timedelta(days=1)
                yield data_packet(station, "2031", day, period_stats(day_samples, digits), sent=sent)
            day_samples = []


RECOVERY_HOURS = 6  # hours judged after an episode, so its case is noted "已恢复"


def judged_hours(mn: str, now_local: datetime) -> set[datetime]:
    """The local hours whose closed window is fed to the rules: each episode's hours and the hours after it.

    Every other hour is normal by construction (``simulate.Curve.cap``/``floor`` keep it below each rule's
    threshold; ``tests/monitoring/test_demo_stations.py`` checks every hour with the rules themselves), and a
    normal hour without an open episode changes nothing — so judging only these gives the same cases as
    judging all 720-odd hours, in a fraction of the time."""
    hours = sorted(h for (m, h) in _intensities(now_local) if m == mn)
    if not hours:
        return set()
    extra = [hours[-1] + timedelta(hours=i) for i in range(1, RECOVERY_HOURS + 1)]
    return set(hours) | set(extra)


def store_frames(session: Session, station: Station, frames: Iterator[bytes], judge: set[datetime]) -> int:
    """Store frames as ``monitoring.service.store_packet`` does — the readings (``readings.rows_of``), then
    the rules on a closed hour (``alarms.after_store``) — in the caller's unit of work (the demo is built in
    one transaction), the readings in one batch. ``judge``: the local hours fed to the rules, in order."""
    now = utcnow()
    rows: list[dict[str, object]] = []
    to_judge = []
    for frame in frames:
        packet = hj212.parse_frame(frame)
        rows.extend(readings.rows_of(station.id, packet, now))
        if packet.cn == "2061" and packet.data_time in judge:
            to_judge.append(packet)
    if rows:
        session.connection().execute(insert(READINGS), rows)  # one executemany
        station.last_seen_at = now
    for packet in to_judge:
        alarms.after_store(session, station, packet)
    return len(rows)


@dataclass(frozen=True)
class StationsSummary:
    stations: int
    readings: int


def build(session: Session, plan: DistrictPlan, now: datetime | None = None) -> StationsSummary:
    """The demo's stations and their 30 days of history (``demo/build.py`` calls this)."""
    now_local = (now or utcnow()).astimezone(LOCAL).replace(tzinfo=None)
    added = add_stations(session, plan)
    total = 0
    for st in added:
        sim = SimStation(st.mn, st.kind, st.password, st.target_class, st.lake, dict(st.permit_limits))
        total += store_frames(session, st, history(sim, now_local), judged_hours(st.mn, now_local))
    session.flush()
    # The daily values the monthly rankings read (/stations/rankings); hours are left to the
    # station-aggregate job (a month of hours here would cost ~45 s of the build).
    from civicgrid.monitoring.aggregate import aggregate_days, local_day

    today = local_day(now or utcnow())
    days = [today - timedelta(days=n) for n in range(1, 31)]
    for st in added:
        aggregate_days(session, st, days)
    session.flush()
    return StationsSummary(len(added), total)
