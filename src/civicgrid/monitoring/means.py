"""Window means of station data: pure helpers of ``monitoring.aggregate`` (no database, no web).

Only ``N`` (normal) values enter a mean (SPEC §10). An hour is the mean of its valid minute or real-time
values; a day is the mean of its valid hours and, for air, needs at least 20 of them (HJ 663 / GB 3095
data validity). Ozone's daily figures are the largest hourly mean and the largest 8-hour moving mean of the
windows ending 08:00 … 24:00 local time (17 windows), each window valid with ≥ 6 valid hours and the day's
maximum valid with ≥ 14 valid windows — or with fewer when it already exceeds the 8-hour limit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from civicgrid.monitoring.pollutants import table

LOCAL = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)
NORMAL = "N"

#: Derived daily codes of ozone (beside the pollutant's own a05024 daily mean).
O3 = "a05024"
O3_1H_MAX = "a05024-1hmax"
O3_8H = "a05024-8h"

#: Valid hours a daily mean needs, by station kind (HJ 663 for ambient air; others take any valid hour —
#: automatic water stations often sample every 4 hours).
MIN_VALID_HOURS: Mapping[str, int] = {"air": 20, "dust": 20}
O3_WINDOW_HOURS = 8
O3_WINDOW_MIN_VALID = 6
O3_DAY_MIN_WINDOWS = 14
O3_8H_LIMIT = 160.0  # µg/m³, GB 3095-2012 grade II: a day above it is valid with fewer windows


@dataclass(frozen=True)
class Summary:
    """The mean of a window's ``N`` values, how many there were, and every value counted by flag."""

    mean: float | None
    valid: int
    flags: Mapping[str, int] = field(default_factory=dict)
    vmin: float | None = None
    vmax: float | None = None

    @property
    def flag(self) -> str:
        """``N`` when the window has a mean, otherwise its commonest flag (``N`` ties go first)."""
        if self.mean is not None or not self.flags:
            return NORMAL
        return max(sorted(self.flags), key=lambda f: self.flags[f])


def summarise(values: Iterable[tuple[float | None, str]], *, min_valid: int = 1) -> Summary:
    """Mean of the ``(value, flag)`` pairs whose flag is N and value is a number; None below ``min_valid``."""
    flags: Counter[str] = Counter()
    good: list[float] = []
    for value, flag in values:
        flags[flag or NORMAL] += 1
        if (flag or NORMAL) == NORMAL and value is not None:
            good.append(value)
    if len(good) < max(min_valid, 1):
        return Summary(None, len(good), dict(flags))
    return Summary(sum(good) / len(good), len(good), dict(flags), min(good), max(good))


def daily_from_hours(hourly: Sequence[float | None], *, kind: str) -> Summary:
    """A day's mean from its valid hourly means (None for a missing or invalid hour)."""
    values = [(v, NORMAL if v is not None else "-") for v in hourly]
    summary = summarise(values, min_valid=MIN_VALID_HOURS.get(kind, 1))
    flags = {k: v for k, v in summary.flags.items() if k != "-"}
    return Summary(summary.mean, summary.valid, flags, summary.vmin, summary.vmax)


def max_8h(hourly: Sequence[float | None]) -> float | None:
    """The day's maximum 8-hour moving mean of ozone from its 24 hourly means (0 = 00:00–01:00 local)."""
    if len(hourly) != 24:
        raise ValueError("需要一天 24 个小时的数据")
    windows: list[float] = []
    for start in range(0, 24 - O3_WINDOW_HOURS + 1):  # windows ending 08:00 … 24:00
        part = [v for v in hourly[start : start + O3_WINDOW_HOURS] if v is not None]
        if len(part) >= O3_WINDOW_MIN_VALID:
            windows.append(sum(part) / len(part))
    if not windows:
        return None
    best = max(windows)
    if len(windows) >= O3_DAY_MIN_WINDOWS or best > O3_8H_LIMIT:
        return best
    return None


def max_1h(hourly: Sequence[float | None]) -> float | None:
    """The day's largest valid hourly mean (None without one)."""
    values = [v for v in hourly if v is not None]
    return max(values) if values else None


def floor_hour(moment: datetime) -> datetime:
    """The start of the hour holding ``moment`` (UTC; Shanghai has whole-hour offsets)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL).date()


def day_start(day: date) -> datetime:
    """Local midnight of ``day`` in UTC (the ``at`` of a daily window)."""
    return datetime.combine(day, time(), LOCAL).astimezone(UTC)


def month_days(month: str) -> list[date]:
    """Every local date of month ``YYYY-MM``."""
    year, mon = int(month[:4]), int(month[5:7])
    first = date(year, mon, 1)
    nxt = date(year + mon // 12, mon % 12 + 1, 1)
    return [first + timedelta(days=i) for i in range((nxt - first).days)]


def index_names(codes: Iterable[str]) -> dict[str, str]:
    """Pollutant code → the name AQI or water class reads it as (codes the indices do not use left out)."""
    known = table()
    return {c: p.index_name for c in codes if (p := known.get(c)) is not None and p.index_name}
