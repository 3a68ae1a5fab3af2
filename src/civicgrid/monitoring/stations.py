"""Stations: add, edit, list, deactivate (the admin page, the API and ``civicgrid station`` call these).

A station is located to its grid like a report: a point outside the district is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
        "active": station.active,
        "last_seen_at": station.last_seen_at.isoformat() if station.last_seen_at else None,
    }
