"""Monitoring stations and their readings (SPEC §10): owned by ``civicgrid.monitoring``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.models.base import Base, utcnow


class Station(Base):
    """A monitoring station (监测站点), known to packets by its MN and PW, located to a grid like a report."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    mn: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # air | water | dust | source | noise
    name: Mapped[str] = mapped_column(String(100))
    lng: Mapped[float] = mapped_column(Float)  # WGS84
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str] = mapped_column(String(20), index=True)
    street_code: Mapped[str] = mapped_column(String(20), index=True)
    password: Mapped[str] = mapped_column(String(64))  # HJ 212 PW: sent in clear by the station, never shown
    target_class: Mapped[str | None] = mapped_column(String(4))  # water sections: the class they must meet
    lake: Mapped[bool] = mapped_column(Boolean, default=False)  # lake/reservoir TP limits
    interval_s: Mapped[int] = mapped_column(Integer, default=60)  # real-time data interval
    permit_limits: Mapped[dict[str, Any]] = mapped_column(default=dict)  # pollution sources: code → limit
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column()


class Reading(Base):
    """One value of one pollutant of one station for one window (real-time, minute, hour, day).

    ``at`` is the start of the window (the packet's DataTime) in UTC. Storing is idempotent: a packet sent
    twice (a resend, an MQTT redelivery) leaves one row."""

    __tablename__ = "station_readings"
    __table_args__ = (
        UniqueConstraint("station_id", "window", "code", "at", name="uq_station_readings_key"),
        Index("ix_station_readings_window_at", "window", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    window: Mapped[str] = mapped_column(String(8))  # rt | min | hour | day
    code: Mapped[str] = mapped_column(String(16))  # 2017 pollutant code (a34004)
    at: Mapped[datetime] = mapped_column()
    value: Mapped[float | None] = mapped_column(Float)
    vmin: Mapped[float | None] = mapped_column(Float)
    vmax: Mapped[float | None] = mapped_column(Float)
    flag: Mapped[str] = mapped_column(String(2), default="N")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class StationAggregate(Base):
    """One pollutant's hourly or daily aggregate of one station (owned by ``monitoring.aggregate``).

    ``at`` is the window's start in UTC (a day starts at local midnight). ``mean`` averages the ``N`` values
    only (None when the window is not valid); ``valid`` counts them; ``flags`` counts every value by flag.
    ``source`` tells where it came from: the station's own hourly/daily packet (``station``), its minute
    (``min``) or real-time (``rt``) values, or the hours of the day (``hour``). Recomputing replaces it."""

    __tablename__ = "station_aggregates"
    __table_args__ = (
        # at before code: the per-station window-range reads of the aggregate job use this index
        UniqueConstraint("station_id", "window", "at", "code", name="uq_station_aggregates_key"),
        Index("ix_station_aggregates_window_at", "window", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    window: Mapped[str] = mapped_column(String(8))  # hour | day
    code: Mapped[str] = mapped_column(String(16))  # pollutant code, or a derived one (a05024-8h)
    at: Mapped[datetime] = mapped_column()
    mean: Mapped[float | None] = mapped_column(Float)
    vmin: Mapped[float | None] = mapped_column(Float)
    vmax: Mapped[float | None] = mapped_column(Float)
    valid: Mapped[int] = mapped_column(Integer, default=0)
    flag: Mapped[str] = mapped_column(String(2), default="N")  # N when valid, else the commonest flag
    flags: Mapped[dict[str, Any]] = mapped_column(default=dict)  # flag → count
    source: Mapped[str] = mapped_column(String(8))  # station | min | rt | hour
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class StationIndex(Base):
    """The AQI (air stations) or water class (water stations) of one station's hour or day."""

    __tablename__ = "station_indices"
    __table_args__ = (
        UniqueConstraint("station_id", "window", "at", name="uq_station_indices_key"),
        Index("ix_station_indices_window_at", "window", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    window: Mapped[str] = mapped_column(String(8))  # hour | day
    at: Mapped[datetime] = mapped_column()
    aqi: Mapped[int | None] = mapped_column(Integer)
    level: Mapped[int | None] = mapped_column(Integer)
    primary_pollutants: Mapped[str | None] = mapped_column(String(40))  # joined by "," (PM2.5,PM10)
    water_class: Mapped[str | None] = mapped_column(String(4))
    complete: Mapped[bool] = mapped_column(Boolean, default=False)  # every indicator of the index was valid
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonitoringMark(Base):
    """A named watermark of a monitoring job (e.g. when ``station-aggregate`` last ran)."""

    __tablename__ = "monitoring_marks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column()


# The station-aggregate job finds late data by when it was received, and reads one station's hour (0016).
Index("ix_station_readings_received_at", Reading.received_at)
Index("ix_station_readings_station_at", Reading.station_id, Reading.at)
