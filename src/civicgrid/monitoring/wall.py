"""The wall screen's air panel (空气质量, a ``WallPanel`` of ``monitoring/domain.py``): each air station's
current AQI with its official colour, the worst first, and how many sensor cases are open.

"Current" is what the station map shows: the station's latest hourly window, else its latest real-time
values; only ``N`` values count (SPEC §10). A station with nothing in the last few hours shows no AQI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.cases.states import OPEN
from civicgrid.models import Case, Reading, Station
from civicgrid.monitoring import aqi
from civicgrid.monitoring.pollutants import table
from civicgrid.monitoring.readings import LOCAL

FRESH = {"hour": timedelta(hours=3), "rt": timedelta(minutes=15)}  # older than this is not "current"
NO_DATA_COLOR = "#8A94A6"
DARK_TEXT_LEVELS = frozenset({1, 2})  # green and yellow badges take dark text


@dataclass(frozen=True)
class AirRow:
    mn: str
    name: str
    aqi: int | None
    level: int | None
    category: str
    color: str
    primary: tuple[str, ...]
    at: datetime | None  # the window's start (UTC)
    window: str | None  # hour | rt

    @property
    def dark_text(self) -> bool:
        return self.level in DARK_TEXT_LEVELS or self.level is None

    @property
    def local_time(self) -> str:
        return self.at.astimezone(LOCAL).strftime("%H:%M") if self.at else "—"


def _latest(
    session: Session, ids: list[int], window: str, since: datetime
) -> dict[int, tuple[datetime, dict[str, float]]]:
    """Per station, the start of its latest window (since ``since``) and that window's normal values."""
    rows = session.execute(
        select(Reading.station_id, Reading.at, Reading.code, Reading.value)
        .where(
            Reading.station_id.in_(ids),
            Reading.window == window,
            Reading.at >= since,
            Reading.flag == "N",
            Reading.value.is_not(None),
        )
        .order_by(Reading.station_id, Reading.at.desc())
    )
    out: dict[int, tuple[datetime, dict[str, float]]] = {}
    for station_id, at, code, value in rows:
        got = out.setdefault(station_id, (at, {}))
        if at == got[0] and value is not None:
            got[1][code] = value
    return out


def row_of(station: Station, got: tuple[datetime, dict[str, float]] | None, window: str | None) -> AirRow:
    """One station's row from its latest window's values (pure)."""
    if got is not None:
        at, values = got
        named = {}
        for code, v in values.items():
            p = table().get(code)
            if p is not None and p.index_name in aqi.NAMES and v >= 0:
                named[p.index_name] = v
        if named:
            r = aqi.compute(named, day=at.astimezone(LOCAL).date(), hourly=True)
            if r.aqi is not None and r.color and r.category:
                return AirRow(
                    station.mn, station.name, r.aqi, r.level, r.category, r.color, r.primary, at, window
                )
    return AirRow(station.mn, station.name, None, None, "暂无数据", NO_DATA_COLOR, (), None, None)


def air_rows(session: Session, now: datetime) -> list[AirRow]:
    """Every active air station, the worst AQI first (stations without data last)."""
    stations = list(
        session.scalars(
            select(Station).where(Station.kind == "air", Station.active.is_(True)).order_by(Station.mn)
        )
    )
    ids = [s.id for s in stations]
    if not ids:
        return []
    hourly = _latest(session, ids, "hour", now - FRESH["hour"])
    realtime = _latest(session, ids, "rt", now - FRESH["rt"])
    rows = []
    for s in stations:
        if s.id in hourly:
            rows.append(row_of(s, hourly[s.id], "hour"))
        else:
            rows.append(row_of(s, realtime.get(s.id), "rt" if s.id in realtime else None))
    return sorted(rows, key=lambda r: (r.aqi is None, -(r.aqi or 0), r.mn))


def open_sensor_cases(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count(Case.id)).where(
                Case.source == "sensor", Case.state.in_([s.value for s in OPEN])
            )
        )
        or 0
    )


def air_panel(session: Session, now: datetime) -> dict[str, Any]:
    """The panel's data (``WallPanel.data``)."""
    rows = air_rows(session, now)
    return {"stations": rows, "open_cases": open_sensor_cases(session), "levels": aqi.LEVELS}
