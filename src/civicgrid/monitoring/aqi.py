"""The air quality index (AQI) of HJ 633 — the 2012 table, and the 2026 edition from 2026-03-01 (SPEC §10).

Pure module. ``IAQI = ceil((IAQI_hi − IAQI_lo) / (BP_hi − BP_lo) × (C − BP_lo) + IAQI_lo)``; the AQI is the
largest IAQI. Daily AQI uses the 24-hour columns (O3: daily maximum 1-hour and 8-hour means); the hourly
(real-time) AQI uses the 1-hour columns of SO2, NO2, CO and O3 and the 24-hour columns of PM10 and PM2.5.
Concentrations in µg/m³, CO in mg/m³.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

EDITION_2026_FROM = date(2026, 3, 1)
IAQI_STEPS = (0, 50, 100, 150, 200, 300, 400, 500)
_N = None  # no breakpoint at this step

# Breakpoints per column, one per IAQI step (SPEC §10's table).
_BP_2012: dict[str, tuple[float | None, ...]] = {
    "SO2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "SO2_1h": (0, 150, 500, 650, 800, _N, _N, _N),
    "NO2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "NO2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "PM10_24h": (0, 50, 150, 250, 350, 420, 500, 600),
    "CO_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "CO_1h": (0, 5, 10, 35, 60, 90, 120, 150),
    "O3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "O3_8h": (0, 100, 160, 215, 265, 800, _N, _N),
    "PM2.5_24h": (0, 35, 75, 115, 150, 250, 350, 500),
}
_BP_2026 = _BP_2012 | {
    "PM10_24h": (0, 50, 120, 250, 350, 420, 500, 600),
    "PM2.5_24h": (0, 35, 60, 115, 150, 250, 350, 500),
}

#: Input names (CLI ``NAME=VALUE`` and API) → the column they are read against, daily and hourly.
DAILY_COLUMNS = {
    "SO2": "SO2_24h",
    "NO2": "NO2_24h",
    "PM10": "PM10_24h",
    "PM2.5": "PM2.5_24h",
    "CO": "CO_24h",
    "O3": "O3_1h",
    "O3_8h": "O3_8h",
}
HOURLY_COLUMNS = {
    "SO2": "SO2_1h",
    "NO2": "NO2_1h",
    "PM10": "PM10_24h",
    "PM2.5": "PM2.5_24h",
    "CO": "CO_1h",
    "O3": "O3_1h",
    "O3_8h": "O3_8h",
}
NAMES = tuple(DAILY_COLUMNS)


@dataclass(frozen=True)
class Level:
    level: int
    category: str
    color: str
    upper: int  # the highest AQI of this level (None-like 10**9 for the last)


LEVELS = (
    Level(1, "优", "#00E400", 50),
    Level(2, "良", "#FFFF00", 100),
    Level(3, "轻度污染", "#FF7E00", 150),
    Level(4, "中度污染", "#FF0000", 200),
    Level(5, "重度污染", "#99004C", 300),
    Level(6, "严重污染", "#7E0023", 10**9),
)


@dataclass(frozen=True)
class AqiResult:
    aqi: int | None
    level: int | None
    category: str | None
    color: str | None
    primary: tuple[str, ...]
    iaqi: Mapping[str, int]
    exceeding: tuple[str, ...]  # 超标污染物: IAQI > 100
    edition: str

    def as_json(self) -> dict[str, object]:
        return {
            "aqi": self.aqi,
            "level": self.level,
            "category": self.category,
            "color": self.color,
            "primary": list(self.primary),
            "iaqi": dict(self.iaqi),
            "exceeding": list(self.exceeding),
            "edition": self.edition,
        }


def edition(day: date) -> str:
    return "2026" if day >= EDITION_2026_FROM else "2012"


def _ceil(x: float) -> int:
    """Round up, guarding float error (106.00000000000001 is 106, not 107)."""
    return math.ceil(round(x, 9))


def _interpolate(column: Sequence[float | None], c: float) -> int | None:
    """IAQI of concentration ``c`` on one column; None above its last breakpoint."""
    if c <= 0:
        return 0
    for i in range(1, len(column)):
        hi = column[i]
        lo = column[i - 1]
        if hi is None or lo is None:
            return None
        if c <= hi:
            i_lo, i_hi = IAQI_STEPS[i - 1], IAQI_STEPS[i]
            return _ceil((i_hi - i_lo) / (hi - lo) * (c - lo) + i_lo)
    return None


def level_of(aqi: int) -> Level:
    for lv in LEVELS:
        if aqi <= lv.upper:
            return lv
    return LEVELS[-1]


def iaqi(name: str, value: float, *, day: date, hourly: bool = False) -> int | None:
    """The IAQI of one pollutant (``name`` as in :data:`NAMES`), with the special cases of SPEC §10; above the
    table's top the IAQI is 500 (the index's ceiling)."""
    table = _BP_2026 if edition(day) == "2026" else _BP_2012
    column = (HOURLY_COLUMNS if hourly else DAILY_COLUMNS)[name]
    got = _interpolate(table[column], value)
    if got is not None:
        return got
    if column == "SO2_1h":  # above 800 µg/m³ there is no 1-h SO2 IAQI
        return 200 if edition(day) == "2026" else _interpolate(table["SO2_24h"], value) or 500
    if column == "O3_8h":  # above 800 µg/m³
        return 300 if edition(day) == "2026" else None  # 2012: the caller uses the 1-h O3 IAQI
    return 500


def compute(values: Mapping[str, float], *, day: date, hourly: bool = False) -> AqiResult:
    """The AQI of a set of concentrations; unknown names raise ``KeyError`` (the caller says which)."""
    unknown = [n for n in values if n not in DAILY_COLUMNS]
    if unknown:
        raise KeyError(unknown[0])
    ed = edition(day)
    out: dict[str, int] = {}
    for name, value in values.items():
        got = iaqi(name, value, day=day, hourly=hourly)
        if got is None and name == "O3_8h":
            if "O3" in values:
                got = iaqi("O3", values["O3"], day=day, hourly=hourly)
            else:
                continue  # 2012: an 8-h O3 above 800 has no IAQI of its own
        if got is not None:
            out[name] = got
    if not out:
        return AqiResult(None, None, None, None, (), {}, (), ed)
    aqi = max(out.values())
    lv = level_of(aqi)
    primary = tuple(n for n, v in out.items() if v == aqi) if aqi > 50 else ()
    exceeding = tuple(n for n, v in out.items() if v > 100)
    return AqiResult(aqi, lv.level, lv.category, lv.color, primary, out, exceeding, ed)
