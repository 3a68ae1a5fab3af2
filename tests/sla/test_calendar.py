"""Tests for the official working-day calendar (chinese_calendar + overrides + weekday fallback)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest

from civicgrid.sla.calendar import (
    DEFAULT_OVERRIDES_PATH,
    PACKAGE_YEARS,
    Override,
    WorkCalendar,
    default_calendar,
    load_overrides,
)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


def test_package_range_is_2004_to_2026() -> None:
    assert (PACKAGE_YEARS.start, PACKAGE_YEARS.stop) == (2004, 2027)


def test_national_day_2025(cal: WorkCalendar) -> None:
    assert [cal.is_workday(d) for d in _days(date(2025, 10, 1), date(2025, 10, 8))] == [False] * 8
    assert cal.is_workday(date(2025, 9, 27)) is False  # Saturday, ordinary weekend
    assert cal.is_workday(date(2025, 9, 28)) is True  # Sunday, make-up working day
    assert cal.is_workday(date(2025, 9, 30)) is True
    assert cal.is_workday(date(2025, 10, 9)) is True
    assert cal.is_workday(date(2025, 10, 11)) is True  # Saturday, make-up working day
    assert cal.is_workday(date(2025, 10, 12)) is False


def test_spring_festival_2026(cal: WorkCalendar) -> None:
    assert [cal.is_workday(d) for d in _days(date(2026, 2, 15), date(2026, 2, 23))] == [False] * 9
    assert cal.is_workday(date(2026, 2, 13)) is True
    assert cal.is_workday(date(2026, 2, 14)) is True  # Saturday, make-up working day
    assert cal.is_workday(date(2026, 2, 24)) is True
    assert cal.is_workday(date(2026, 2, 28)) is True  # Saturday, make-up working day
    assert cal.is_workday(date(2026, 3, 1)) is False


def test_new_year_2026(cal: WorkCalendar) -> None:
    assert cal.is_workday(date(2025, 12, 31)) is True
    assert [cal.is_workday(d) for d in _days(date(2026, 1, 1), date(2026, 1, 3))] == [False] * 3
    assert cal.is_workday(date(2026, 1, 4)) is True  # Sunday, make-up working day


def test_covered_years(cal: WorkCalendar) -> None:
    assert cal.covered(2004) is True
    assert cal.covered(2025) is True
    assert cal.covered(2026) is True
    assert cal.covered(2003) is False
    assert cal.covered(2027) is False


def test_uncovered_year_falls_back_to_weekdays_and_warns_once(
    cal: WorkCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="civicgrid.sla")
    # 2027-01-01 is a Friday: the fallback knows nothing about New Year's Day.
    week = _days(date(2027, 1, 1), date(2027, 1, 7))
    assert [cal.is_workday(d) for d in week] == [True, False, False, True, True, True, True]
    assert cal.is_workday(date(2027, 10, 1)) is True  # a Friday; National Day unknown
    assert cal.uncovered_years_seen == frozenset({2027})
    records = [r for r in caplog.records if r.name == "civicgrid.sla"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert "2027" in records[0].getMessage()
    assert "未覆盖" in records[0].getMessage()

    assert cal.is_workday(date(2003, 1, 1)) is True  # Wednesday
    assert cal.uncovered_years_seen == frozenset({2003, 2027})
    assert len([r for r in caplog.records if r.name == "civicgrid.sla"]) == 2


def test_covered_year_does_not_warn(cal: WorkCalendar, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="civicgrid.sla")
    for day in _days(date(2025, 1, 1), date(2026, 12, 31)):
        cal.is_workday(day)
    assert cal.uncovered_years_seen == frozenset()
    assert caplog.records == []


def test_override_flips_a_day() -> None:
    cal = WorkCalendar(
        [
            Override(date(2025, 10, 8), "workday", "国庆节后提前上班", "测试"),
            Override(date(2025, 6, 9), "holiday", "本地停工日", "测试"),
        ]
    )
    assert cal.is_workday(date(2025, 10, 8)) is True
    assert cal.is_workday(date(2025, 6, 9)) is False
    assert cal.is_overridden(date(2025, 6, 9)) is True
    assert cal.is_overridden(date(2025, 6, 10)) is False
    assert cal.is_workday(date(2025, 6, 10)) is True


def test_override_in_uncovered_year_still_warns_unless_confirmed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="civicgrid.sla")
    rows = [Override(date(2027, 1, 1), "holiday", "元旦", "测试")]
    cal = WorkCalendar(rows)
    assert cal.is_workday(date(2027, 1, 1)) is False  # override answers without a warning
    assert cal.uncovered_years_seen == frozenset()
    assert cal.is_workday(date(2027, 1, 4)) is True  # fallback answers and warns
    assert cal.uncovered_years_seen == frozenset({2027})
    assert len(caplog.records) == 1

    caplog.clear()
    confirmed = WorkCalendar(
        [*rows, Override(date(2027, 1, 1), "year_confirmed", "2027年通知已录入", "测试")]
    )
    assert confirmed.covered(2027) is True
    assert confirmed.is_workday(date(2027, 1, 1)) is False
    assert confirmed.is_workday(date(2027, 1, 4)) is True
    assert confirmed.is_workday(date(2027, 1, 2)) is False
    assert confirmed.uncovered_years_seen == frozenset()
    assert caplog.records == []


def test_conflicting_overrides_rejected() -> None:
    with pytest.raises(ValueError, match="日历覆盖冲突"):
        WorkCalendar([Override(date(2025, 6, 9), "holiday"), Override(date(2025, 6, 9), "workday")])


def test_bad_override_kind() -> None:
    with pytest.raises(ValueError, match="未知的日历覆盖类型"):
        Override(date(2025, 6, 9), "rest")  # type: ignore[arg-type]


def test_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "overrides.csv"
    path.write_text(
        "\ufeffdate,kind,name,source\n"
        "2027-01-01,holiday,元旦,国办发明电（测试）\n"
        "\n"
        "2027-02-06,workday,春节调休上班,国办发明电（测试）\n"
        "2027-01-01,year_confirmed,2027年通知已录入,测试\n",
        encoding="utf-8",
    )
    rows = load_overrides(path)
    assert rows == [
        Override(date(2027, 1, 1), "holiday", "元旦", "国办发明电（测试）"),
        Override(date(2027, 2, 6), "workday", "春节调休上班", "国办发明电（测试）"),
        Override(date(2027, 1, 1), "year_confirmed", "2027年通知已录入", "测试"),
    ]
    cal = WorkCalendar.from_csv(path)
    assert cal.covered(2027) is True
    assert cal.is_workday(date(2027, 1, 1)) is False
    assert cal.is_workday(date(2027, 2, 6)) is True  # a Saturday


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("day,kind,name,source\n", "表头"),
        ("date,kind,name,source\n2027-13-01,holiday,x,y\n", "第 2 行：日期"),
        ("date,kind,name,source\n2027-01-01,rest,x,y\n", "第 2 行：类型"),
    ],
)
def test_from_csv_rejects_bad_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        WorkCalendar.from_csv(path)


def test_shipped_override_file_is_header_only() -> None:
    assert DEFAULT_OVERRIDES_PATH.read_text(encoding="utf-8") == "date,kind,name,source\n"
    assert load_overrides(DEFAULT_OVERRIDES_PATH) == []


def test_default_calendar_is_cached() -> None:
    first = default_calendar()
    assert first is default_calendar()
    assert first.is_workday(date(2025, 9, 28)) is True
