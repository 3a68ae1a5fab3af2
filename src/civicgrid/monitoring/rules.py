"""Exceedance rules and episodes (SPEC §10 "Rules → cases"), pure: no database, no clock.

A rule says which measure of which station kind is checked on which window, against what, for how many
consecutive windows, and which case it opens. The service keeps one :class:`Episode` per station and rule
and feeds it each closed window's verdict with :func:`step`; the returned :class:`Step` says what to do:
open the station's case, add to it, or note on it that the values have recovered. One open case per station
and rule: later exceedances join it until it is closed (``closed()`` ends the episode).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

from civicgrid.monitoring import aqi, pollutants, water

Window = Literal["realtime", "hour", "day"]
Action = Literal["open", "add", "recovered"]


@dataclass(frozen=True)
class Rule:
    code: str
    station_kind: str  # air | water | dust | source | noise
    measure: str  # "AQI", "class", "silence", "fault", or a pollutant's 2017 code
    window: Window
    threshold: float | None  # None: compare with the station's own limit (permit limit, target class)
    consecutive: int
    category_code: str
    urgent: bool
    label: str


#: The defaults of SPEC §10; the rule table in the database starts from these and an admin edits it.
DEFAULT_RULES = (
    Rule("air-aqi", "air", "AQI", "hour", 200, 2, "E0601", True, "小时 AQI 超过 200 连续 2 小时"),
    Rule(
        "dust-pm10",
        "dust",
        "a34002",
        "hour",
        150,
        2,
        "E0302",
        False,
        "PM10 小时均值超过 150 μg/m³ 连续 2 小时",
    ),
    Rule("water-class", "water", "class", "hour", None, 2, "E0606", False, "水质类别劣于断面目标 连续 2 次"),
    Rule("source-permit", "source", "permit", "hour", None, 1, "E0608", True, "排放超过许可限值"),
    Rule("silence", "*", "silence", "realtime", 3, 1, "E0607", False, "连续 3 个周期无数据"),
    Rule("fault", "*", "fault", "hour", None, 1, "E0607", False, "设备故障标记（D/F/B）持续 1 小时"),
)


@dataclass(frozen=True)
class Episode:
    """Where a station stands on one rule: runs of exceeding and normal windows; whether a case is open."""

    open: bool = False
    recovered: bool = False
    over_run: int = 0
    normal_run: int = 0


@dataclass(frozen=True)
class Step:
    episode: Episode
    action: Action | None


def step(ep: Episode, exceeded: bool | None, consecutive: int) -> Step:
    """Feed one closed window: True exceeded, False normal, None no usable value (changes nothing)."""
    if exceeded is None:
        return Step(ep, None)
    if exceeded:
        ep = replace(ep, over_run=ep.over_run + 1, normal_run=0)
        if ep.open:
            return Step(replace(ep, recovered=False), "add")
        if ep.over_run >= consecutive:
            return Step(replace(ep, open=True, recovered=False), "open")
        return Step(ep, None)
    ep = replace(ep, normal_run=ep.normal_run + 1, over_run=0)
    if ep.open and not ep.recovered and ep.normal_run >= consecutive:
        return Step(replace(ep, recovered=True), "recovered")
    return Step(ep, None)


def closed(ep: Episode) -> Episode:
    """The episode's case was closed: the next exceedance must run ``consecutive`` windows again."""
    return Episode()


def exceeds(value: float, threshold: float) -> bool:
    return value > threshold


# --- Verdicts: one closed window of one station against one rule -------------------------------------------

#: Data flags (HJ 212 ``-Flag``) meaning the equipment is not measuring: fault, stopped, communication fault.
FAULT_FLAGS = frozenset({"D", "F", "B"})


@dataclass(frozen=True)
class WindowValue:
    """One pollutant's value in a window, with its data flag (only ``N`` values enter indices and limits)."""

    code: str  # the 2017 pollutant code
    value: float | None
    flag: str = "N"


@dataclass(frozen=True)
class StationFacts:
    """What a verdict needs to know of the station: its kind and its own limits."""

    kind: str
    target_class: str | None = None
    lake: bool = False
    permit_limits: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    exceeded: bool | None  # None: no usable value in the window (the episode is not fed)
    value: float | None = None  # the figure compared (AQI, PM10, class 1–6, a permit pollutant's value)
    limit: float | None = None  # what it was compared with
    detail: str = ""  # what was seen, in Chinese, for the case and its notes


def applies(rule: Rule, kind: str) -> bool:
    return rule.station_kind in ("*", kind)


def _normal(values: Sequence[WindowValue]) -> dict[str, float]:
    return {v.code: v.value for v in values if v.value is not None and v.flag == "N"}


def _by_index_name(normal: Mapping[str, float], names: Sequence[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for code, value in normal.items():
        p = pollutants.table().get(code)
        if p is not None and p.index_name is not None and p.index_name in names:
            out[p.index_name] = value
    return out


def _name(code: str) -> str:
    p = pollutants.table().get(code)
    return p.name if p else code


def _fmt(x: float) -> str:
    return f"{x:g}"


def verdict(rule: Rule, station: StationFacts, values: Sequence[WindowValue], day: date) -> Verdict:
    """The rule's verdict on one closed window's values (``day``: the window's local date, for the AQI
    table)."""
    if rule.measure == "fault":
        if not values:
            return Verdict(None)
        bad = sorted(f"{_name(v.code)}={v.flag}" for v in values if v.flag[:1] in FAULT_FLAGS)
        return Verdict(bool(bad), float(len(bad)), 0, "故障标记 " + "、".join(bad) if bad else "数据标记正常")
    normal = _normal(values)
    if rule.measure == "AQI":
        result = aqi.compute(_by_index_name(normal, aqi.NAMES), day=day, hourly=rule.window != "day")
        if result.aqi is None or rule.threshold is None:
            return Verdict(None)
        primary = "、".join(result.primary)
        detail = f"AQI {result.aqi}（{result.category}" + (f"，首要污染物 {primary}）" if primary else "）")
        return Verdict(exceeds(result.aqi, rule.threshold), float(result.aqi), rule.threshold, detail)
    if rule.measure == "class":
        target = station.target_class
        found = water.classify(_by_index_name(normal, water.NAMES), lake=station.lake)
        if target is None or found.water_class is None:
            return Verdict(None)
        setters = "、".join(found.worst)
        detail = f"水质 {found.water_class} 类（目标 {target} 类"
        detail += f"，定类指标 {setters}）" if setters else "）"
        rank = float(water.CLASSES.index(found.water_class) + 1)
        limit = float(water.CLASSES.index(target) + 1)
        return Verdict(water.worse_than(found.water_class, target), rank, limit, detail)
    if rule.measure == "permit":
        limits = {c: float(v) for c, v in station.permit_limits.items() if c in normal}
        if not limits:
            return Verdict(None)
        over = [c for c, lim in limits.items() if exceeds(normal[c], lim)]
        worst = max(limits, key=lambda c: normal[c] / limits[c] if limits[c] else float("inf"))
        shown = over or [worst]
        detail = "、".join(f"{_name(c)} {_fmt(normal[c])}（许可限值 {_fmt(limits[c])}）" for c in shown)
        return Verdict(bool(over), normal[worst], limits[worst], detail)
    # a pollutant's own value against the threshold (e.g. PM10 at a dust station)
    if rule.measure not in normal or rule.threshold is None:
        return Verdict(None)
    value = normal[rule.measure]
    unit = pollutants.table()[rule.measure].unit if rule.measure in pollutants.table() else ""
    detail = f"{_name(rule.measure)} {_fmt(value)} {unit}（限值 {_fmt(rule.threshold)}）".replace("  ", " ")
    return Verdict(exceeds(value, rule.threshold), value, rule.threshold, detail)


def silence(last_seen: datetime, now: datetime, interval_s: float, multiple: float) -> Verdict:
    """Silent when nothing came for ``multiple`` × the station's interval."""
    quiet = (now - last_seen).total_seconds()
    limit = multiple * interval_s
    minutes = max(0, int(quiet // 60))
    return Verdict(quiet > limit, quiet, limit, f"已 {minutes} 分钟无数据（上报间隔 {int(interval_s)} 秒）")
