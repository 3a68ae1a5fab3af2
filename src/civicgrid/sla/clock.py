"""The working clock: time limits (时限) and due-time arithmetic (pure: no database, no web).

Units (SPEC §6):

- ``h``   natural hours, counted on the wall clock (urgent classes);
- ``min`` natural minutes, on the wall clock;
- ``wh``  working hours, 60 working minutes each;
- ``wd``  working days, each as many working minutes as the daily windows hold
  (480 with the default 08:00-12:00 and 14:00-18:00).

Working time is the union of the daily windows, in local time (Asia/Shanghai by default), on
the days the :class:`~civicgrid.sla.calendar.WorkCalendar` says are working days. A window is
half-open: 08:00 is working time, 12:00 is not.

Precision: the arithmetic runs on whole microseconds of local time, so nothing is rounded
away. Limits are whole minutes in practice and window openings are exact minutes, so a start
outside working time yields a due time on the minute; a start inside a window keeps its
seconds (1wh from 09:15:30 is due 10:15:30), and
``working_minutes_between(start, add(start, limit))`` equals the limit exactly.

A due time is the *earliest* instant at which the limit is used up: 4wh from Monday 08:00 is
due Monday 12:00, not 14:00. All inputs must be timezone-aware; all outputs are aware UTC
datetimes. Local times are resolved with ``fold=0``; Asia/Shanghai has had no daylight-saving
shifts since 1991. The loops step by day and by window, never by minute.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from civicgrid.sla.calendar import WorkCalendar, default_calendar

Unit = Literal["h", "wh", "wd", "min"]
UNITS: tuple[str, ...] = get_args(Unit)
WORKING_UNITS: frozenset[str] = frozenset({"wh", "wd"})

_LABELS: dict[str, str] = {"h": "小时", "wh": "工作时", "wd": "工作日", "min": "分钟"}
_ALIASES: dict[str, Unit] = {
    "h": "h",
    "wh": "wh",
    "wd": "wd",
    "min": "min",
    "小时": "h",
    "工作时": "wh",
    "工作小时": "wh",
    "工作日": "wd",
    "分钟": "min",
}
_LIMIT_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(" + "|".join(sorted(_ALIASES, key=len, reverse=True)) + r")$")

DEFAULT_WINDOWS: tuple[tuple[time, time], ...] = ((time(8), time(12)), (time(14), time(18)))
DEFAULT_TZ = "Asia/Shanghai"

_US_PER_MIN = 60_000_000
_ONE_DAY = timedelta(days=1)


def _format_amount(amount: int | float) -> str:
    if float(amount).is_integer():
        return str(int(amount))
    return f"{amount:g}"


@dataclass(frozen=True, slots=True)
class Limit:
    """A time limit such as ``4wh`` (4 working hours)."""

    amount: int | float
    unit: Unit

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"未知的时限单位：{self.unit!r}，应为 h、wh、wd 或 min")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int | float):
            raise ValueError(f"时限数值无效：{self.amount!r}")
        if not math.isfinite(self.amount) or self.amount <= 0:
            raise ValueError(f"时限必须是大于零的有限数值，实际为 {self.amount!r}")

    @property
    def is_working(self) -> bool:
        """True for units counted on the working clock (``wh``, ``wd``)."""
        return self.unit in WORKING_UNITS

    @property
    def label(self) -> str:
        """Chinese label for display, e.g. ``4工作时``, ``1工作日``, ``2小时``."""
        return f"{_format_amount(self.amount)}{_LABELS[self.unit]}"

    def __str__(self) -> str:
        return f"{_format_amount(self.amount)}{self.unit}"


def parse_limit(text: str) -> Limit:
    """Parse ``4wh``, ``1wd``, ``2h``, ``30min`` (or the Chinese labels ``4工作时``, ``30分钟``)."""
    if not isinstance(text, str):
        raise ValueError(f"时限应为文本，例如 4wh，实际为 {text!r}")
    match = _LIMIT_RE.match(text.strip().lower())
    if match is None:
        raise ValueError(f"无法识别的时限：{text!r}，应为数字加单位 h、wh、wd 或 min，例如 4wh")
    number, unit = match.groups()
    amount: int | float = float(number) if "." in number else int(number)
    return Limit(amount, _ALIASES[unit])


def _time_us(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


class WorkingClock:
    """Due-time arithmetic over the working windows of an official working-day calendar."""

    def __init__(
        self,
        calendar: WorkCalendar | None = None,
        windows: Sequence[tuple[time, time]] = DEFAULT_WINDOWS,
        tz: str = DEFAULT_TZ,
    ) -> None:
        self.calendar = calendar if calendar is not None else default_calendar()
        self.windows: tuple[tuple[time, time], ...] = tuple((start, end) for start, end in windows)
        self._spans: tuple[tuple[int, int], ...] = self._validate_windows(self.windows)
        self._day_us = sum(end - start for start, end in self._spans)
        try:
            self.zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"未知的时区：{tz!r}") from None

    @staticmethod
    def _validate_windows(windows: tuple[tuple[time, time], ...]) -> tuple[tuple[int, int], ...]:
        if not windows:
            raise ValueError("工作时段不能为空")
        spans: list[tuple[int, int]] = []
        for start, end in windows:
            if not isinstance(start, time) or not isinstance(end, time):
                raise ValueError("工作时段必须由两个 time 值组成")
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("工作时段应为不带时区的本地时间")
            lo, hi = _time_us(start), _time_us(end)
            if lo >= hi:
                raise ValueError(f"工作时段 {start:%H:%M}-{end:%H:%M} 的开始时间必须早于结束时间")
            if spans and lo < spans[-1][1]:
                raise ValueError("工作时段必须按时间先后排列且互不重叠")
            spans.append((lo, hi))
        return tuple(spans)

    @property
    def minutes_per_day(self) -> float:
        """Working minutes in one working day (480 with the default windows)."""
        return self._day_us / _US_PER_MIN

    def limit_minutes(self, limit: Limit) -> float:
        """The limit in minutes: working minutes for ``wh``/``wd``, wall-clock minutes for ``h``/``min``."""
        if limit.unit == "wd":
            return limit.amount * self.minutes_per_day
        if limit.unit in ("wh", "h"):
            return limit.amount * 60.0
        return float(limit.amount)

    # -- local time helpers -------------------------------------------------------------------------------

    def _local(self, moment: datetime, what: str = "时间") -> tuple[date, int]:
        if not isinstance(moment, datetime):
            raise ValueError(f"{what}必须是 datetime，实际为 {type(moment).__name__}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{what}必须带时区（aware datetime）")
        local = moment.astimezone(self.zone)
        us = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond
        return local.date(), us

    def _instant(self, day: date, us: int) -> datetime:
        naive = datetime(day.year, day.month, day.day) + timedelta(microseconds=us)
        return naive.replace(tzinfo=self.zone).astimezone(UTC)

    # -- public API ---------------------------------------------------------------------------------------

    def is_working_time(self, moment: datetime) -> bool:
        """True if ``moment`` falls inside a window on a working day."""
        day, pos = self._local(moment)
        if not self.calendar.is_workday(day):
            return False
        return any(lo <= pos < hi for lo, hi in self._spans)

    def next_working_instant(self, moment: datetime) -> datetime:
        """``moment`` itself (in UTC) if it is working time, else the next window opening."""
        day, pos = self._local(moment)
        is_workday = self.calendar.is_workday
        while True:
            if is_workday(day):
                for lo, hi in self._spans:
                    if pos < lo:
                        return self._instant(day, lo)
                    if pos < hi:
                        return moment.astimezone(UTC)
            day += _ONE_DAY
            pos = -1

    def add(self, start: datetime, limit: Limit) -> datetime:
        """The due time of ``limit`` counted from ``start``, as an aware UTC datetime."""
        day, pos = self._local(start, "起始时间")
        if not limit.is_working:
            return start.astimezone(UTC) + timedelta(minutes=self.limit_minutes(limit))
        remaining = round(self.limit_minutes(limit) * _US_PER_MIN)
        spans = self._spans
        first_open = spans[0][0]
        day_us = self._day_us
        is_workday = self.calendar.is_workday
        while True:
            if is_workday(day):
                if pos <= first_open and remaining > day_us:
                    remaining -= day_us
                else:
                    for lo, hi in spans:
                        if pos >= hi:
                            continue
                        begin = lo if pos < lo else pos
                        available = hi - begin
                        if remaining <= available:
                            return self._instant(day, begin + remaining)
                        remaining -= available
            day += _ONE_DAY
            pos = 0

    def working_minutes_between(self, a: datetime, b: datetime) -> float:
        """Working minutes in ``[a, b)``; 0 if ``b <= a``."""
        day_a, pos_a = self._local(a)
        day_b, pos_b = self._local(b)
        if b <= a:
            return 0.0
        total = 0
        spans = self._spans
        is_workday = self.calendar.is_workday
        day = day_a
        while day <= day_b:
            if is_workday(day):
                lo_cut = pos_a if day == day_a else 0
                if day == day_b:
                    hi_cut = pos_b
                elif lo_cut == 0:
                    total += self._day_us
                    day += _ONE_DAY
                    continue
                else:
                    hi_cut = spans[-1][1]
                for lo, hi in spans:
                    overlap = min(hi, hi_cut) - max(lo, lo_cut)
                    if overlap > 0:
                        total += overlap
            day += _ONE_DAY
        return total / _US_PER_MIN

    def fraction_used(self, start: datetime, limit: Limit, now: datetime) -> float:
        """Share of ``limit`` used between ``start`` and ``now`` (0 before start; above 1 once overdue).

        Working units are measured in working minutes, natural units on the wall clock. The 80 % warning
        (黄灯) is ``fraction_used(...) >= 0.8``.
        """
        if limit.is_working:
            used = self.working_minutes_between(start, now)
        else:
            self._local(start, "起始时间")
            self._local(now, "当前时间")
            used = max(0.0, (now - start).total_seconds() / 60.0)
        return used / self.limit_minutes(limit)

    def elapsed_fraction(self, start: datetime, due: datetime, now: datetime, *, working: bool) -> float:
        """Share of the span ``start`` → ``due`` elapsed at ``now``, for due times moved by an extension.

        ``working=True`` measures in working minutes, otherwise on the wall clock. A span of length zero
        counts as fully used once ``now`` reaches ``due``.
        """
        if working:
            span = self.working_minutes_between(start, due)
            used = self.working_minutes_between(start, now)
        else:
            for moment in (start, due, now):
                self._local(moment)
            span = max(0.0, (due - start).total_seconds() / 60.0)
            used = max(0.0, (now - start).total_seconds() / 60.0)
        if span <= 0:
            return 1.0 if now >= due else 0.0
        return used / span
