"""Stations and their readings over the JSON API (staff; a station's PW is never shown)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.convertors import Convertor, register_url_convertor

from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.errors import InvalidInput
from civicgrid.models import utcnow
from civicgrid.monitoring import aggregate, readings, station_bulk, station_import, stations
from civicgrid.org.auth import AdminUser, StaffUser
from civicgrid.settings import get_settings


class MnConvertor(Convertor[str]):
    """``{mn:mn}`` in a route: an MN, never one of the reserved words (stations.RESERVED_MNS), so that
    /stations/rules, /stations/import and /stations/rankings belong to their own routes alone — a 405 there
    lists only their own methods."""

    regex = r"(?!(?:rules|import|rankings)(?:/|$))[0-9A-Za-z\-_]{1,24}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("mn", MnConvertor())  # used by the station pages (pages.py) too

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


@router.get("/stations/{mn:mn}", summary="一个监测站点")
def get_station(session: DbSession, user: StaffUser, mn: str) -> dict[str, Any]:
    return stations.present(stations.get(session, mn))


@router.get("/stations/{mn:mn}/readings", summary="站点监测数据（实时、分钟、小时、日）")
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
    rows = aggregate.series(session, station, interval, start, end)  # archived minutes too
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


class StationPatch(BaseModel):
    """What to change on a station; a field left out stays as it is (MN and kind cannot change)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=100, description="站点名称")
    lng: float | None = Field(default=None, description="经度（WGS84）；与纬度同时给出，重新定位网格")
    lat: float | None = Field(default=None, description="纬度（WGS84）")
    password: str | None = Field(default=None, max_length=16, description="访问密码 PW")
    target_class: str | None = Field(default=None, max_length=4, description="地表水断面的目标水质类别")
    lake: bool | None = Field(default=None, description="湖库断面（总磷按湖库标准）")
    interval_s: int | None = Field(default=None, description="实时数据间隔（秒）")
    permit_limits: dict[str, float] | None = Field(default=None, description="污染源许可限值：编码 → 限值")
    active: bool | None = Field(default=None, description="启用或停用")


@router.patch("/stations/{mn:mn}", summary="修改站点（管理员）")
def edit_station(session: DbSession, user: AdminUser, mn: str, body: StationPatch) -> dict[str, Any]:
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    return stations.present(stations.update(session, mn, changes))


@router.post("/stations/import", summary="从 CSV 或 xlsx 批量导入站点（管理员；全部无误才导入）")
def import_stations(
    session: DbSession,
    user: AdminUser,
    file: Annotated[UploadFile, File(description="CSV（UTF-8 或 GBK）或 xlsx 文件，首行为表头")],
    dry_run: Annotated[bool, Query(description="只检查不导入")] = False,
) -> dict[str, Any]:
    limit = get_settings().max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"文件不能超过 {limit // (1024 * 1024)} MB", field="file")
    parsed = station_import.parse(data, file.filename or "")
    return station_bulk.run(session, parsed, dry_run=dry_run).as_json()


@router.post("/stations/{mn:mn}/deactivate", summary="停用站点（管理员）")
def deactivate_station(session: DbSession, user: AdminUser, mn: str) -> dict[str, Any]:
    return stations.present(stations.deactivate(session, mn))


def _aware(value: datetime) -> datetime:
    """A time without a zone is the district's local time (as everywhere in CivicGrid)."""
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(get_settings().timezone))
