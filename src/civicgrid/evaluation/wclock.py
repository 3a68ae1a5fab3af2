"""Working minutes inside DuckDB, exactly as the working clock counts them.

The clock's ``working_minutes_between(a, b)`` is additive, so it equals ``W(b) - W(a)`` where ``W(t)``
counts the working minutes from a fixed origin to ``t``. ``W`` is a cumulative-per-day list (one value per
local day, from the clock's own calendar and windows) plus the working part of ``t``'s day — plain
vectorised SQL, fast on millions of rows. Where the time zone's UTC offset is not constant over the span
(not the case for Asia/Shanghai since 1991) it falls back to a
Python UDF that calls the clock itself (fine for small data).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import duckdb

from civicgrid.sla.clock import WorkingClock

_DAY_US = 86_400_000_000
_MIN_US = 60_000_000
TABLE = "_cg_wclock"
UDF = "cg_working_minutes"


def _us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


@lru_cache(maxsize=8)
def _calendar(clock: WorkingClock, first: date, last: date) -> tuple[int | None, list[float], list[bool]]:
    """(UTC offset in µs or None if it varies, cumulative minutes before each day, working-day flags)."""
    offsets = set()
    cum: list[float] = []
    flags: list[bool] = []
    total = 0.0
    day = first
    while day <= last:
        noon = datetime.combine(day, time(12), tzinfo=clock.zone)
        offset = noon.utcoffset()
        offsets.add(int(offset.total_seconds() * 1_000_000) if offset is not None else 0)
        work = clock.calendar.is_workday(day)
        cum.append(total)
        flags.append(work)
        if work:
            total += clock.minutes_per_day
        day += timedelta(days=1)
    return (offsets.pop() if len(offsets) == 1 else None), cum, flags


class WorkingMinutesSQL:
    """Builds SQL expressions ``wm(a_us, b_us)`` (working minutes between two epoch-µs columns)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, clock: WorkingClock, first: date, last: date) -> None:
        self.clock = clock
        offset, cum, flags = _calendar(clock, first - timedelta(days=1), last + timedelta(days=1))
        self.offset = offset
        self.d0 = (first - timedelta(days=1) - date(1970, 1, 1)).days
        if offset is not None:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {TABLE} AS SELECT ?::DOUBLE[] AS cum, ?::BOOLEAN[] AS wd",
                [cum, flags],
            )
        else:
            self._register_udf(con)

    def _register_udf(self, con: duckdb.DuckDBPyConnection) -> None:
        clock = self.clock

        def minutes(a: int | None, b: int | None) -> float | None:
            if a is None or b is None:
                return None
            start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=a)
            end = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=b)
            return clock.working_minutes_between(start, end)

        with contextlib.suppress(Exception):  # not registered yet
            con.remove_function(UDF)
        con.create_function(UDF, minutes, ["BIGINT", "BIGINT"], "DOUBLE", null_handling="special")  # type: ignore[call-overload]

    @property
    def from_clause(self) -> str:
        """Join this into the FROM list (a one-row table) when using :meth:`between`."""
        return f", {TABLE} AS wc" if self.offset is not None else ""

    def _w(self, us: str) -> str:
        local = f"({us} + {self.offset})"
        day = f"({local} // {_DAY_US})"
        pos = f"({local} - {day} * {_DAY_US})"
        idx = f"({day} - {self.d0} + 1)"
        parts = " + ".join(
            f"greatest(0, least({pos}, {_us(hi)}) - {_us(lo)})" for lo, hi in self.clock.windows
        )
        return f"(wc.cum[{idx}] + CASE WHEN wc.wd[{idx}] THEN ({parts}) / {_MIN_US}.0 ELSE 0 END)"

    def between(self, a: str, b: str) -> str:
        """Working minutes in ``[a, b)`` (0 if ``b <= a``; NULL if either is NULL)."""
        if self.offset is None:
            return f"CASE WHEN {b} > {a} THEN {UDF}({a}, {b}) WHEN {b} <= {a} THEN 0.0 END"
        return f"CASE WHEN {b} > {a} THEN {self._w(b)} - {self._w(a)} WHEN {b} <= {a} THEN 0.0 END"
