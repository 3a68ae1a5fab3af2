"""A small fixed history (17 cases, October 2026 plus a few September ones) as a facts table, written as data.

People: inspectors 101/102, operator 201, shift leads 301/302, dispatchers 401/402. Streets S1 = 320508001 and
S2 = 320508002; grids G1 (S1, community 001), G2 (S1, community 002), G3 (S2). Times are Beijing time. The
hand-computed expectations live in test_indicators.py next to the assertions.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from civicgrid.analytics.facts import FACTS_SCHEMA

CST = timezone(timedelta(hours=8))
AS_OF = datetime(2026, 11, 10, tzinfo=CST)
S1, S2 = "320508001", "320508002"
G1, G2, G3 = "32050800100101", "32050800100201", "32050800200101"


def t(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CST)


def _case(i: int, grid: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": i,
        "number": f"E0102202610{i:06d}",
        "category_code": "E0102",
        "kind": "E",
        "major_code": "01",
        "source": "inspector",
        "urgent": False,
        "grid_code": grid,
        "community_code": grid[:12],
        "street_code": grid[:9],
        "held": False,
        "rework_count": 0,
        "return_count": 0,
        "reopen_count": 0,
        "extension_count": 0,
        "report_count": 1,
        "lng": 120.6,
        "lat": 31.3,
    }
    row.update(kw)
    return row


CASES: list[dict[str, Any]] = [
    # C1 HW: the textbook path, everything on time, rated 5.
    _case(
        1,
        G1,
        state="closed",
        department_code="HW",
        reporter_user_id=101,
        received_at=t(10, 12, 9),
        registered_at=t(10, 12, 9, 10),
        register_by=301,
        dispatched_at=t(10, 12, 9, 20),
        dispatch_by=401,
        signed_at=t(10, 12, 9, 30),
        feedback_at=t(10, 12, 11),
        check_sent_at=t(10, 12, 11, 5),
        send_check_by=201,
        checked_at=t(10, 12, 11, 30),
        check_by=101,
        closed_at=t(10, 12, 11, 40),
        close_by=301,
        due_at=t(10, 12, 15, 20),
        close_type="normal",
        rating=5,
    ),
    # C2 HW: a citizen report verified true (missed by the inspector), late at each command step, late.
    _case(
        2,
        G1,
        state="closed",
        source="citizen",
        department_code="HW",
        received_at=t(10, 13, 8),
        verify_sent_at=t(10, 13, 8, 15),
        send_verify_by=201,
        verified_at=t(10, 13, 8, 50),
        verify_by=101,
        verify_confirmed=True,
        verify_due_at=t(10, 13, 9, 15),
        registered_at=t(10, 13, 9, 30),
        register_by=301,
        dispatched_at=t(10, 13, 9, 40),
        dispatch_by=402,
        signed_at=t(10, 13, 10),
        feedback_at=t(10, 14, 10),
        check_sent_at=t(10, 14, 10, 30),
        send_check_by=201,
        checked_at=t(10, 14, 11),
        check_by=102,
        closed_at=t(10, 14, 11, 10),
        close_by=302,
        due_at=t(10, 13, 17, 40),
        close_type="overdue",
        rating=2,
    ),
    # C3 HW: reworked once and extended (due_at already moved), disposed and closed within the new due time.
    _case(
        3,
        G2,
        state="closed",
        department_code="HW",
        reporter_user_id=101,
        received_at=t(10, 15, 9),
        registered_at=t(10, 15, 9, 5),
        register_by=301,
        dispatched_at=t(10, 15, 9, 10),
        dispatch_by=401,
        signed_at=t(10, 15, 9, 20),
        feedback_at=t(10, 16, 10),
        check_sent_at=t(10, 16, 10, 5),
        send_check_by=201,
        checked_at=t(10, 16, 10, 30),
        check_by=102,
        closed_at=t(10, 16, 10, 40),
        close_by=301,
        due_at=t(10, 16, 12),
        rework_count=1,
        extension_count=1,
        close_type="normal",
    ),
    # C4 HW: held (挂账) and past due: out of the on-time counts.
    _case(
        4,
        G3,
        state="processing",
        department_code="HW",
        reporter_user_id=102,
        received_at=t(10, 19, 9),
        registered_at=t(10, 19, 9, 10),
        register_by=302,
        dispatched_at=t(10, 19, 9, 20),
        dispatch_by=401,
        signed_at=t(10, 19, 9, 30),
        due_at=t(10, 19, 13, 20),
        held=True,
    ),
    # C5 HW: open and overdue at the end of the month (超时未处置).
    _case(
        5,
        G1,
        state="processing",
        department_code="HW",
        reporter_user_id=101,
        received_at=t(10, 26, 9),
        registered_at=t(10, 26, 9, 10),
        register_by=301,
        dispatched_at=t(10, 26, 9, 20),
        dispatch_by=401,
        signed_at=t(10, 26, 9, 40),
        due_at=t(10, 27, 9, 20),
    ),
    # C6 HW: dispatched on 30 October, due in November: not yet due in October.
    _case(
        6,
        G1,
        state="dispatched",
        category_code="E0505",
        department_code="HW",
        reporter_user_id=101,
        received_at=t(10, 30, 16),
        registered_at=t(10, 30, 16, 5),
        register_by=301,
        dispatched_at=t(10, 30, 16, 10),
        dispatch_by=402,
        due_at=t(11, 3, 10),
    ),
    # C7 HW: dispatched to a wrong department and returned (回退), re-dispatched to HW with a fresh due time.
    _case(
        7,
        G1,
        state="closed",
        department_code="HW",
        reporter_user_id=102,
        received_at=t(10, 20, 9),
        registered_at=t(10, 20, 9, 10),
        register_by=302,
        dispatched_at=t(10, 20, 9, 20),
        dispatch_by=401,
        signed_at=t(10, 20, 10, 30),
        feedback_at=t(10, 20, 14, 30),
        check_sent_at=t(10, 20, 14, 35),
        send_check_by=201,
        checked_at=t(10, 20, 15),
        check_by=101,
        closed_at=t(10, 20, 15, 20),
        close_by=302,
        due_at=t(10, 20, 18),
        return_count=1,
        close_type="normal",
        rating=4,
    ),
    # C8: a citizen report registered, then voided (作废): not an accurate registration.
    _case(
        8,
        G3,
        state="voided",
        source="citizen",
        received_at=t(10, 21, 10),
        registered_at=t(10, 21, 10, 20),
        register_by=301,
        voided_at=t(10, 21, 11),
    ),
    # C9: a duplicate merged into C1 (并案): no indicator, and not a recurrence.
    _case(
        9,
        G1,
        state="merged",
        source="citizen",
        received_at=t(10, 12, 9, 5),
        merged_at=t(10, 12, 9, 6),
        master_id=1,
    ),
    # C10: an inspector's report voided before registration: not an effective report.
    _case(10, G2, state="voided", reporter_user_id=101, received_at=t(10, 22, 9), voided_at=t(10, 22, 9, 30)),
    # C11 HW (September): closed on time in September — the previous period of the report.
    _case(
        11,
        G2,
        state="closed",
        department_code="HW",
        reporter_user_id=102,
        received_at=t(9, 10, 9),
        registered_at=t(9, 10, 9, 10),
        register_by=301,
        dispatched_at=t(9, 10, 9, 20),
        dispatch_by=401,
        signed_at=t(9, 10, 9, 30),
        feedback_at=t(9, 10, 11),
        check_sent_at=t(9, 10, 11, 5),
        send_check_by=201,
        checked_at=t(9, 10, 11, 30),
        check_by=102,
        closed_at=t(9, 10, 12, 30),
        close_by=301,
        due_at=t(9, 10, 15, 20),
        close_type="normal",
    ),
    # C12 HW: closed in September, reopened (重新派遣) on 22 October with a new due time, not yet disposed.
    _case(
        12,
        G1,
        state="dispatched",
        department_code="HW",
        reporter_user_id=101,
        received_at=t(9, 25, 9),
        registered_at=t(9, 25, 9, 10),
        register_by=301,
        dispatched_at=t(9, 25, 9, 20),
        dispatch_by=401,
        feedback_at=t(9, 25, 11),
        due_at=t(10, 23, 12),
        reopen_count=1,
    ),
    # C13 HW: dispatched on 30 September, disposed on 8 October across the National Day holiday.
    _case(
        13,
        G3,
        state="closed",
        department_code="HW",
        reporter_user_id=102,
        received_at=t(9, 30, 17),
        registered_at=t(9, 30, 17, 10),
        register_by=302,
        dispatched_at=t(9, 30, 17, 20),
        dispatch_by=402,
        signed_at=t(9, 30, 17, 30),
        feedback_at=t(10, 8, 9),
        check_sent_at=t(10, 8, 9, 5),
        send_check_by=201,
        checked_at=t(10, 8, 9, 40),
        check_by=102,
        closed_at=t(10, 8, 9, 50),
        close_by=302,
        due_at=t(10, 8, 11, 20),
        close_type="normal",
        rating=5,
    ),
    # C14 SZ: disposed on Saturday 10 October, a make-up working day (调休); rated 3.
    _case(
        14,
        G3,
        state="closed",
        category_code="C0101",
        department_code="SZ",
        reporter_user_id=102,
        received_at=t(10, 9, 10),
        registered_at=t(10, 9, 10, 5),
        register_by=302,
        dispatched_at=t(10, 9, 10, 10),
        dispatch_by=402,
        signed_at=t(10, 9, 10, 20),
        feedback_at=t(10, 10, 9),
        check_sent_at=t(10, 10, 9, 5),
        send_check_by=201,
        checked_at=t(10, 10, 9, 30),
        check_by=102,
        closed_at=t(10, 10, 9, 45),
        close_by=302,
        due_at=t(10, 10, 10),
        close_type="normal",
        rating=3,
    ),
    # C15 YL: registered and dispatched, due in November: nothing to judge the department on yet.
    _case(
        15,
        G2,
        state="processing",
        category_code="C0402",
        department_code="YL",
        reporter_user_id=101,
        received_at=t(10, 28, 9),
        registered_at=t(10, 28, 9, 5),
        register_by=301,
        dispatched_at=t(10, 28, 9, 10),
        dispatch_by=401,
        signed_at=t(10, 28, 9, 30),
        due_at=t(11, 2, 9, 10),
    ),
    # C16: a citizen report verified late and not true, then voided.
    _case(
        16,
        G3,
        state="voided",
        source="citizen",
        category_code="E0505",
        received_at=t(10, 23, 9),
        verify_sent_at=t(10, 23, 9, 5),
        send_verify_by=201,
        verified_at=t(10, 23, 10, 30),
        verify_by=102,
        verify_confirmed=False,
        voided_at=t(10, 23, 10, 40),
    ),
    # C17 SZ: a hotline report verified true; check sent late; closed late after the check.
    _case(
        17,
        G3,
        state="closed",
        source="hotline",
        category_code="E0505",
        department_code="SZ",
        received_at=t(10, 26, 14),
        verify_sent_at=t(10, 26, 14, 5),
        send_verify_by=201,
        verified_at=t(10, 26, 14, 30),
        verify_by=102,
        verify_confirmed=True,
        registered_at=t(10, 26, 14, 40),
        register_by=302,
        dispatched_at=t(10, 26, 14, 50),
        dispatch_by=402,
        signed_at=t(10, 26, 15),
        feedback_at=t(10, 26, 16),
        check_sent_at=t(10, 26, 16, 20),
        send_check_by=201,
        checked_at=t(10, 26, 16, 50),
        check_by=101,
        closed_at=t(10, 26, 17, 30),
        close_by=302,
        due_at=t(10, 27, 14, 50),
        close_type="normal",
    ),
]


def history_table(cases: list[dict[str, Any]] | None = None) -> pa.Table:
    rows = []
    for c in cases or CASES:
        row = {k: (v.astimezone(UTC) if isinstance(v, datetime) else v) for k, v in c.items()}
        row["updated_at"] = max(v for v in row.values() if isinstance(v, datetime))
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=FACTS_SCHEMA)


@pytest.fixture
def facts() -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    from civicgrid.evaluation.service import open_facts

    con, relation = open_facts(history_table())
    yield con, relation
    con.close()


@pytest.fixture(autouse=True)
def rank_every_unit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The fixed history is tiny (a unit has 1–7 cases): rank every unit unless a test sets the minimum."""
    from civicgrid.analytics.settings import get_analytics_settings

    monkeypatch.setenv("CIVICGRID_ANALYTICS_RANKING_MIN_CASES", "1")
    get_analytics_settings.cache_clear()
    yield
    get_analytics_settings.cache_clear()
