"""The monitoring rule table and the stations' exceedance episodes (SPEC §10 "Rules → cases").

Owned by ``civicgrid.monitoring`` (``monitoring/alarms.py``). The rules start as the defaults of
``monitoring/rules.DEFAULT_RULES`` (seeded by migration 0017) and an admin edits their threshold, consecutive
count and whether they are on. An episode is one station's standing on one rule: the current one has
``ended_at`` NULL (at most one per station and rule); when its case is closed it ends and stays as the record
that links the case to its station.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.models.base import Base, utcnow


class StationRule(Base):
    """One row of the rule table: which measure of which station kind, on which window, opens which case."""

    __tablename__ = "station_rules"

    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    station_kind: Mapped[str] = mapped_column(String(8))  # air | water | dust | source | noise | *
    measure: Mapped[str] = mapped_column(
        String(16)
    )  # AQI | class | permit | silence | fault | a pollutant code
    window: Mapped[str] = mapped_column(String(8))  # realtime | hour | day
    threshold: Mapped[float | None] = mapped_column(Float)  # None: the station's own limit
    consecutive: Mapped[int] = mapped_column(Integer)
    category_code: Mapped[str] = mapped_column(String(8))  # no foreign key: seeded before the catalogue
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StationEpisode(Base):
    """Where one station stands on one rule (``rules.Episode``), and the case its exceedance opened."""

    __tablename__ = "station_episodes"
    __table_args__ = (
        # One current episode per station and rule (ended ones are kept as history).
        Index(
            "uq_station_episodes_current",
            "station_id",
            "rule_code",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    rule_code: Mapped[str] = mapped_column(ForeignKey("station_rules.code"))
    over_run: Mapped[int] = mapped_column(Integer, default=0)
    normal_run: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[bool] = mapped_column(Boolean, default=False)
    recovered: Mapped[bool] = mapped_column(Boolean, default=False)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    opened_at: Mapped[datetime | None] = mapped_column()  # when its case was opened
    last_at: Mapped[datetime | None] = mapped_column()  # the last window fed to it (start of the hour)
    ended_at: Mapped[datetime | None] = mapped_column()  # its case was closed: the episode is over
