"""The status colour on boundary dates (SPEC §13, N = 3): before, on and after the deadline; milestones."""

from __future__ import annotations

from datetime import date

import pytest

from civicgrid.supervision.colour import (
    DONE,
    GREEN,
    NONE,
    RED,
    YELLOW,
    Milestone,
    TaskFacts,
    add_months,
    colour_of,
    report_due,
    summary,
)

DEADLINE = date(2026, 6, 30)


def task(**kw: object) -> TaskFacts:
    base: dict[str, object] = {"state": "doing", "deadline": DEADLINE, "assigned_on": date(2026, 6, 1)}
    base.update(kw)
    return TaskFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 6, 26), GREEN),  # 4 days before
        (date(2026, 6, 27), YELLOW),  # N = 3 days before
        (date(2026, 6, 30), YELLOW),  # on the day
        (date(2026, 7, 1), RED),  # the day after
    ],
)
def test_deadline_boundaries(today: date, expected: str) -> None:
    assert colour_of(task(), today).colour == expected


def test_n_is_a_parameter() -> None:
    assert colour_of(task(), date(2026, 6, 25), warn_days=5).colour == YELLOW
    assert colour_of(task(), date(2026, 6, 29), warn_days=0).colour == GREEN


def test_done_and_draft() -> None:
    assert colour_of(task(state="done"), date(2026, 8, 1)).colour == DONE
    assert colour_of(task(state="draft", deadline=None), date(2026, 8, 1)).colour == NONE


def test_a_milestone_missed_is_red_and_a_late_one_stays_yellow() -> None:
    m = Milestone(date(2026, 6, 10), "完成招标")
    assert colour_of(task(milestones=(m,)), date(2026, 6, 6)).colour == GREEN
    assert colour_of(task(milestones=(m,)), date(2026, 6, 7)).colour == YELLOW  # next milestone within 3 days
    assert colour_of(task(milestones=(m,)), date(2026, 6, 10)).colour == YELLOW
    red = colour_of(task(milestones=(m,)), date(2026, 6, 11))
    assert (red.colour, red.label) == (RED, "红")
    assert "完成招标" in red.reason
    on_time = Milestone(date(2026, 6, 10), "完成招标", met_on=date(2026, 6, 10))
    assert colour_of(task(milestones=(on_time,)), date(2026, 6, 15)).colour == GREEN
    late = Milestone(date(2026, 6, 10), "完成招标", met_on=date(2026, 6, 12))
    # 滞后: never green again, weeks later too
    for day in (date(2026, 6, 12), date(2026, 6, 20)):
        c = colour_of(task(milestones=(late,)), day)
        assert c.colour == YELLOW and "滞后" in c.reason


def test_progress_report_overdue_is_yellow() -> None:
    weekly = task(cadence="weekly", assigned_on=date(2026, 6, 1))
    assert colour_of(weekly, date(2026, 6, 8)).colour == GREEN  # due on the 8th
    assert colour_of(weekly, date(2026, 6, 9)).colour == YELLOW
    reported = task(cadence="weekly", assigned_on=date(2026, 6, 1), last_report_on=date(2026, 6, 8))
    assert colour_of(reported, date(2026, 6, 15)).colour == GREEN
    monthly = task(cadence="monthly", assigned_on=date(2026, 1, 31), deadline=date(2026, 12, 31))
    assert colour_of(monthly, date(2026, 2, 28)).colour == GREEN
    assert colour_of(monthly, date(2026, 3, 1)).colour == YELLOW


def test_a_close_asked_in_time_stops_the_deadline_clock() -> None:
    applied = task(state="applied", applied_on=date(2026, 6, 29))
    assert colour_of(applied, date(2026, 7, 3)).colour == GREEN
    late = task(state="applied", applied_on=date(2026, 7, 2))
    assert colour_of(late, date(2026, 7, 3)).colour == RED


def test_calendar_helpers_and_summary() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert report_due("quarterly", date(2026, 11, 30)) == date(2027, 2, 28)
    assert report_due(None, date(2026, 1, 1)) is None
    assert summary([RED, RED, GREEN, DONE]) == {RED: 2, YELLOW: 0, GREEN: 1, DONE: 1, NONE: 0}
