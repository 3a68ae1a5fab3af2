"""Live facts from the database and the incremental monthly refresh."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from builders import advance, grid_point, make_case, principal  # type: ignore[import-not-found]
from civicgrid.analytics.facts import FACTS_SCHEMA
from civicgrid.analytics.warehouse import live_facts, partition_path, pending_facts, refresh
from civicgrid.models import Case


def at(month: int, day: int, hh: int, mm: int) -> datetime:
    """Local time (+08:00) as aware UTC."""
    return datetime(2026, month, day, hh - 8, mm, tzinfo=UTC)


def full_loop(session: Session, case: Case, month: int, day: int) -> None:
    for (hh, mm), step in zip(
        [(9, 5), (9, 10), (9, 30), (15, 10), (15, 20), (15, 50), (16, 0)],
        [
            ("register", "shiftlead", {}),
            ("dispatch", "dispatcher", {"department_code": "HW"}),
            ("sign", "handler_hw", {}),
            ("feedback", "handler_hw", {"note": "已清运"}),
            ("send_check", "operator", {}),
            ("check", "inspector001", {"passed": True}),
            ("close", "shiftlead", {}),
        ],
        strict=True,
    ):
        advance(session, case, [step], now=at(month, day, hh, mm))


def test_live_facts_stage_actors_and_disposal_minutes(session: Session) -> None:
    case = make_case(
        session,
        category="E0102",
        point=grid_point(session, 0),
        source="inspector",
        reporter="inspector001",
        now=at(3, 2, 9, 0),
    )
    full_loop(session, case, 3, 2)
    table = live_facts(session, Case.id == case.id)
    assert table.schema.equals(FACTS_SCHEMA)
    (row,) = table.to_pylist()
    ids = {u: principal(session, u).user_id for u in ("shiftlead", "dispatcher", "operator", "inspector001")}
    assert (
        row["register_by"],
        row["dispatch_by"],
        row["send_check_by"],
        row["check_by"],
        row["close_by"],
    ) == (ids["shiftlead"], ids["dispatcher"], ids["operator"], ids["inspector001"], ids["shiftlead"])
    assert row["send_verify_by"] is None and row["verify_by"] is None
    assert row["reporter_user_id"] == ids["inspector001"]
    # 09:10 → 15:10 on Monday 2026-03-02: 170 minutes before lunch and 70 after.
    assert row["disposal_wmin"] == 240.0
    assert row["due_at"] == at(3, 2, 15, 10)  # 4wh from 09:10
    assert row["close_type"] == "normal"  # fed back exactly at the due time (closing later does not count)
    assert (row["state"], row["department_code"], row["kind"], row["major_code"]) == (
        "closed",
        "HW",
        "E",
        "01",
    )
    assert row["register_due_at"] == at(3, 2, 9, 30) and row["check_due_at"] == at(3, 2, 16, 20)
    assert row["grid_code"] == grid_point(session, 0).grid_code and row["street_code"] == row["grid_code"][:9]


def test_incremental_refresh_rewrites_only_changed_months(session: Session, tmp_path: Path) -> None:
    jan = make_case(session, category="E0102", point=grid_point(session, 0), now=at(1, 15, 10, 0))
    mar = make_case(session, category="E0102", point=grid_point(session, 1), now=at(3, 2, 9, 0))
    full_loop(session, mar, 3, 2)
    first = refresh(session, tmp_path)
    assert first.months == ["2026-01", "2026-03"] and first.rows == 2
    assert first.watermark == at(3, 2, 16, 0)
    mar_file = partition_path(tmp_path, "2026-03")
    stamp = mar_file.stat().st_mtime_ns
    assert pending_facts(session, tmp_path).num_rows == 0
    assert refresh(session, tmp_path).months == []

    advance(session, jan, [("register", "shiftlead", {})], now=at(4, 1, 9, 0))
    assert pending_facts(session, tmp_path)["id"].to_pylist() == [jan.id]
    second = refresh(session, tmp_path)
    assert second.months == ["2026-01"] and second.rows == 1
    assert mar_file.stat().st_mtime_ns == stamp
    assert pq.read_table(partition_path(tmp_path, "2026-01"))["state"].to_pylist() == ["registered"]
