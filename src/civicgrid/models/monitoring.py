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
