"""What the station pages show: each station's current value (AQI or water class, with its official colour),
whether it is online, a station's flag counts over a range and its open sensor cases.

Queries live here so the pages build none. Only ``N`` values enter the AQI and the water class (SPEC §10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from civicgrid.cases.repository import CaseFilter, list_cases
from civicgrid.cases.states import OPEN
from civicgrid.models import Case, Reading, Station, utcnow
from civicgrid.monitoring import aqi, water
from civicgrid.monitoring.pollutants import table
from civicgrid.monitoring.readings import LOCAL
from civicgrid.org.roles import Principal

#: HJ 212 data flags (SPEC §10) and their Chinese names, in the order the page lists them.
FLAGS = {
    "N": "正常",
    "F": "停运",
    "M": "维护",
    "S": "手工输入",
    "D": "故障",
    "C": "校准",
    "T": "超测定上限",
    "B": "通讯异常",
}
NEUTRAL = "#8A94A6"  # a station without a current index (no data, noise, pollution sources)
STATUS_LABELS = {"online": "在线", "offline": "离线", "inactive": "停用"}
SILENT_INTERVALS = 3  # as the silence rule: no data for 3 intervals is offline


@dataclass(frozen=True)
class Current:
    """A station's latest value as the map and the table show it."""

    text: str  # "AQI 107 轻度污染", "III 类 良好", "COD 35 mg/L", "—"
    color: str  # the official colour of the level or class, else NEUTRAL
    at: datetime | None  # the window the value is for
    level: str  # "aqi-3", "wq-III", "" (for tests and the legend)


@dataclass(frozen=True)
class Row:
    station: Station
    current: Current
    status: str  # online | offline | inactive

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


def status(station: Station, now: datetime) -> str:
    if not station.active:
        return "inactive"
    seen = station.last_seen_at
    if seen is None or now - seen > timedelta(seconds=SILENT_INTERVALS * station.interval_s):
        return "offline"
    return "online"


def current_of(station: Station, readings: Sequence[Reading], at: datetime | None) -> Current:
    """The station's current index from the readings of its latest window (pure)."""
    pollutants = table()
    normal = {
        p.index_name: r.value
        for r in readings
        if r.flag == "N" and r.value is not None and (p := pollutants.get(r.code)) and p.index_name
    }
    if station.kind in ("air", "dust") and at is not None:
        values = {k: v for k, v in normal.items() if k in aqi.NAMES and v is not None and v >= 0}
        if values:
            result = aqi.compute(values, day=at.astimezone(LOCAL).date(), hourly=True)
            if result.aqi is not None and result.color and result.level:
                return Current(f"AQI {result.aqi} {result.category}", result.color, at, f"aqi-{result.level}")
    if station.kind == "water" and at is not None:
        values = {k: v for k, v in normal.items() if k in water.NAMES and v is not None}
        if values:
            got = water.classify(values, lake=station.lake)
            if got.water_class:
                return Current(
                    f"{got.water_class} 类 {got.label}",
                    water.COLORS[got.water_class],
                    at,
                    f"wq-{got.water_class}",
                )
    first = next((r for r in readings if r.value is not None and r.code in pollutants), None)
    if first is not None:
        p = pollutants[first.code]
        return Current(f"{p.name} {first.value:g} {p.unit}", NEUTRAL, at, "")
    return Current("—", NEUTRAL, None, "")


def _latest(session: Session, ids: Sequence[int], window: str) -> dict[int, tuple[datetime, list[Reading]]]:
    if not ids:
        return {}
    last = (
        select(Reading.station_id, func.max(Reading.at).label("at"))
        .where(Reading.window == window, Reading.station_id.in_(ids))
        .group_by(Reading.station_id)
        .subquery()
    )
    rows = session.scalars(
        select(Reading)
        .join(last, and_(Reading.station_id == last.c.station_id, Reading.at == last.c.at))
        .where(Reading.window == window)
        .order_by(Reading.station_id, Reading.code)
    )
    out: dict[int, tuple[datetime, list[Reading]]] = {}
    for r in rows:
        out.setdefault(r.station_id, (r.at, []))[1].append(r)
    return out


def board(session: Session, *, kind: str | None = None, now: datetime | None = None) -> list[Row]:
    """Every station (of ``kind``) with its current value (latest hourly window, else the latest real-time
    one) and status."""
    now = now or utcnow()
    q = select(Station).order_by(Station.kind, Station.mn)
    if kind:
        q = q.where(Station.kind == kind)
    stations = list(session.scalars(q))
    ids = [s.id for s in stations]
    hourly, realtime = _latest(session, ids, "hour"), _latest(session, ids, "rt")
    out = []
    for s in stations:
        at, rows = hourly.get(s.id) or realtime.get(s.id) or (None, [])
        out.append(Row(s, current_of(s, rows, at), status(s, now)))
    return out


def row_of(session: Session, station: Station, now: datetime | None = None) -> Row:
    hourly, realtime = _latest(session, [station.id], "hour"), _latest(session, [station.id], "rt")
    at, rows = hourly.get(station.id) or realtime.get(station.id) or (None, [])
    return Row(station, current_of(station, rows, at), status(station, now or utcnow()))


def flag_counts(
    session: Session, station: Station, window: str, since: datetime, until: datetime
) -> dict[str, int]:
    """How many values of each flag the station sent in ``[since, until)`` (every flag of ``FLAGS``, then any
    other flag a device sent)."""
    got = dict(
        session.execute(
            select(Reading.flag, func.count())
            .where(
                Reading.station_id == station.id,
                Reading.window == window,
                Reading.at >= since,
                Reading.at < until,
            )
            .group_by(Reading.flag)
        ).all()
    )
    out = {flag: int(got.pop(flag, 0)) for flag in FLAGS}
    return out | {str(k): int(v) for k, v in sorted(got.items())}


def open_cases(session: Session, actor: Principal, station: Station) -> list[Case]:
    """The open sensor cases at the station (cases from the rules are located at the station), as the user may
    read them."""
    rows, _ = list_cases(
        session,
        actor,
        CaseFilter(states=sorted(str(s) for s in OPEN), source="sensor", grid_code=station.grid_code),
        page_size=50,
    )
    return [c for c in rows if abs(c.lng - station.lng) < 1e-6 and abs(c.lat - station.lat) < 1e-6]
