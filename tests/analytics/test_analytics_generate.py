"""The synthetic history: shape, determinism and the distributions a leader would recognise."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pytest

from civicgrid.analytics.facts import FACTS_SCHEMA
from civicgrid.demo.generate import iter_months, month_plan

END = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def history() -> pa.Table:
    return pa.concat_tables(t for _, t in iter_months(30_000, months=12, seed=7, end=END))


def test_month_plan_sums_and_follows_the_seasons() -> None:
    plan = month_plan(120_000, 12, END)
    assert sum(n for _, _, n in plan) == 120_000
    assert (plan[0][0], plan[0][1], plan[-1][0], plan[-1][1]) == (2025, 12, 2026, 11)
    per_month = {(y, m): n for y, m, n in plan}
    assert per_month[(2026, 7)] > per_month[(2026, 1)]


def test_shape_ids_numbers_and_determinism(history: pa.Table) -> None:
    assert history.schema.equals(FACTS_SCHEMA)
    assert history.num_rows == 30_000
    assert history["id"].to_pylist() == list(range(1, 30_001))
    numbers = history["number"].to_pylist()
    assert len(set(numbers)) == 30_000 and all(len(n) == 17 for n in numbers)
    again = pa.concat_tables(t for _, t in iter_months(30_000, months=12, seed=7, end=END))
    assert again.equals(history)
    other = pa.concat_tables(t for _, t in iter_months(30_000, months=12, seed=8, end=END))
    assert not other.equals(history)


def test_distributions(history: pa.Table) -> None:
    con = duckdb.connect()
    con.register("h", history)

    def one(sql: str) -> float:
        return float(con.execute(sql).fetchone()[0])  # type: ignore[index]

    assert 0.45 < one("SELECT avg((source = 'inspector')::INT) FROM h") < 0.55
    assert 0.85 < one("SELECT avg((state = 'closed')::INT) FROM h") < 0.97
    assert 0.02 < one("SELECT avg((state = 'voided')::INT) FROM h") < 0.08
    # Weekdays busier than weekends (per day), office hours busier than nights (local time).
    wd = one("SELECT avg((isodow(received_at + INTERVAL 8 HOUR) <= 5)::INT) FROM h")
    assert wd > 5 / 7 + 0.03
    night = one("SELECT avg((hour(received_at + INTERVAL 8 HOUR) BETWEEN 1 AND 5)::INT) FROM h")
    assert night < 0.03
    # Hotspots: the busiest 1 % of grids hold far more than 1 % of cases.
    top = one(
        "SELECT sum(n) / 30000 FROM (SELECT count(*) n FROM h GROUP BY grid_code ORDER BY n DESC LIMIT 38)"
    )
    assert top > 0.06
    # Rainy-season waterlogging, winter ice.
    assert one(
        "SELECT count(*) FROM h WHERE category_code = 'E0111' AND month(received_at + INTERVAL 8 HOUR)=7"
    ) > 3 * one(
        "SELECT count(*) FROM h WHERE category_code = 'E0111' AND month(received_at + INTERVAL 8 HOUR) = 1"
    )
    assert (
        one("SELECT count(*) FROM h WHERE category_code = 'E0112' AND month(received_at + INTERVAL 8 HOUR)=7")
        < 5
    )
    # Stage order holds on every row; closed rows carry a close type; disposal minutes are non-negative.
    assert (
        one("""SELECT count(*) FROM h WHERE registered_at < received_at OR dispatched_at < registered_at
               OR feedback_at < dispatched_at OR closed_at < checked_at OR checked_at < check_sent_at""")
        == 0
    )
    assert one("SELECT count(*) FROM h WHERE state = 'closed' AND close_type IS NULL") == 0
    assert one("SELECT min(disposal_wmin) FROM h") >= 0
    assert 0.01 < one("SELECT avg((rework_count > 0)::INT) FROM h WHERE feedback_at IS NOT NULL") < 0.05
    assert 3.5 < one("SELECT avg(rating) FROM h") < 4.6
    assert one("SELECT count(*) FROM h WHERE state = 'merged' AND master_id IS NULL") == 0
    # Nothing happens after the generation time.
    assert one(f"SELECT count(*) FROM h WHERE updated_at > '{END.isoformat()}'::TIMESTAMPTZ") == 0
