"""Dashboard aggregates, hotspots, recurring locations and spikes, exact on small hand-made facts tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from civicgrid.analytics import duck, queries
from civicgrid.analytics.facts import FACT_COLUMNS, FACTS_SCHEMA
from civicgrid.analytics.spikes import detect_spikes

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
S1, S2 = "320508001", "320508002"
G1, G2 = S1 + "00101", S2 + "00201"


def t(day: int, hour: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


def fact(i: int, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FACT_COLUMNS)
    row.update(
        id=i,
        number=f"N{i}",
        kind="E",
        major_code="01",
        urgent=False,
        held=False,
        rework_count=0,
        return_count=0,
        reopen_count=0,
        extension_count=0,
        report_count=1,
        lng=120.6,
        lat=31.3,
    )
    row.update(kw)
    row["community_code"] = row["grid_code"][:12]
    row["street_code"] = row["grid_code"][:9]
    row["updated_at"] = row["received_at"]
    return row


def table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=FACTS_SCHEMA)


HAND_MADE = [
    fact(
        1,
        category_code="E0102",
        source="inspector",
        grid_code=G1,
        department_code="HW",
        state="closed",
        received_at=t(9, 1),
        registered_at=t(9, 2),
        dispatched_at=t(9, 2),
        due_at=t(9, 6),
        feedback_at=t(9, 4),
        closed_at=t(9, 5),
        close_type="normal",
        rating=5,
        disposal_wmin=100.0,
    ),
    fact(
        2,
        category_code="E0102",
        source="citizen",
        grid_code=G1,
        department_code="HW",
        state="closed",
        received_at=t(8),
        registered_at=t(8, 3),
        dispatched_at=t(8, 3),
        due_at=t(8, 5),
        feedback_at=t(8, 7),
        closed_at=t(8, 8),
        close_type="overdue",
        rating=2,
        rework_count=1,
        disposal_wmin=300.0,
    ),
    fact(
        3,
        category_code="E0505",
        source="hotline",
        grid_code=G2,
        department_code="JJ",
        state="processing",
        received_at=t(7),
        registered_at=t(7, 3),
        dispatched_at=t(7, 3),
        due_at=t(9),
    ),
    fact(
        4,
        category_code="E0505",
        source="citizen",
        grid_code=G2,
        state="voided",
        received_at=t(6),
        voided_at=t(6, 3),
    ),
    fact(
        5,
        category_code="E0102",
        source="inspector",
        grid_code=G1,
        department_code="HW",
        state="closed",
        received_at=datetime(2026, 1, 5, 2, tzinfo=UTC),
        registered_at=datetime(2026, 1, 5, 3, tzinfo=UTC),
        dispatched_at=datetime(2026, 1, 5, 3, tzinfo=UTC),
        feedback_at=datetime(2026, 1, 5, 5, tzinfo=UTC),
        due_at=datetime(2026, 1, 5, 6, tzinfo=UTC),
        closed_at=datetime(2026, 1, 5, 6, tzinfo=UTC),
        close_type="normal",
        disposal_wmin=120.0,
    ),
]


def test_dashboard_week_is_exact() -> None:
    con = duck.connect(facts=table(HAND_MADE))
    d = queries.dashboard(con, period="week", now=NOW)
    assert d["totals"] == {
        "received": 4,
        "registered": 3,
        "dispatched": 3,
        "disposed": 2,
        "disposed_on_time": 1,
        "due": 3,
        "overdue_open": 1,
        "closed": 2,
        "closed_on_time": 1,
        "voided": 1,
        "merged": 0,
        "rework": 1,
        "rated": 2,
        "satisfied": 1,
        "disposal_rate": 0.6667,
        "on_time_disposal_rate": 0.3333,
        "close_rate": 0.6667,
        "on_time_close_rate": 0.5,
        "rework_rate": 0.5,
        "satisfaction_rate": 0.5,
        "avg_disposal_wmin": 200.0,
    }
    assert [(r["code"], r["received"]) for r in d["by_category"]] == [("E0102", 2), ("E0505", 2)]
    assert [(r["code"], r["received"]) for r in d["by_source"]] == [
        ("citizen", 2),
        ("hotline", 1),
        ("inspector", 1),
    ]
    assert [(r["code"], r["received"], r["closed"]) for r in d["by_street"]] == [(S1, 2, 2), (S2, 2, 0)]
    assert [(r["code"], r["received"]) for r in d["by_grid"]] == [(G1, 2), (G2, 2)]
    assert d["open_now"]["open"] == 1 and d["open_now"]["overdue"] == 1
    assert d["open_now"]["by_department"] == [{"code": "JJ", "open": 1, "overdue": 1, "held": 0}]
    depts = {r["code"]: r for r in d["departments"]}
    assert (depts["HW"]["disposed"], depts["HW"]["disposed_on_time"], depts["HW"]["open_now"]) == (2, 1, 0)
    assert (depts["JJ"]["dispatched"], depts["JJ"]["disposed"], depts["JJ"]["overdue_now"]) == (1, 0, 1)
    monthly = {m["start"]: m for m in d["trend"]["monthly"]}
    assert (
        monthly["2026-03-01"]["received"],
        monthly["2026-01-01"]["received"],
        monthly["2026-02-01"]["received"],
    ) == (4, 1, 0)
    # March: case 1 on time, case 2 late, case 3 overdue and undisposed (超时未处置 is in 应处置): 1 / 3.
    assert (
        monthly["2026-01-01"]["sla_compliance"] == 1.0 and monthly["2026-03-01"]["sla_compliance"] == 0.3333
    )
    daily = {x["start"]: x["received"] for x in d["trend"]["daily"]}
    assert (daily["2026-03-09"], daily["2026-03-08"], daily["2026-03-10"]) == (1, 1, 0)
    weekly = {w["start"]: w["received"] for w in d["trend"]["weekly"]}
    assert (weekly["2026-03-09"], weekly["2026-03-02"]) == (1, 3)
    year = queries.dashboard(con, period="year", now=NOW)
    assert year["totals"]["received"] == 5 and year["totals"]["closed_on_time"] == 2


def test_hotspots_and_recurring() -> None:
    con = duck.connect(facts=table(HAND_MADE))
    assert queries.hotspots(con, level="grid", now=NOW, days=7) == [
        {"cell": G1, "count": 2},
        {"cell": G2, "count": 2},
    ]
    duck.register_grids(con, [G1, G2], [120.6, 120.6], [31.3, 31.3], resolution=9)
    (cell,) = queries.hotspots(con, level="h3", now=NOW, days=7)
    assert cell["count"] == 4 and len(cell["cell"]) == 15
    geo = queries.hotspots_geojson([cell], level="h3")
    assert geo["features"][0]["geometry"]["type"] == "Polygon"
    assert len(geo["features"][0]["geometry"]["coordinates"][0]) == 7
    rec = queries.recurring(con, now=NOW, days=7, min_count=2)
    assert [(r["grid_code"], r["category_code"], r["count"]) for r in rec] == [
        (G1, "E0102", 2),
        (G2, "E0505", 2),
    ]
    assert queries.recurring(con, now=NOW, days=7, min_count=3) == []


def test_detect_spikes_on_a_constructed_series() -> None:
    weekly = [(S1, "E0404", 0, 12)] + [(S1, "E0404", w, 2 + w % 2) for w in range(1, 9)]
    weekly += [(S1, "E0102", 0, 12)] + [(S1, "E0102", w, 10) for w in range(1, 9)]
    weekly += [(S2, "E0111", 0, 9), (S2, "E0505", 0, 5)]
    found = detect_spikes(
        weekly, min_count=8, ratio=3.0, z=3.0, names={S1: "平江街道", "E0404": "下水道堵塞"}
    )
    assert [(s.street_code, s.category_code, s.count) for s in found] == [(S2, "E0111", 9), (S1, "E0404", 12)]
    first = found[1]
    assert (first.baseline_mean, first.ratio) == (2.5, 4.8)
    assert (
        first.text
        == "平江街道「下水道堵塞」近 7 天 12 件，是前 8 周周均 2.5 件的 4.8 倍（z = 6.0），请关注。"
    )
    assert found[0].ratio is None and found[0].z == 9.0 and "前 8 周没有此类案件" in found[0].text


def test_spikes_from_facts() -> None:
    rows = [
        fact(
            i,
            category_code="E0404",
            source="citizen",
            grid_code=G1,
            state="received",
            received_at=NOW - timedelta(days=1, hours=i),
        )
        for i in range(1, 11)
    ]
    rows += [
        fact(
            100 + w,
            category_code="E0404",
            source="citizen",
            grid_code=G1,
            state="closed",
            received_at=NOW - timedelta(weeks=w, days=1),
        )
        for w in range(1, 9)
    ]
    alerts = queries.spikes(
        duck.connect(facts=table(rows)), now=NOW, names={S1: "平江街道", "E0404": "下水道堵塞"}
    )
    assert [(a["street_code"], a["category_code"], a["count"], a["baseline_mean"]) for a in alerts] == [
        (S1, "E0404", 10, 1.0)
    ]


def test_cached_rollups_equal_direct_queries(tmp_path: Any) -> None:
    from civicgrid.analytics.warehouse import write_partition
    from civicgrid.demo.generate import iter_months

    end = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    parts = list(iter_months(20_000, months=4, seed=3, end=end))
    for key, part in parts:
        write_partition(tmp_path, key, part)
    everything = pa.concat_tables(p for _, p in parts)
    direct = queries.dashboard(duck.connect(facts=everything), period="quarter", now=end)
    stored = duck.connect(tmp_path)
    assert queries.dashboard(stored, period="quarter", now=end) == direct  # builds the rollups
    assert queries.dashboard(stored.cursor(), period="quarter", now=end) == direct  # reuses them
    # A live row overlaid on a cursor replaces its stored copy; that month is computed afresh.
    live = everything.slice(everything.num_rows - 1, 1)
    live = live.set_column(live.schema.get_field_index("state"), "state", pa.array(["processing"]))
    cur = stored.cursor()
    duck.overlay(cur, live)
    overlaid = queries.dashboard(cur, period="quarter", now=end)
    expected = queries.dashboard(
        duck.connect(facts=pa.concat_tables([everything.slice(0, everything.num_rows - 1), live])),
        period="quarter",
        now=end,
    )
    assert overlaid == expected
