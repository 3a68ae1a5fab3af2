"""Storing a station's packet as readings, and reading them back (SPEC §10 "Readings").

A data packet (CN 2011 real-time, 2051 minute, 2061 hourly, 2031 daily) becomes one row per pollutant:
the real-time ``Rtd`` or the period's ``Avg`` (with ``Min``/``Max``) and its ``Flag``. ``DataTime`` is the
station's local time (Asia/Shanghai) at the start of the period and is stored in UTC. Storing is idempotent:
a packet sent again leaves the rows as they were.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from civicgrid.models import Reading, Station, utcnow
from civicgrid.monitoring.hj212 import Packet
from civicgrid.monitoring.pollutants import normalise

LOCAL = ZoneInfo("Asia/Shanghai")
WINDOWS = {"2011": "rt", "2051": "min", "2061": "hour", "2031": "day"}
WINDOW_LABELS = {"rt": "实时", "min": "分钟", "hour": "小时", "day": "日"}


def _number(raw: str | None) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def rows_of(station_id: int, packet: Packet, now: datetime) -> list[dict[str, Any]]:
    """The reading rows a data packet carries (empty for other commands or without a readable DataTime)."""
    window = WINDOWS.get(packet.cn or "")
    local = packet.data_time
    if window is None or local is None:
        return []
    at = local.replace(tzinfo=LOCAL).astimezone(ZoneInfo("UTC"))
    rows = []
    for code, fields in packet.values.items():
        value = _number(fields.get("Rtd" if window == "rt" else "Avg"))
        if value is None and window != "rt":
            value = _number(fields.get("Rtd"))
        rows.append(
            {
                "station_id": station_id,
                "window": window,
                "code": normalise(code, packet.version),
                "at": at,
                "value": value,
                "vmin": _number(fields.get("Min")),
                "vmax": _number(fields.get("Max")),
                "flag": (fields.get("Flag") or "N")[:2],
                "received_at": now,
            }
        )
    return rows


@cache
def _insert(dialect: str) -> Any:
    """One statement for every packet (compiled once, run over the packet's rows): a row already stored is
    skipped, and the ids of the new rows come back (the count of new rows on SQLite and PostgreSQL alike)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(Reading)
        .on_conflict_do_nothing(index_elements=["station_id", "window", "code", "at"])
        .returning(Reading.id)
    )


def store(session: Session, station: Station, packet: Packet) -> int:
    """Store a data packet's readings; returns how many rows were new."""
    now = utcnow()
    station.last_seen_at = now
    rows = rows_of(station.id, packet, now)
    if not rows:
        return 0
    return len(session.execute(_insert(session.get_bind().dialect.name), rows).all())


def series(
    session: Session, station: Station, window: str, since: datetime, until: datetime
) -> list[Reading]:
    return list(
        session.scalars(
            select(Reading)
            .where(
                Reading.station_id == station.id,
                Reading.window == window,
                Reading.at >= since,
                Reading.at < until,
            )
            .order_by(Reading.at, Reading.code)
        )
    )
