"""Every indicator and score against values computed by hand from the fixed history in conftest.py.

Period 2026-10, as of 10 November (so the cut is the end of October). Per-case flags for department HW
(cases C1–C7, C12, C13; C11 is September):
  registered C1 C2 C3 C4 C5 C6 C7 = 7 (C2 late: verified 08:50, registered 09:30 > 09:20) → 按时立案率 6/7
  dispatched the same 7 (C2 late), C7 returned → 按期派遣率 6/7, 准确派遣率 6/7
  应处置 = C1 C2 C3 C5 C7 C12 C13 = 7 (C4 held, C6 due in Nov.; C13 disposed 8 Oct, C12 reopened due 23 Oct)
  处置 C1 C2 C3 C7 C13 = 5, 按期 C1 C3 C7 C13 = 4, 超期 C2 C5 C12 = 3, 超时未处置 C5 C12 = 2, 返工 C3 = 1
  结案 = 5, 按期结案 4 (C2 closed after due); 评价 C1 5, C2 2, C7 4, C13 5 → 满意率 3/4
  disposal minutes C1 100, C2 500 (Tue 09:40→Wed 10:00), C3 530, C7 190, C13 100 (across National Day) → 284
  score = 10×100 (7 立案 → band 100) + 30×5/7 + 30×4/7 + 30×(1 − 1/5) = 72.57 → C
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from civicgrid.evaluation.indicators import compute
from civicgrid.evaluation.period import parse_period
from civicgrid.evaluation.service import evaluate, open_facts
from civicgrid.evaluation.wclock import WorkingMinutesSQL
from civicgrid.evaluation.weights import shipped_weights
from civicgrid.sla.deadlines import get_clock

from .conftest import AS_OF, CASES, CST, S1, S2, history_table, t

OCT = parse_period("2026-10")


def _ev(facts, unit, **kw):
    con, rel = facts
    return evaluate(con, rel, OCT, unit, weights=shipped_weights(), as_of=AS_OF, **kw)


def test_department_every_indicator(facts):
    hw = _ev(facts, "department").row("HW")
    c = hw.counts
    assert (c["registered"], c["registered_on_time"], c["registered_voided"], c["registered_public"]) == (
        7,
        6,
        0,
        1,
    )
    assert (c["dispatched"], c["dispatched_on_time"], c["dispatched_returned"]) == (7, 6, 1)
    assert (c["due"], c["disposed"], c["disposed_on_time"], c["overdue"], c["overdue_open"]) == (
        7,
        5,
        4,
        3,
        2,
    )
    assert (c["should_close"], c["closed"], c["closed_on_time"], c["reworked"]) == (7, 5, 4, 1)
    assert (c["rated"], c["satisfied"], c["insp_reports"], c["insp_reports_valid"], c["missed"]) == (
        4,
        3,
        6,
        6,
        1,
    )
    assert (c["verified"], c["verified_on_time"], c["checked"], c["checked_on_time"]) == (1, 1, 5, 5)
    assert (
        c["verify_sent"],
        c["verify_sent_on_time"],
        c["check_sent"],
        c["check_sent_on_time"],
        c["accepted"],
    ) == (
        1,
        0,
        5,
        4,
        6,
    )
    i = hw.indicators
    assert i == pytest.approx(
        {
            "disposal_rate": 5 / 7,
            "disposal_on_time_rate": 4 / 7,
            "close_rate": 5 / 7,
            "close_on_time_rate": 4 / 7,
            "rework_rate": 0.2,
            "overdue_rate": 3 / 7,
            "satisfaction_rate": 0.75,
            "register_on_time_rate": 6 / 7,
            "register_accuracy_rate": 1.0,
            "dispatch_on_time_rate": 6 / 7,
            "dispatch_accuracy_rate": 6 / 7,
            "effective_report_rate": 1.0,
            "verify_on_time_rate": 1.0,
            "check_on_time_rate": 1.0,
            "missed_rate": 1 / 7,
            "verify_send_on_time_rate": 0.0,
            "check_send_on_time_rate": 0.8,
            "lead_close_on_time_rate": 1.0,
            "public_report_rate": 1 / 7,
            "avg_disposal_wmin": 284.0,
        },
        abs=1e-6,
    )
    # 受理→立案 C1 10, C2 90, C3 5, C4 10, C5 10, C6 5, C7 10;
    # 签收→反馈 C1 90, C2 480, C3 520, C7 120, C13 90.
    assert hw.stages == {
        "stage_register": 20.0,
        "stage_dispatch": 8.57,
        "stage_sign": 23.33,
        "stage_feedback": 260.0,
        "stage_check": 38.0,
        "stage_close": 12.0,
    }
    assert (hw.score, hw.grade, hw.rank) == (72.57, "C", 2)


def test_department_ranking_and_unscored(facts):
    rows = _ev(facts, "department", names={"SZ": "市政工程管理处"}).rows
    assert [(r.key, r.name, r.rank, r.score, r.grade) for r in rows] == [
        ("SZ", "市政工程管理处", 1, 100.0, "A"),
        ("HW", "HW", 2, 72.57, "C"),
        ("YL", "YL", None, None, None),  # only a volume band: nothing due yet, so no score
    ]
    sz = rows[0]
    assert sz.indicators["avg_disposal_wmin"] == 240.0  # C14 410 (Saturday make-up day) + C17 70
    assert sz.indicators["satisfaction_rate"] == 0.0  # C14 rated 3


def test_street(facts):
    ev = _ev(facts, "street")
    s1, s2 = ev.row(S1), ev.row(S2)
    # S1: 应结案 C1 C2 C3 C5 C7 C12 = 6, 结案 C1 C2 C3 C7, 按期 C1 C3 C7; 立案 7 of which public C2.
    assert (s1.counts["should_close"], s1.counts["closed"], s1.counts["closed_on_time"]) == (6, 4, 3)
    assert (s1.counts["registered"], s1.counts["registered_public"]) == (7, 1)
    # 30×4/6 + 30×3/6 + 20×(1 − 1/7) + 20×100 (7 立案 ≤ 100 per street).
    assert (s1.score, s1.grade, s1.rank) == (72.14, "C", 2)
    # S2: 应结案 C13 C14 C17 all closed on time; 立案 C4 C8 C14 C17, public C8 C17; C8 voided.
    assert (s2.counts["should_close"], s2.counts["closed_on_time"], s2.counts["registered_public"]) == (
        3,
        3,
        2,
    )
    assert s2.indicators["register_accuracy_rate"] == 0.75
    assert (s2.score, s2.grade, s2.rank) == (90.0, "A", 1)


def test_inspectors(facts):
    ev = _ev(facts, "inspector")
    a, b = ev.row("101"), ev.row("102")
    # 101: reports C1 C3 C5 C6 C10 C15, effective 5 (C10 voided); verified C2 on time;
    # checked C1 C7 C17; missed C2.
    assert (a.counts["insp_reports"], a.counts["insp_reports_valid"], a.counts["missed"]) == (6, 5, 1)
    assert (a.counts["verified"], a.counts["checked"], a.counts["checked_on_time"]) == (1, 3, 3)
    assert a.indicators["effective_report_rate"] == pytest.approx(5 / 6)
    assert a.indicators["missed_rate"] == pytest.approx(1 / 6)
    assert a.indicators["disposal_rate"] is None  # not an inspector's indicator
    assert (a.score, a.grade, a.rank) == (90.0, "A", 1)  # 40×5/6 + 20×5/6 + 20 + 20
    # 102: verified C16 late, C17 on time; missed C17; 40 + 20×0.75 + 20×0.5 + 20 = 85.
    assert (b.counts["verified"], b.counts["verified_on_time"], b.counts["missed"]) == (2, 1, 1)
    assert (b.score, b.grade, b.rank) == (85.0, "B", 2)


def test_inspector_coverage_moves_missed_reports(facts):
    # 101 patrols community 320508001001 and all of S2; 102 patrols community 320508001002.
    coverage = [(101, "320508001001"), (101, S2), (102, "320508001002")]
    ev = _ev(facts, "inspector", coverage=coverage)
    assert ev.row("101").counts["missed"] == 2  # C2 in G1 and C17 in G3
    assert ev.row("102").counts["missed"] == 0
    assert ev.row("101").score == 87.62  # 40×5/6 + 20×(1 − 2/7) + 20 + 20
    assert ev.row("102").score == 90.0


def test_command_centre_people(facts):
    leads = {r.key: r for r in _ev(facts, "shift_lead").rows}
    assert (leads["301"].counts["registered"], leads["301"].counts["registered_voided"]) == (7, 1)
    assert (leads["301"].score, leads["302"].score) == (90.71, 93.0)  # 65×6/7 + 35; 25 + 40 + 35×4/5
    assert (leads["302"].rank, leads["301"].rank) == (1, 2)
    dispatchers = {r.key: r for r in _ev(facts, "dispatcher").rows}
    assert (dispatchers["401"].counts["dispatched"], dispatchers["401"].counts["dispatched_returned"]) == (
        6,
        1,
    )
    assert (dispatchers["401"].score, dispatchers["402"].score) == (73.33, 70.0)  # volume band 0 for ≤ 100
    operator = _ev(facts, "operator").row("201")
    assert (
        operator.counts["accepted"],
        operator.counts["verify_sent_on_time"],
        operator.counts["check_sent_on_time"],
    ) == (
        10,
        2,
        5,
    )
    assert (operator.score, operator.grade) == (51.67, "D")  # 40×2/3 + 35×5/7


def test_running_month_cuts_at_as_of(facts):
    con, rel = facts
    # On 20 October 12:00: C5 and C12 not yet due; C4 held; C7 disposed 14:30 the same day is after the cut.
    rows = compute(con, rel, OCT, "department", as_of=t(10, 20, 12))
    hw = next(r for r in rows if r.key == "HW")
    assert (hw.counts["due"], hw.counts["disposed"], hw.counts["overdue_open"]) == (4, 4, 0)  # C1 C2 C3 C13


def test_unknown_unit_and_missing_columns(facts):
    from civicgrid.errors import InvalidInput

    con, rel = facts
    with pytest.raises(InvalidInput, match="未知的评价对象"):
        compute(con, rel, OCT, "planet")
    table = history_table().drop_columns(["held"])
    con2, rel2 = open_facts(table)
    with pytest.raises(InvalidInput, match="缺少列：held"):
        compute(con2, rel2, OCT, "department")


def test_precomputed_stage_column_wins():
    table = history_table([CASES[0]])
    table = table.append_column("stage_register_wmin", __import__("pyarrow").array([99.0]))
    con, rel = open_facts(table)
    row = compute(con, rel, OCT, "department", as_of=AS_OF)[0]
    assert row.stages["stage_register"] == 99.0
    assert row.stages["stage_dispatch"] == 10.0


def test_sql_working_minutes_equal_the_clock():
    import duckdb

    clock = get_clock()
    con = duckdb.connect()
    wm = WorkingMinutesSQL(con, clock, datetime(2026, 9, 1).date(), datetime(2026, 12, 31).date())
    start = datetime(2026, 9, 28, 7, 13, tzinfo=CST)
    pairs = [
        (start + timedelta(minutes=97 * k), start + timedelta(minutes=97 * k + 53 * j))
        for k in range(60)
        for j in (1, 7, 31, 200)
    ]
    pairs.append((t(9, 30, 17, 20), t(10, 8, 9)))  # National Day: 40 + 60
    pairs.append((t(10, 9, 10, 10), t(10, 10, 9)))  # into the Saturday make-up day: 350 + 60
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for a, b in pairs:
        ua, ub = (a - epoch) // timedelta(microseconds=1), (b - epoch) // timedelta(microseconds=1)
        got = con.execute(f"SELECT {wm.between(str(ua), str(ub))} FROM _cg_wclock AS wc").fetchone()[0]
        assert got == pytest.approx(clock.working_minutes_between(a, b), abs=1e-9), (a, b)
    assert clock.working_minutes_between(*pairs[-2]) == 100.0
    assert clock.working_minutes_between(*pairs[-1]) == 410.0


def test_unit_with_only_intake_activity_is_listed():
    # C16 alone: verified (late) and voided, never dispatched — its NULL disposal flags must not hide the row.
    con, rel = open_facts(history_table([CASES[15]]))
    rows = compute(con, rel, OCT, "grid", as_of=AS_OF)
    assert [(r.key, r.counts["verified"], r.counts["verified_on_time"], r.counts["due"]) for r in rows] == [
        ("32050800200101", 1, 0, 0)
    ]
