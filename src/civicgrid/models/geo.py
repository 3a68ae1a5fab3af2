"""Geography: versioned grid generations and the administrative areas and unit grids inside them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.models.base import Base, utcnow

AREA_LEVELS = ("district", "street", "community", "grid")


class GridGeneration(Base):
    """One version of the district's geography. Exactly one generation is active; cases keep the one they
    used."""

    __tablename__ = "grid_generations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    grid_digits: Mapped[int] = mapped_column(Integer, default=2)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class Area(Base):
    """A district, street (街道), community (社区) or unit grid (单元网格). Geometry is GeoJSON in WGS84."""

    __tablename__ = "areas"
    __table_args__ = (
        UniqueConstraint("generation_id", "code", name="uq_areas_generation_code"),
        Index("ix_areas_generation_level", "generation_id", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("grid_generations.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(12))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(String(20))
    geometry: Mapped[dict[str, Any]] = mapped_column()
    area_m2: Mapped[float] = mapped_column(Float, default=0.0)
    centroid_lng: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)


class Road(Base):
    """A named road used to understand address text (XX路12号)."""

    __tablename__ = "roads"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("grid_generations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    geometry: Mapped[dict[str, Any]] = mapped_column()
    community_codes: Mapped[list[Any]] = mapped_column()


LANDMARK_KINDS = ("government", "hospital", "school", "park", "station", "market", "scenic")


class Landmark(Base):
    """A named place drawn on the base map and used as a reference when reading a report (a school, a
    hospital, a park, a station). A point in WGS84; landmarks do not belong to a grid generation."""

    __tablename__ = "landmarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # one of LANDMARK_KINDS
    lng: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
