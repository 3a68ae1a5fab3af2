"""Exceedance rules and episodes (SPEC §10 "Rules → cases"), pure: no database, no clock.

A rule says which measure of which station kind is checked on which window, against what, for how many
consecutive windows, and which case it opens. The service keeps one :class:`Episode` per station and rule
and feeds it each closed window's verdict with :func:`step`; the returned :class:`Step` says what to do:
open the station's case, add to it, or note on it that the values have recovered. One open case per station
and rule: later exceedances join it until it is closed (``closed()`` ends the episode).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

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
