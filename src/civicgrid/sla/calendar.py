"""Official working-day calendar for the working clock (pure: no database, no web).

Which days are working days comes from three layers; the first that answers wins.

1. **Override rows** in ``src/civicgrid/data/calendar_overrides.csv``, columns ``date,kind,name,source``:

   - ``date``: ISO date, ``YYYY-MM-DD``.
   - ``kind``: ``workday`` (the day is worked, e.g. a make-up working day 调休上班),
     ``holiday`` (the day is off), or ``year_confirmed`` (the ``workday``/``holiday`` rows of
     that date's year transcribe the complete State Council notice for the year, so the year
     counts as covered and no warning is raised; put it on ``YYYY-01-01``).
   - ``name``: a short Chinese description, e.g. ``春节`` or ``春节调休上班``.
   - ``source``: where the row comes from, e.g. the notice number or a local decision.

   Overrides also win inside years the package covers (a local extra day off, a correction).
   The shipped file holds only the header: no dates are guessed for years whose official
   notice has not been published.

2. **The ``chinese_calendar`` package** (State Council holidays and 调休 make-up days).
   Version 1.11 covers 2004-2026 and raises ``NotImplementedError`` outside that range.

3. **Weekday fallback** for years neither the package nor a ``year_confirmed`` row covers:
   Monday-Friday worked, Saturday and Sunday off. This is wrong around public holidays, so the
   first query in such a year logs a loud warning on the ``civicgrid.sla`` logger and records
   the year in :attr:`WorkCalendar.uncovered_years_seen`. Enter the year's notice as override
   rows (plus a ``year_confirmed`` row) to fix it.
"""

from __future__ import annotations

import csv
import functools
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, get_args

import chinese_calendar
from chinese_calendar import constants as _cc_constants

logger = logging.getLogger("civicgrid.sla")

OverrideKind = Literal["workday", "holiday", "year_confirmed"]
OVERRIDE_KINDS: frozenset[str] = frozenset(get_args(OverrideKind))
OVERRIDE_COLUMNS: tuple[str, ...] = ("date", "kind", "name", "source")
DEFAULT_OVERRIDES_PATH: Path = Path(__file__).resolve().parent.parent / "data" / "calendar_overrides.csv"


def _package_years() -> range:
    """Years the installed ``chinese_calendar`` has official data for (inclusive range)."""
    years = [d.year for d in _cc_constants.holidays]
    return range(min(years), max(years) + 1)


PACKAGE_YEARS: range = _package_years()


@dataclass(frozen=True, slots=True)
class Override:
    """One row of the override table."""

    date: date
    kind: OverrideKind
    name: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if self.kind not in OVERRIDE_KINDS:
            raise ValueError(f"未知的日历覆盖类型：{self.kind!r}，应为 workday、holiday 或 year_confirmed")


def load_overrides(path: str | os.PathLike[str]) -> list[Override]:
    """Read override rows from a CSV file with the header ``date,kind,name,source``."""
    rows: list[Override] = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = tuple(reader.fieldnames or ())
        if header != OVERRIDE_COLUMNS:
            raise ValueError(f"日历覆盖文件表头应为 {','.join(OVERRIDE_COLUMNS)}，实际为 {','.join(header)}")
        for line_no, raw in enumerate(reader, start=2):
            text = (raw.get("date") or "").strip()
            if not text:
                continue
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValueError(
                    f"日历覆盖文件第 {line_no} 行：日期 {text!r} 格式错误，应为 YYYY-MM-DD"
                ) from None
            kind = (raw.get("kind") or "").strip()
            if kind not in OVERRIDE_KINDS:
                raise ValueError(
                    f"日历覆盖文件第 {line_no} 行：类型 {kind!r} 无效，"
                    "应为 workday、holiday 或 year_confirmed"
                )
            rows.append(
                Override(
                    date=day,
                    kind=kind,  # type: ignore[arg-type]  # checked against OVERRIDE_KINDS above
                    name=(raw.get("name") or "").strip(),
                    source=(raw.get("source") or "").strip(),
                )
            )
    return rows


class WorkCalendar:
    """Answers whether a date is an official working day (see the module docstring for the layers)."""

    def __init__(self, overrides: Iterable[Override] | None = None) -> None:
        self._days: dict[date, bool] = {}
        self._confirmed_years: set[int] = set()
        for row in overrides or ():
            if row.kind == "year_confirmed":
                self._confirmed_years.add(row.date.year)
                continue
            is_work = row.kind == "workday"
            if self._days.get(row.date, is_work) != is_work:
                raise ValueError(f"日历覆盖冲突：{row.date.isoformat()} 同时被设为工作日和休息日")
            self._days[row.date] = is_work
        self._overridden: frozenset[date] = frozenset(self._days)
        self._uncovered_seen: set[int] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str]) -> WorkCalendar:
        return cls(load_overrides(path))

    @property
    def uncovered_years_seen(self) -> frozenset[int]:
        """Years that were queried but fell back to the Monday-Friday rule."""
        return frozenset(self._uncovered_seen)

    def covered(self, year: int) -> bool:
        """True if the package or a ``year_confirmed`` row carries the official calendar of ``year``."""
        return year in PACKAGE_YEARS or year in self._confirmed_years

    def is_overridden(self, day: date) -> bool:
        return day in self._overridden

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day. Results are memoised per instance (overrides never change)."""
        known = self._days.get(day)
        if known is not None:
            return known
        result = self._lookup(day)
        self._days[day] = result
        return result

    def _lookup(self, day: date) -> bool:
        if day.year in PACKAGE_YEARS:
            try:
                return bool(chinese_calendar.is_workday(day))
            except NotImplementedError:
                pass  # the package disagrees with its own data range: treat the year as uncovered
        elif day.year in self._confirmed_years:
            return day.weekday() < 5
        self._warn_uncovered(day.year)
        return day.weekday() < 5

    def _warn_uncovered(self, year: int) -> None:
        with self._lock:
            if year in self._uncovered_seen:
                return
            self._uncovered_seen.add(year)
        logger.warning(
            "!!! 工作日历未覆盖 %d 年：chinese_calendar 仅含 %d-%d 年，覆盖表也未确认该年。"
            "现按周一至周五上班、周六周日休息推算，法定节假日与调休均未计入，期限可能有误。"
            "请将国务院当年放假通知录入 %s（并加一行 year_confirmed）。",
            year,
            PACKAGE_YEARS.start,
            PACKAGE_YEARS.stop - 1,
            DEFAULT_OVERRIDES_PATH.name,
        )


@functools.cache
def default_calendar() -> WorkCalendar:
    """The calendar built from the shipped override file, loaded once per process."""
    return WorkCalendar.from_csv(DEFAULT_OVERRIDES_PATH)
