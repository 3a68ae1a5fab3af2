"""Tests for the working clock: due times to the minute, in Asia/Shanghai local time."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from civicgrid.sla.calendar import Override, WorkCalendar
from civicgrid.sla.clock import Limit, WorkingClock, parse_limit

SH = ZoneInfo("Asia/Shanghai")


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SH)


@pytest.fixture
def clock() -> WorkingClock:
    return WorkingClock(WorkCalendar())


def due(clock: WorkingClock, start: datetime, spec: str) -> datetime:
    result = clock.add(start, parse_limit(spec))
    assert result.tzinfo is UTC
    return result.astimezone(SH)


# -- Limit ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "unit", "as_str", "label"),
    [
        ("4wh", 4, "wh", "4wh", "4工作时"),
        ("1wd", 1, "wd", "1wd", "1工作日"),
        ("2h", 2, "h", "2h", "2小时"),
        ("30min", 30, "min", "30min", "30分钟"),
        (" 0.5 wd ", 0.5, "wd", "0.5wd", "0.5工作日"),
        ("1.0h", 1.0, "h", "1h", "1小时"),
        ("15WD", 15, "wd", "15wd", "15工作日"),
        ("4工作时", 4, "wh", "4wh", "4工作时"),
        ("10分钟", 10, "min", "10min", "10分钟"),
        ("2工作日", 2, "wd", "2wd", "2工作日"),
    ],
)
def test_parse_limit(text: str, amount: float, unit: str, as_str: str, label: str) -> None:
    limit = parse_limit(text)
    assert limit == Limit(amount, unit)  # type: ignore[arg-type]
    assert type(limit.amount) is type(amount)
    assert str(limit) == as_str
    assert limit.label == label


@pytest.mark.parametrize("text", ["", "4", "wh", "-1wh", "4 days", "4whh", "1d", "1,5wh", "one wd", "4 w h"])
def test_parse_limit_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="无法识别的时限"):
        parse_limit(text)


@pytest.mark.parametrize("text", ["0wh", "0.0h"])
def test_parse_limit_rejects_zero(text: str) -> None:
    with pytest.raises(ValueError, match="时限必须是大于零"):
        parse_limit(text)


def test_parse_limit_rejects_non_text() -> None:
    with pytest.raises(ValueError, match="时限应为文本"):
        parse_limit(4)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "unit", "message"),
    [
        (1, "d", "未知的时限单位"),
        (True, "h", "时限数值无效"),
        ("4", "h", "时限数值无效"),
        (math.nan, "h", "大于零的有限数值"),
        (math.inf, "wd", "大于零的有限数值"),
        (-2, "wh", "大于零的有限数值"),
    ],
)
def test_limit_rejects_bad_values(amount: object, unit: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Limit(amount, unit)  # type: ignore[arg-type]


def test_limit_minutes(clock: WorkingClock) -> None:
    assert clock.minutes_per_day == 480.0
    assert clock.limit_minutes(Limit(1, "wd")) == 480.0
    assert clock.limit_minutes(Limit(0.5, "wd")) == 240.0
    assert clock.limit_minutes(Limit(4, "wh")) == 240.0
    assert clock.limit_minutes(Limit(2, "h")) == 120.0
    assert clock.limit_minutes(Limit(10, "min")) == 10.0


# -- add: ordinary weeks (June 2025 has no holiday after the 2nd) --------------------------------------------


@pytest.mark.parametrize(
    ("start", "spec", "expected"),
    [
        (local(2025, 6, 9, 8), "4wh", local(2025, 6, 9, 12)),  # earliest instant, not 14:00
        (local(2025, 6, 9, 11, 30), "1wh", local(2025, 6, 9, 14, 30)),  # across lunch
        (local(2025, 6, 9, 8), "1wd", local(2025, 6, 9, 18)),
        (local(2025, 6, 9, 8), "0.5wd", local(2025, 6, 9, 12)),
        (local(2025, 6, 13, 10), "1wd", local(2025, 6, 16, 10)),  # Friday -> Monday
        (local(2025, 6, 13, 17), "2wh", local(2025, 6, 16, 9)),  # across the weekend
        (local(2025, 6, 14, 10), "1wh", local(2025, 6, 16, 9)),  # start on Saturday
        (local(2025, 6, 9, 12, 30), "1wh", local(2025, 6, 9, 15)),  # start during lunch
        (local(2025, 6, 9, 12), "1wh", local(2025, 6, 9, 15)),  # 12:00 is already lunch
        (local(2025, 6, 9, 22), "1wh", local(2025, 6, 10, 9)),  # start at night
        (local(2025, 6, 10, 2, 15), "1wh", local(2025, 6, 10, 9)),  # after midnight
        (local(2025, 6, 10, 6), "1wd", local(2025, 6, 10, 18)),  # before 08:00
        (local(2025, 6, 10, 7, 15), "0.5wh", local(2025, 6, 10, 8, 30)),
        (local(2025, 6, 9, 18), "1wh", local(2025, 6, 10, 9)),  # 18:00 is closed
        (local(2025, 6, 9, 17, 59), "1wh", local(2025, 6, 10, 8, 59)),
        (local(2025, 6, 9, 9, 15, 30), "1wh", local(2025, 6, 9, 10, 15, 30)),  # seconds kept
        (local(2025, 6, 9, 7, 59, 45), "1wh", local(2025, 6, 9, 9)),  # counting starts at 08:00 sharp
        (local(2025, 6, 9, 10), "3wd", local(2025, 6, 12, 10)),
        (local(2025, 6, 9, 8), "5wd", local(2025, 6, 13, 18)),
        (local(2025, 6, 9, 8), "10wd", local(2025, 6, 20, 18)),
    ],
)
def test_add_working_units(clock: WorkingClock, start: datetime, spec: str, expected: datetime) -> None:
    assert due(clock, start, spec) == expected


def test_add_returns_utc(clock: WorkingClock) -> None:
    result = clock.add(local(2025, 6, 9, 8), Limit(4, "wh"))
    assert result == datetime(2025, 6, 9, 4, 0, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_add_accepts_other_timezones(clock: WorkingClock) -> None:
    # 2025-06-09 00:00 UTC is 08:00 in Shanghai.
    assert clock.add(datetime(2025, 6, 9, 0, 0, tzinfo=UTC), Limit(1, "wh")) == datetime(
        2025, 6, 9, 1, tzinfo=UTC
    )


# -- add: official holidays --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "spec", "expected"),
    [
        (local(2025, 9, 30, 10), "1wd", local(2025, 10, 9, 10)),  # over National Day
        (local(2025, 9, 26, 10), "1wd", local(2025, 9, 28, 10)),  # Friday -> make-up Sunday
        (local(2025, 9, 27, 10), "1wh", local(2025, 9, 28, 9)),  # ordinary Saturday -> make-up Sunday
        (local(2025, 10, 3, 15), "1wh", local(2025, 10, 9, 9)),  # start inside the holiday
        (local(2025, 10, 10, 17), "2wh", local(2025, 10, 11, 9)),  # Friday -> make-up Saturday
        (local(2025, 9, 22, 8), "10wd", local(2025, 10, 10, 18)),
        (local(2025, 9, 22, 9), "15wd", local(2025, 10, 17, 9)),
        (local(2026, 2, 13, 17), "2wh", local(2026, 2, 14, 9)),  # Spring Festival make-up Saturday
        (local(2026, 2, 14, 16), "4wh", local(2026, 2, 24, 10)),  # over Spring Festival
        (local(2026, 2, 16, 9), "1wd", local(2026, 2, 24, 18)),
        (local(2026, 2, 27, 17), "2wh", local(2026, 2, 28, 9)),  # second make-up Saturday
        (local(2025, 12, 31, 16), "1wd", local(2026, 1, 4, 16)),  # New Year, make-up Sunday Jan 4
        (local(2025, 12, 31, 17), "1wh", local(2025, 12, 31, 18)),  # ends at closing time
        (local(2025, 12, 31, 17), "2wh", local(2026, 1, 4, 9)),
    ],
)
def test_add_across_holidays(clock: WorkingClock, start: datetime, spec: str, expected: datetime) -> None:
    assert due(clock, start, spec) == expected


@pytest.mark.parametrize(
    ("start", "spec", "expected"),
    [
        (local(2025, 9, 30, 22, 30), "2h", local(2025, 10, 1, 0, 30)),  # midnight into a holiday
        (local(2025, 12, 31, 23, 50), "30min", local(2026, 1, 1, 0, 20)),  # year boundary
        (local(2025, 6, 14, 12, 0), "24h", local(2025, 6, 15, 12, 0)),  # weekend counts
        (local(2025, 6, 9, 11, 30), "1h", local(2025, 6, 9, 12, 30)),  # lunch counts
        (local(2025, 6, 9, 9, 15, 30), "10min", local(2025, 6, 9, 9, 25, 30)),
        (local(2025, 6, 9, 9), "1.5h", local(2025, 6, 9, 10, 30)),
    ],
)
def test_add_natural_units(clock: WorkingClock, start: datetime, spec: str, expected: datetime) -> None:
    assert due(clock, start, spec) == expected


def test_add_in_uncovered_year_uses_weekdays_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="civicgrid.sla")
    clock = WorkingClock(WorkCalendar())
    assert due(clock, local(2027, 1, 8, 10), "1wd") == local(2027, 1, 11, 10)  # Friday -> Monday
    assert due(clock, local(2027, 1, 11, 10), "2wd") == local(2027, 1, 13, 10)
    assert clock.calendar.uncovered_years_seen == frozenset({2027})
    assert len([r for r in caplog.records if r.name == "civicgrid.sla"]) == 1


def test_add_crossing_into_uncovered_year(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="civicgrid.sla")
    clock = WorkingClock(WorkCalendar())
    # 2026-12-31 is a Thursday; 2027-01-01 (Friday) is worked under the fallback.
    assert due(clock, local(2026, 12, 31, 17), "2wh") == local(2027, 1, 1, 9)
    assert clock.calendar.uncovered_years_seen == frozenset({2027})


def test_override_changes_due_time() -> None:
    clock = WorkingClock(WorkCalendar([Override(local(2025, 6, 16).date(), "holiday", "本地停工日", "测试")]))
    assert due(clock, local(2025, 6, 13, 10), "1wd") == local(2025, 6, 17, 10)
    extra = WorkingClock(WorkCalendar([Override(local(2025, 6, 14).date(), "workday", "加班日", "测试")]))
    assert due(extra, local(2025, 6, 13, 17), "2wh") == local(2025, 6, 14, 9)


def test_custom_windows() -> None:
    clock = WorkingClock(WorkCalendar(), windows=((time(9), time(17)),))
    assert clock.minutes_per_day == 480.0
    assert due(clock, local(2025, 6, 9, 12), "1wd") == local(2025, 6, 10, 12)
    assert due(clock, local(2025, 6, 9, 16, 30), "1wh") == local(2025, 6, 10, 9, 30)
    short = WorkingClock(WorkCalendar(), windows=((time(9), time(12)),))
    assert short.minutes_per_day == 180.0
    assert due(short, local(2025, 6, 9, 9), "2wd") == local(2025, 6, 10, 12)


# -- working_minutes_between and round trips ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "minutes"),
    [
        (local(2025, 6, 9, 8), local(2025, 6, 9, 12), 240.0),
        (local(2025, 6, 9, 11, 30), local(2025, 6, 9, 14, 30), 60.0),
        (local(2025, 6, 13, 17), local(2025, 6, 16, 9), 120.0),
        (local(2025, 6, 9, 0), local(2025, 6, 10, 0), 480.0),
        (local(2025, 6, 9, 7), local(2025, 6, 16, 7), 2400.0),
        (local(2025, 6, 9, 9, 15, 30), local(2025, 6, 9, 9, 16), 0.5),
        (local(2025, 9, 30, 10), local(2025, 10, 9, 10), 480.0),
        (local(2025, 10, 1), local(2025, 10, 8, 23), 0.0),
        (local(2025, 6, 9, 12, 10), local(2025, 6, 9, 13, 50), 0.0),
        (local(2025, 6, 9, 12), local(2025, 6, 9, 8), 0.0),  # b before a
        (local(2025, 6, 9, 12), local(2025, 6, 9, 12), 0.0),
    ],
)
def test_working_minutes_between(clock: WorkingClock, a: datetime, b: datetime, minutes: float) -> None:
    assert clock.working_minutes_between(a, b) == minutes


def test_round_trip_with_add(clock: WorkingClock) -> None:
    specs = ["1wh", "4wh", "0.5wh", "1wd", "2wd", "10wd", "15wd"]
    start = local(2025, 9, 20, 0, 0, 0)
    step = timedelta(hours=5, minutes=17, seconds=13)
    checked = 0
    for n in range(400):
        moment = start + n * step  # walks through National Day 2025 and into 2026
        for spec in specs:
            limit = parse_limit(spec)
            end = clock.add(moment, limit)
            assert clock.working_minutes_between(moment, end) == clock.limit_minutes(limit)
            assert clock.is_working_time(end - timedelta(microseconds=1))
            checked += 1
    assert checked == 2800


# -- is_working_time / next_working_instant ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2025, 6, 9, 8), True),
        (local(2025, 6, 9, 7, 59, 59), False),
        (local(2025, 6, 9, 11, 59, 59), True),
        (local(2025, 6, 9, 12), False),
        (local(2025, 6, 9, 14), True),
        (local(2025, 6, 9, 18), False),
        (local(2025, 6, 14, 10), False),  # Saturday
        (local(2025, 9, 28, 10), True),  # make-up Sunday
        (local(2025, 10, 8, 10), False),  # National Day
    ],
)
def test_is_working_time(clock: WorkingClock, moment: datetime, expected: bool) -> None:
    assert clock.is_working_time(moment) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2025, 6, 9, 9, 15, 30), local(2025, 6, 9, 9, 15, 30)),
        (local(2025, 6, 9, 6), local(2025, 6, 9, 8)),
        (local(2025, 6, 9, 12, 30), local(2025, 6, 9, 14)),
        (local(2025, 6, 13, 18), local(2025, 6, 16, 8)),
        (local(2025, 10, 1, 9), local(2025, 10, 9, 8)),
        (local(2026, 2, 13, 20), local(2026, 2, 14, 8)),
    ],
)
def test_next_working_instant(clock: WorkingClock, moment: datetime, expected: datetime) -> None:
    result = clock.next_working_instant(moment)
    assert result.tzinfo is UTC
    assert result == expected


# -- fractions for the 80 % warning ------------------------------------------------------------------------


def test_fraction_used_working(clock: WorkingClock) -> None:
    start = local(2025, 6, 13, 16)  # Friday; 4wh due Monday 10:00
    limit = Limit(4, "wh")
    assert clock.fraction_used(start, limit, local(2025, 6, 13, 15)) == 0.0
    assert clock.fraction_used(start, limit, local(2025, 6, 13, 17)) == 0.25
    assert clock.fraction_used(start, limit, local(2025, 6, 15, 23)) == 0.5  # weekend does not count
    assert clock.fraction_used(start, limit, local(2025, 6, 16, 9, 12)) == 0.8
    assert clock.fraction_used(start, limit, local(2025, 6, 16, 10)) == 1.0
    assert clock.fraction_used(start, limit, local(2025, 6, 16, 11)) == 1.25


def test_fraction_used_natural(clock: WorkingClock) -> None:
    start = local(2025, 9, 30, 23, 30)
    limit = Limit(1, "h")
    assert clock.fraction_used(start, limit, local(2025, 9, 30, 23)) == 0.0
    assert clock.fraction_used(start, limit, local(2025, 10, 1, 0, 18)) == 0.8
    assert clock.fraction_used(start, limit, local(2025, 10, 1, 1, 0)) == 1.5


def test_elapsed_fraction_with_extended_due(clock: WorkingClock) -> None:
    start = local(2025, 6, 9, 8)
    extended_due = local(2025, 6, 10, 18)  # 2wd after an approved extension
    assert clock.elapsed_fraction(start, extended_due, local(2025, 6, 10, 8), working=True) == 0.5
    assert clock.elapsed_fraction(start, extended_due, local(2025, 6, 10, 16, 24), working=True) == 0.9
    natural_due = local(2025, 6, 9, 10)
    assert clock.elapsed_fraction(start, natural_due, local(2025, 6, 9, 9, 36), working=False) == 0.8
    assert clock.elapsed_fraction(start, start, local(2025, 6, 9, 9), working=True) == 1.0
    assert clock.elapsed_fraction(start, start, local(2025, 6, 9, 7), working=False) == 0.0


# -- bad inputs ---------------------------------------------------------------------------------------------


def test_naive_datetimes_rejected(clock: WorkingClock) -> None:
    naive = datetime(2025, 6, 9, 8)
    with pytest.raises(ValueError, match="起始时间必须带时区"):
        clock.add(naive, Limit(1, "wh"))
    with pytest.raises(ValueError, match="起始时间必须带时区"):
        clock.add(naive, Limit(1, "h"))
    with pytest.raises(ValueError, match="必须带时区"):
        clock.working_minutes_between(local(2025, 6, 9, 8), naive)
    with pytest.raises(ValueError, match="必须带时区"):
        clock.is_working_time(naive)
    with pytest.raises(ValueError, match="必须带时区"):
        clock.next_working_instant(naive)
    with pytest.raises(ValueError, match="必须带时区"):
        clock.fraction_used(local(2025, 6, 9, 8), Limit(1, "h"), naive)
    with pytest.raises(ValueError, match="必须是 datetime"):
        clock.add("2025-06-09 08:00", Limit(1, "wh"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ((), "工作时段不能为空"),
        (((time(12), time(8)),), "开始时间必须早于结束时间"),
        (((time(8), time(8)),), "开始时间必须早于结束时间"),
        (((time(8), time(12)), (time(11), time(18))), "互不重叠"),
        (((time(14), time(18)), (time(8), time(12))), "互不重叠"),
        (((time(8, tzinfo=UTC), time(12)),), "不带时区"),
        (((8, 12),), "time 值"),
    ],
)
def test_bad_windows(windows: tuple[tuple[time, time], ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingClock(WorkCalendar(), windows=windows)


def test_bad_timezone() -> None:
    with pytest.raises(ValueError, match="未知的时区"):
        WorkingClock(WorkCalendar(), tz="Asia/Nowhere")


def test_default_calendar_used_when_none() -> None:
    clock = WorkingClock()
    assert due(clock, local(2025, 9, 30, 10), "1wd") == local(2025, 10, 9, 10)
