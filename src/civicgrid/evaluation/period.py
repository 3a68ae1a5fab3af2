"""Evaluation periods: a month (2026-10), a quarter (2026-Q3), a year (2026) or a day range
(2026-10-01..2026-10-15, both days included). Pure: no database, no web.

A period is half-open ``[start, end)`` in local time (Asia/Shanghai by default) and is carried as aware UTC
instants, because the facts are UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from civicgrid.errors import InvalidInput

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")

HELP = "期间格式：2026-10（月）、2026-Q3（季度）、2026（年）或 2026-10-01..2026-10-15（起止日期，含两端）"


@dataclass(frozen=True)
class Period:
    """``[first_day, last_day + 1)`` in local time; ``kind`` is month, quarter, year or range."""

    kind: str
    first_day: date
    last_day: date
    tz: str = "Asia/Shanghai"

    @property
    def start(self) -> datetime:
        return _local_midnight(self.first_day, self.tz)

    @property
    def end(self) -> datetime:
        return _local_midnight(self.last_day + timedelta(days=1), self.tz)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def months(self) -> int:
        """How many months the period stands for; volume bands (分值) are per month."""
        if self.kind == "month":
            return 1
        if self.kind == "quarter":
            return 3
        if self.kind == "year":
            return 12
        return max(1, round(self.days / 30))

    @property
    def label(self) -> str:
        d = self.first_day
        if self.kind == "month":
            return f"{d.year}年{d.month}月"
        if self.kind == "quarter":
            return f"{d.year}年第{(d.month - 1) // 3 + 1}季度"
        if self.kind == "year":
            return f"{d.year}年"
        return f"{self.first_day:%Y-%m-%d} 至 {self.last_day:%Y-%m-%d}"

    @property
    def key(self) -> str:
        d = self.first_day
        if self.kind == "month":
            return f"{d.year}-{d.month:02d}"
        if self.kind == "quarter":
            return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(d.year)
        return f"{self.first_day:%Y-%m-%d}..{self.last_day:%Y-%m-%d}"

    def previous(self) -> Period:
        """The period of the same kind just before this one (a range: the same number of days before)."""
        if self.kind in ("month", "quarter", "year"):
            step = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            first = _add_months(self.first_day, -step)
            return Period(self.kind, first, _add_months(first, step) - timedelta(days=1), self.tz)
        return Period(
            "range", self.first_day - timedelta(days=self.days), self.first_day - timedelta(days=1), self.tz
        )


def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def parse_period(text: str, tz: str = "Asia/Shanghai") -> Period:
    """Parse a period; a bad text raises :class:`InvalidInput` with the accepted formats."""
    value = (text or "").strip()
    try:
        if m := _MONTH.match(value):
            first = date(int(m[1]), int(m[2]), 1)
            return Period("month", first, _add_months(first, 1) - timedelta(days=1), tz)
        if m := _QUARTER.match(value):
            first = date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1)
            return Period("quarter", first, _add_months(first, 3) - timedelta(days=1), tz)
        if m := _YEAR.match(value):
            return Period("year", date(int(m[1]), 1, 1), date(int(m[1]), 12, 31), tz)
        if m := _RANGE.match(value):
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if last < first:
                raise InvalidInput(f"期间的结束日期 {last} 早于开始日期 {first}")
            return Period("range", first, last, tz)
    except ValueError:
        pass
    raise InvalidInput(f"无法识别的期间：{text!r}。{HELP}")
