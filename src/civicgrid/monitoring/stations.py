"""Stations: add, edit, list, deactivate (the admin page, the API and ``civicgrid station`` call these).

A station is located to its grid like a report: a point outside the district is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.errors import Conflict, InvalidInput, NotFound
from civicgrid.geo.service import locate
from civicgrid.models import Station
from civicgrid.monitoring.water import CLASSES

#: Station kinds and their HJ 212 system code (ST) and Chinese name.
KINDS: dict[str, tuple[str, str]] = {
    "air": ("22", "空气质量"),
    "water": ("21", "地表水"),
    "dust": ("39", "工地扬尘"),
    "source": ("31", "污染源"),
    "noise": ("23", "声环境"),
}
MN_RE = re.compile(r"^[0-9A-Za-z\-_]{1,24}$")
# Words of the /stations/… paths that are not stations (/stations/rules, /stations/import,
# /stations/rankings): refused as MNs, and never matched as one by the routes' {mn:mn} parameter.
RESERVED_MNS = frozenset({"rules", "import", "rankings"})

PW_RE = re.compile(r"^[0-9A-Za-z]{1,16}$")
DEFAULT_PASSWORD = "123456"  # the factory default of most data loggers; a station should be given its own


@dataclass(frozen=True)
class StationIn:
    mn: str
    kind: str
    name: str
    lng: float
    lat: float
    password: str = DEFAULT_PASSWORD
    target_class: str | None = None
    lake: bool = False
    interval_s: int = 60


def _check(data: StationIn) -> None:
    if not MN_RE.match(data.mn):
        raise InvalidInput("MN 应为 1–24 位字母、数字、- 或 _", field="mn")
    if data.mn.lower() in RESERVED_MNS:
        raise InvalidInput(f"「{data.mn}」是系统保留字，不能用作站点 MN", field="mn")
    if data.kind not in KINDS:
        raise InvalidInput(f"站点类型应为 {'、'.join(KINDS)} 之一", field="kind")
    if not data.name.strip() or len(data.name) > 100:
        raise InvalidInput("站点名称不能为空，且不超过 100 字", field="name")
    if not PW_RE.match(data.password):
        raise InvalidInput("访问密码 PW 应为 1–16 位字母或数字", field="password")
    if data.target_class is not None and data.target_class not in CLASSES[:5]:
        raise InvalidInput("目标水质类别应为 I、II、III、IV、V 之一", field="target_class")
    if data.kind == "water" and data.target_class is None:
        raise InvalidInput("地表水站点须给出断面目标水质类别（如 III）", field="target_class")
    if not 10 <= data.interval_s <= 86400:
        raise InvalidInput("实时数据间隔应在 10 秒到 1 天之间", field="interval_s")


def validate(data: StationIn) -> None:
    """Check a station's fields without the database (a Chinese ``InvalidInput``), e.g. per imported row."""
    _check(data)


def add(session: Session, data: StationIn) -> Station:
    _check(data)
    if session.scalar(select(Station.id).where(Station.mn == data.mn)) is not None:
        raise Conflict(f"MN 为 {data.mn} 的站点已存在")
    loc = locate(session, data.lng, data.lat)
    station = Station(
        mn=data.mn,
        kind=data.kind,
        name=data.name.strip(),
        lng=loc.lng,
        lat=loc.lat,
        grid_code=loc.grid_code,
        street_code=loc.street_code,
        password=data.password,
        target_class=data.target_class if data.kind == "water" else None,
        lake=data.lake,
        interval_s=data.interval_s,
        permit_limits={},
        active=True,
    )
    session.add(station)
    session.flush()
    return station


def get(session: Session, mn: str) -> Station:
    station = session.scalar(select(Station).where(Station.mn == mn))
    if station is None:
        raise NotFound(f"没有 MN 为 {mn} 的站点")
    return station


def listing(session: Session, *, kind: str | None = None, active_only: bool = False) -> Sequence[Station]:
    q = select(Station).order_by(Station.kind, Station.mn)
    if kind:
        q = q.where(Station.kind == kind)
    if active_only:
        q = q.where(Station.active.is_(True))
    return session.scalars(q).all()


#: What ``update`` may change (the MN and the kind are the station's identity: add a new station instead).
EDITABLE = ("name", "lng", "lat", "password", "target_class", "lake", "interval_s", "permit_limits", "active")


def _permit_limits(raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise InvalidInput("许可限值应为 {污染物编码: 限值} 的对象", field="permit_limits")
    out: dict[str, float] = {}
    for code, limit in raw.items():
        if not isinstance(code, str) or not re.match(r"^[a-z][0-9]{5}$|^[0-9A-Z]{3}$", code):
            raise InvalidInput(f"许可限值的污染物编码不正确：{code}", field="permit_limits")
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not 0 < limit < 1e9:
            raise InvalidInput(f"{code} 的许可限值应为正数", field="permit_limits")
        out[code] = float(limit)
    return out


def _merged(station: Station, changes: Mapping[str, Any]) -> StationIn:
    return StationIn(
        mn=station.mn,
        kind=station.kind,
        name=str(changes.get("name", station.name)),
        lng=float(changes.get("lng", station.lng)),
        lat=float(changes.get("lat", station.lat)),
        password=str(changes.get("password", station.password)),
        target_class=changes.get("target_class", station.target_class) or None,
        lake=bool(changes.get("lake", station.lake)),
        interval_s=int(changes.get("interval_s", station.interval_s)),
    )


def update(session: Session, mn: str, changes: Mapping[str, Any]) -> Station:
    """Change a station; a field left out stays. A new position is located to its grid again (a point outside
    the district is refused). Everything is checked before anything is changed."""
    station = get(session, mn)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"不能修改的字段：{'、'.join(unknown)}", field=unknown[0])
    if ("lng" in changes) != ("lat" in changes):
        raise InvalidInput("修改位置须同时给出经度和纬度", field="lng" if "lat" in changes else "lat")
    try:
        merged = _merged(station, changes)
    except (TypeError, ValueError):
        raise InvalidInput("经度、纬度、数据间隔应为数字") from None
    _check(merged)
    limits = _permit_limits(changes["permit_limits"]) if "permit_limits" in changes else None
    loc = locate(session, merged.lng, merged.lat) if "lng" in changes else None
    station.name = merged.name.strip()
    station.password = merged.password
    station.target_class = merged.target_class if station.kind == "water" else None
    station.lake = merged.lake
    station.interval_s = merged.interval_s
    if limits is not None:
        station.permit_limits = limits
    if "active" in changes:
        station.active = bool(changes["active"])
    if loc is not None:
        station.lng, station.lat = loc.lng, loc.lat
        station.grid_code, station.street_code = loc.grid_code, loc.street_code
    session.flush()
    return station


def deactivate(session: Session, mn: str) -> Station:
    station = get(session, mn)
    station.active = False
    return station


def passwords(session: Session) -> dict[str, str]:
    """MN → PW of every active station (the listener's station book)."""
    return dict(session.execute(select(Station.mn, Station.password).where(Station.active.is_(True))).all())


def present(station: Station) -> dict[str, Any]:
    """A station for the API and the CLI (never its password)."""
    return {
        "mn": station.mn,
        "kind": station.kind,
        "kind_label": KINDS[station.kind][1],
        "name": station.name,
        "lng": station.lng,
        "lat": station.lat,
        "grid_code": station.grid_code,
        "street_code": station.street_code,
        "target_class": station.target_class,
        "lake": station.lake,
        "interval_s": station.interval_s,
        "permit_limits": dict(station.permit_limits or {}),
        "active": station.active,
        "last_seen_at": station.last_seen_at.isoformat() if station.last_seen_at else None,
    }
