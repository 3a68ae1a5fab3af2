"""Monthly rankings of stations and streets (SPEC §10 "Rankings"), from the daily aggregates.

Air: mean PM2.5 and PM10, 优良天数比例 and the HJ 663 综合指数 (``hj663``), ranked by the index, lower
first. A street's day is the mean of its stations' daily values (as a city's is of its sites), and its daily
AQI is computed from those means. A valid day is a day with a daily AQI; the index needs all six pollutants.
Water: 断面达标率 — the share of valid days whose class (from the daily means, GB 3838 single-factor) is
not worse than the section's target class — and the worst daily class, ranked by the rate, higher first.
Rows that cannot be ranked (no valid day, no index) come last with ``rank`` 0 (不参与排名). Equal figures
share a rank.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from civicgrid.errors import InvalidInput, NotFound
from civicgrid.geo.service import names_of
from civicgrid.models import Station
from civicgrid.models.monitoring import StationAggregate
from civicgrid.monitoring import aqi, hj663, water
from civicgrid.monitoring.means import LOCAL, O3_1H_MAX, O3_8H, day_start, month_days
from civicgrid.monitoring.pollutants import table

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
KINDS = ("air", "water")
BY = ("station", "street")
WATER_CLASSES = water.CLASSES  # worst_class is reported as its position here plus one (I = 1 … 劣V = 6)


@dataclass(frozen=True)
class RankRow:
    rank: int  # 1, 2, 2, 4 …; 0 = not ranked (不参与排名)
    key: str  # station MN or street code
    name: str
    values: dict[str, float | None]
    days: int  # valid days (for a street's water: valid station-days)


def water_class_name(value: float | None) -> str | None:
    """``values["worst_class"]`` (1–6) as the class name (I … 劣V)."""
    return None if value is None else WATER_CLASSES[int(value) - 1]


def check(month: str, kind: str, by: str) -> None:
    if not MONTH_RE.match(month):
        raise InvalidInput("月份应写成 YYYY-MM，如 2026-11", field="month")
    if kind not in KINDS:
        raise InvalidInput("排名类型应为 air（空气）或 water（地表水）", field="kind")
    if by not in BY:
        raise InvalidInput("排名对象应为 station（站点）或 street（街道）", field="by")


def _codes(kind: str) -> dict[str, str]:
    """Daily aggregate code → the name the statistics use."""
    wanted = set(hj663.STANDARDS) - {"O3_8h"} if kind == "air" else set(water.NAMES)
    out = {p.code: p.index_name for p in table().values() if p.index_name in wanted and p.index_name}
    if kind == "air":
        out[O3_8H] = "O3_8h"
        out[O3_1H_MAX] = "O3"
    return out


def _daily(
    session: Session, ids: Sequence[int], month: str, codes: Mapping[str, str]
) -> dict[int, dict[date, dict[str, float]]]:
    """station id → day → name → the day's valid value."""
    days = month_days(month)
    lo, hi = day_start(days[0]), day_start(days[-1] + timedelta(days=1))
    out: dict[int, dict[date, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    if not ids:
        return out
    q = select(
        StationAggregate.station_id, StationAggregate.at, StationAggregate.code, StationAggregate.mean
    ).where(
        StationAggregate.window == "day",
        StationAggregate.at >= lo,
        StationAggregate.at < hi,
        StationAggregate.code.in_(list(codes)),
        StationAggregate.mean.is_not(None),
        StationAggregate.station_id.in_(list(ids)),
    )
    for sid, at, code, mean in session.execute(q):
        if mean is not None:
            out[sid][at.astimezone(LOCAL).date()][codes[code]] = float(mean)
    return out


def _mean_days(members: Sequence[dict[date, dict[str, float]]]) -> dict[date, dict[str, float]]:
    """Per day and name, the mean over the members that have a value."""
    sums: dict[date, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for days in members:
        for day, values in days.items():
            for name, v in values.items():
                sums[day][name].append(v)
    return {d: {n: sum(vs) / len(vs) for n, vs in names.items()} for d, names in sums.items()}


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else hj663.revise(value, digits)


def air_values(days: Mapping[date, Mapping[str, float]]) -> tuple[dict[str, float | None], int]:
    """The air figures of one station or street from its daily values; and its valid days."""
    aqis: list[int] = []
    series: dict[str, list[float]] = defaultdict(list)
    for day in sorted(days):
        values = days[day]
        got = aqi.compute({n: v for n, v in values.items() if n in aqi.DAILY_COLUMNS}, day=day)
        if got.aqi is None:
            continue
        aqis.append(got.aqi)
        for name in hj663.STANDARDS:
            if name in values:
                series[name].append(values[name])
    comp = hj663.composite(series)
    c = comp.concentrations
    return (
        {
            "pm25": _r(c.get("PM2.5")),
            "pm10": _r(c.get("PM10")),
            "good_ratio": hj663.good_ratio(aqis),
            "index": comp.index,
            "so2": _r(c.get("SO2")),
            "no2": _r(c.get("NO2")),
            "co": _r(c.get("CO"), 2),
            "o3_8h": _r(c.get("O3_8h")),
        },
        len(aqis),
    )


def water_values(
    members: Sequence[tuple[Station, Mapping[date, Mapping[str, float]]]],
) -> tuple[dict[str, float | None], int]:
    """断面达标率 and the worst class of some sections' daily values; and the valid (station-)days."""
    valid = passing = 0
    worst: int | None = None
    for station, days in members:
        target = station.target_class or "III"
        for values in days.values():
            got = water.classify({n: v for n, v in values.items() if n in water.NAMES}, lake=station.lake)
            if got.water_class is None:
                continue
            valid += 1
            passing += 0 if water.worse_than(got.water_class, target) else 1
            pos = WATER_CLASSES.index(got.water_class)
            worst = pos if worst is None else max(worst, pos)
    return (
        {
            "pass_ratio": hj663.revise(100.0 * passing / valid, 1) if valid else None,
            "worst_class": None if worst is None else float(worst + 1),
        },
        valid,
    )


def ranked(rows: list[RankRow], key: str, *, descending: bool) -> list[RankRow]:
    """Rows by ``values[key]`` with competition ranks (1, 2, 2, 4); rows without it come last, rank 0."""
    scored = [r for r in rows if r.values.get(key) is not None]
    rest = sorted((r for r in rows if r.values.get(key) is None), key=lambda r: r.key)
    sign = -1.0 if descending else 1.0
    scored.sort(key=lambda r: (sign * float(r.values[key] or 0.0), r.key))
    out: list[RankRow] = []
    for i, r in enumerate(scored):
        same = out and out[-1].values[key] == r.values[key]
        out.append(RankRow(out[-1].rank if same else i + 1, r.key, r.name, r.values, r.days))
    return out + [RankRow(0, r.key, r.name, r.values, r.days) for r in rest]


def monthly(
    session: Session, month: str, kind: Literal["air", "water"], by: Literal["station", "street"]
) -> list[RankRow]:
    """The month's ranking of the stations of ``kind`` (active ones, and any with data that month), or of
    their streets."""
    check(month, kind, by)
    codes = _codes(kind)
    days = month_days(month)
    lo, hi = day_start(days[0]), day_start(days[-1] + timedelta(days=1))
    has_data = (
        select(StationAggregate.station_id)
        .where(StationAggregate.window == "day", StationAggregate.at >= lo, StationAggregate.at < hi)
        .distinct()
    )
    stations = list(
        session.scalars(
            select(Station)
            .where(Station.kind == kind, or_(Station.active.is_(True), Station.id.in_(has_data)))
            .order_by(Station.mn)
        )
    )
    daily = _daily(session, [s.id for s in stations], month, codes)
    groups: dict[str, list[Station]] = defaultdict(list)
    for s in stations:
        groups[s.mn if by == "station" else s.street_code].append(s)
    names = {s.mn: s.name for s in stations} if by == "station" else _street_names(session, set(groups))
    rows: list[RankRow] = []
    for key, members in groups.items():
        if kind == "air":
            values, n = air_values(_mean_days([daily.get(s.id, {}) for s in members]))
        else:
            values, n = water_values([(s, daily.get(s.id, {})) for s in members])
        rows.append(RankRow(0, key, names.get(key, key), values, n))
    return ranked(rows, "index" if kind == "air" else "pass_ratio", descending=kind == "water")


def _street_names(session: Session, codes: set[str]) -> dict[str, str]:
    try:
        return names_of(session, codes)
    except NotFound:  # no grid generation imported: the codes stand for themselves
        return {}


AIR_COLUMNS = (
    ("pm25", "PM2.5（μg/m³）"),
    ("pm10", "PM10（μg/m³）"),
    ("so2", "SO2（μg/m³）"),
    ("no2", "NO2（μg/m³）"),
    ("co", "CO 第95百分位（mg/m³）"),
    ("o3_8h", "O3 日最大8小时 第90百分位（μg/m³）"),
    ("good_ratio", "优良天数比例（%）"),
    ("index", "综合指数"),
)
WATER_COLUMNS = (("pass_ratio", "断面达标率（%）"), ("worst_class", "最差水质类别"))


def columns(kind: str) -> tuple[tuple[str, str], ...]:
    return AIR_COLUMNS if kind == "air" else WATER_COLUMNS


def cell(key: str, value: float | None) -> str | float | None:
    """A value as shown in a table: the class name for ``worst_class``, the number otherwise."""
    return water_class_name(value) if key == "worst_class" else value


def to_xlsx(rows: Sequence[RankRow], kind: str) -> bytes:
    """The ranking as an Excel workbook with Chinese headers (one sheet)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "空气质量排名" if kind == "air" else "地表水断面排名"
    cols = columns(kind)
    ws.append(["排名", "编码", "名称", *[label for _, label in cols], "有效天数"])
    for r in rows:
        ws.append(
            [
                r.rank if r.rank else "不参与排名",
                r.key,
                r.name,
                *[cell(k, r.values.get(k)) for k, _ in cols],
                r.days,
            ]
        )
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def month_label(month: str) -> str:
    return f"{int(month[:4])}年{int(month[5:7])}月"
