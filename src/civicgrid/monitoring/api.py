"""Stations and their readings over the JSON API (staff; a station's PW is never shown)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.errors import InvalidInput
from civicgrid.models import utcnow
from civicgrid.monitoring import readings, stations
from civicgrid.org.auth import AdminUser, StaffUser
from civicgrid.settings import get_settings

router = APIRouter(prefix="/api/v1", tags=["环境监测 monitoring"], route_class=UnitOfWorkRoute)

MAX_SPAN = {
    "rt": timedelta(days=2),
    "min": timedelta(days=7),
    "hour": timedelta(days=93),
    "day": timedelta(days=3660),
}


@router.get("/stations", summary="监测站点列表")
def list_stations(
    session: DbSession, user: StaffUser, kind: Annotated[str | None, Query(description="站点类型")] = None
) -> list[dict[str, Any]]:
    if kind is not None and kind not in stations.KINDS:
        raise InvalidInput(f"站点类型应为 {'、'.join(stations.KINDS)} 之一", field="kind")
    return [stations.present(s) for s in stations.listing(session, kind=kind)]


@router.get("/stations/{mn}", summary="一个监测站点")
def get_station(session: DbSession, user: StaffUser, mn: str) -> dict[str, Any]:
    return stations.present(stations.get(session, mn))


@router.get("/stations/{mn}/readings", summary="站点监测数据（实时、分钟、小时、日）")
def station_readings(
    session: DbSession,
    user: StaffUser,
    mn: str,
    since: Annotated[
        datetime | None, Query(alias="from", description="起（含），默认 interval 的默认跨度之前")
    ] = None,
    until: Annotated[datetime | None, Query(alias="to", description="止（不含），默认现在")] = None,
    interval: Annotated[
        Literal["rt", "min", "hour", "day"], Query(description="rt、min、hour、day")
    ] = "hour",
) -> dict[str, Any]:
    station = stations.get(session, mn)
    end = _aware(until) if until else utcnow()
    start = (
        _aware(since)
        if since
        else end
        - {"rt": timedelta(hours=6), "min": timedelta(days=1)}.get(
            interval, timedelta(days=7) if interval == "hour" else timedelta(days=90)
        )
    )
    if start >= end:
        raise InvalidInput("起始时间应早于结束时间", field="from")
    if end - start > MAX_SPAN[interval]:
        raise InvalidInput(
            f"{readings.WINDOW_LABELS[interval]}数据一次最多查询 {MAX_SPAN[interval].days} 天", field="from"
        )
    rows = readings.series(session, station, interval, start, end)
    return {
        "station": stations.present(station),
        "interval": interval,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "readings": [
            {
                "at": r.at.isoformat(),
                "code": r.code,
                "value": r.value,
                "min": r.vmin,
                "max": r.vmax,
                "flag": r.flag,
            }
            for r in rows
        ],
    }


@router.post("/stations/{mn}/deactivate", summary="停用站点（管理员）")
def deactivate_station(session: DbSession, user: AdminUser, mn: str) -> dict[str, Any]:
    return stations.present(stations.deactivate(session, mn))


def _aware(value: datetime) -> datetime:
    """A time without a zone is the district's local time (as everywhere in CivicGrid)."""
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(get_settings().timezone))
