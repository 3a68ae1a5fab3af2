"""Period statistics of ambient air quality after HJ 663 (SPEC §10 "Rankings"). Pure module.

- Period means of SO2, NO2, PM10 and PM2.5: the mean of the valid daily means (µg/m³).
- CO: the 95th percentile of daily means (mg/m³); O3: the 90th percentile of daily maximum 8-hour means.
- Percentile (HJ 663): sort ascending x₍₁₎ … x₍ₙ₎, ``k = 1 + (n − 1)·p/100``, ``s`` = the integer part of k,
  ``P = x₍ₛ₎ + (x₍ₛ₊₁₎ − x₍ₛ₎)·(k − s)``.
- 综合指数 ``Σ Cᵢ/Sᵢ`` over the six, S = SO2 60, NO2 40, PM10 70, PM2.5 35 (annual grade II), CO 4, O3 160;
  reported to two decimals. 优良天数比例: the share of valid days with daily AQI ≤ 100, in percent.
- Figures are rounded by GB/T 8170 (四舍六入五成双) on their decimal value, so 4.295 is 4.30, not the
  4.29 binary floating point would give.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

#: Sᵢ of the composite index, by the names the AQI module uses.
STANDARDS: Mapping[str, float] = {
    "SO2": 60.0,
    "NO2": 40.0,
    "PM10": 70.0,
    "PM2.5": 35.0,
    "CO": 4.0,
    "O3_8h": 160.0,
}
#: How each pollutant's period figure is taken from its daily values: a mean or a percentile.
PERCENTILES: Mapping[str, float] = {"CO": 95.0, "O3_8h": 90.0}
GOOD_AQI = 100


def revise(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` decimals by GB/T 8170 (half to even, on the decimal value)."""
    exact = Decimal(repr(round(value, 9)))
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN))


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile by HJ 663's rule; None for no values."""
    xs = sorted(values)
    if not xs:
        return None
    if not 0 <= p <= 100:
        raise ValueError("百分位数应在 0 到 100 之间")
    k = 1 + (len(xs) - 1) * p / 100
    s = math.floor(k)
    if s >= len(xs):
        return xs[-1]
    return xs[s - 1] + (xs[s] - xs[s - 1]) * (k - s)


def period_value(name: str, daily: Iterable[float]) -> float | None:
    """One pollutant's period figure from its valid daily values."""
    xs = list(daily)
    if not xs:
        return None
    if name in PERCENTILES:
        return percentile(xs, PERCENTILES[name])
    return sum(xs) / len(xs)


@dataclass(frozen=True)
class CompositeIndex:
    index: float | None  # Σ Cᵢ/Sᵢ to two decimals; None unless all six pollutants have a figure
    single: Mapping[str, float]  # Iᵢ = Cᵢ/Sᵢ of the pollutants that have a figure
    concentrations: Mapping[str, float]


def composite(daily: Mapping[str, Sequence[float]]) -> CompositeIndex:
    """The composite index from each pollutant's valid daily values (names as in :data:`STANDARDS`)."""
    conc: dict[str, float] = {}
    for name in STANDARDS:
        got = period_value(name, daily.get(name, ()))
        if got is not None:
            conc[name] = got
    single = {name: conc[name] / STANDARDS[name] for name in conc}
    total = revise(sum(single.values()), 2) if len(single) == len(STANDARDS) else None
    return CompositeIndex(total, single, conc)


def good_ratio(daily_aqi: Iterable[int]) -> float | None:
    """优良天数比例 in percent (one decimal) of the valid days' AQIs; None without a valid day."""
    xs = list(daily_aqi)
    if not xs:
        return None
    return revise(100.0 * sum(1 for a in xs if a <= GOOD_AQI) / len(xs), 1)
