"""The one definition of 应处置 / 按期处置 / 超时未处置 / 当前超期 (cases.disposal), case by case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from civicgrid.cases import disposal

T = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)
START, CUT = T, T + 48 * H


@dataclass
class C:
    state: str
    dispatched_at: datetime | None = T
    due_at: datetime | None = T + 24 * H
    feedback_at: datetime | None = None
    closed_at: datetime | None = None
    held: bool = False


def test_disposed_in_time_counts_when_disposed() -> None:
    c = C("feedback", feedback_at=T + 3 * H)
    assert disposal.judged_at(c.due_at, c.feedback_at, c.dispatched_at) == T + 3 * H
    assert disposal.outcome(c, START, CUT) == disposal.Outcome(disposed=True, on_time=True)
    # Judged before this period: not in it.
    assert disposal.outcome(c, T + 4 * H, CUT) is None


def test_late_case_counts_when_its_due_time_passed() -> None:
    late = C("closed", feedback_at=T + 30 * H, closed_at=T + 31 * H)
    assert disposal.outcome(late, START, CUT) == disposal.Outcome(disposed=True, on_time=False)
    # Judged in the period of its due time, even though disposed in the next one.
    assert disposal.outcome(late, START, T + 25 * H) == disposal.Outcome(disposed=False, on_time=False)
    assert disposal.outcome(late, T + 25 * H, CUT) is None


def test_case_within_its_limit_is_not_due_yet() -> None:
    assert disposal.outcome(C("processing"), START, T + 23 * H) is None
    overdue = disposal.outcome(C("processing"), START, CUT)
    assert overdue is not None and overdue.overdue_open and not overdue.on_time


def test_held_undispatched_and_reworked_cases() -> None:
    assert disposal.outcome(C("processing", held=True), START, CUT) is None
    assert disposal.outcome(C("registered", dispatched_at=None, due_at=None), START, CUT) is None
    # Sent back for rework (returned): the earlier feedback does not count as disposal.
    assert disposal.disposed_at("returned", T, T + 2 * H, None) is None
    # Closed without a feedback (special close): the close is the disposal.
    assert disposal.disposed_at("closed", T, None, T + 5 * H) == T + 5 * H


def test_overdue_now_and_rate() -> None:
    now = T + 25 * H
    assert disposal.overdue_now("processing", T + 24 * H, False, now)
    assert disposal.overdue_now("returned", T + 24 * H, False, now)
    assert not disposal.overdue_now("feedback", T + 24 * H, False, now)  # fed back: waits for the check
    assert not disposal.overdue_now("processing", T + 24 * H, True, now)  # held
    assert not disposal.overdue_now("processing", T + 26 * H, False, now)
    assert (disposal.rate(3, 4), disposal.rate(0, 0)) == (0.75, None)


def test_sql_text_agrees_with_the_predicate() -> None:
    import duckdb

    cases = [
        C("feedback", feedback_at=T + 3 * H),
        C("closed", feedback_at=T + 30 * H, closed_at=T + 31 * H),
        C("processing"),
        C("processing", due_at=T + 60 * H),
        C("processing", held=True),
        C("returned", feedback_at=T + 2 * H),
        C("closed", closed_at=T + 5 * H),
        C("registered", dispatched_at=None, due_at=None),
    ]
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE f (state VARCHAR, dp TIMESTAMPTZ, due TIMESTAMPTZ, fb TIMESTAMPTZ, cl TIMESTAMPTZ,"
        " held BOOLEAN)"
    )
    con.executemany(
        "INSERT INTO f VALUES (?, ?, ?, ?, ?, ?)",
        [(c.state, c.dispatched_at, c.due_at, c.feedback_at, c.closed_at, c.held) for c in cases],
    )
    disp = disposal.sql_disposed_at("state", "dp", "fb", "cl")
    judged = disposal.sql_judged_at("due", "disp", "dp")
    lo, hi = (f"TIMESTAMPTZ '{x.isoformat()}'" for x in (START, CUT))
    flags = disposal.sql_flags("j", "disp", "due", "held", lo, hi)
    sums = ", ".join(f"count(*) FILTER (WHERE {flags[k]})" for k in disposal.FLAGS)
    got = con.execute(f"SELECT {sums} FROM (SELECT *, {judged} AS j FROM (SELECT *, {disp} AS disp FROM f))")
    outcomes = [o for o in (disposal.outcome(c, START, CUT) for c in cases) if o is not None]
    expected = (
        len(outcomes),
        sum(o.disposed for o in outcomes),
        sum(o.on_time for o in outcomes),
        sum(not o.on_time for o in outcomes),
        sum(o.overdue_open for o in outcomes),
    )
    assert got.fetchone() == expected == (5, 3, 2, 3, 2)
