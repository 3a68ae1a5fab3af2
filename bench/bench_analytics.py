"""Benchmark the analytics warehouse: generation, dashboard, an evaluation-like month, naive baselines.

Run: .venv/bin/python bench/bench_analytics.py [--sizes 1000000,10000000] [--cache var/bench]

Generated partitions are cached under var/bench/facts-<N>/ (re-runs skip generation). Queries are timed in a
separate serving process (DuckDB, threads and memory capped by the analytics settings) whose peak RSS is
reported. Baselines at 1 M (pandas is not installed): plain Python loops over the Arrow columns, and
SQLite with the same aggregates as GROUP BY queries on a file database. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.dataset as ds

END = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
DIMS = ("category_code", "source", "street_code", "community_code", "grid_code", "department_code")


def generate(root: Path, n: int, seed: int) -> float | None:
    """Generate ``n`` cases under ``root`` unless cached; return seconds taken (None when cached)."""
    from civicgrid.demo.generate import generate as gen

    marker = root / "bench.json"
    if marker.exists() and json.loads(marker.read_text()) == {
        "cases": n,
        "seed": seed,
        "end": END.isoformat(),
    }:
        return None
    start = time.perf_counter()
    gen(root, n, months=24, seed=seed, end=END)
    took = time.perf_counter() - start
    marker.write_text(json.dumps({"cases": n, "seed": seed, "end": END.isoformat()}))
    return took


def serve(root: Path) -> dict[str, float]:
    """In the serving process: time the dashboard (cold and warm), the unit month, hotspots and spikes."""
    from civicgrid.analytics import duck, queries
    from civicgrid.demo.universe import demo_universe

    uni = demo_universe()
    con = duck.connect(root)
    duck.register_grids(con, list(uni.grid_codes), list(uni.grid_lng), list(uni.grid_lat))
    out: dict[str, float] = {}
    start = time.perf_counter()
    queries.dashboard(con, period="month", now=END)
    out["dashboard_cold"] = time.perf_counter() - start
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        queries.dashboard(con, period="month", now=END)
        runs.append(time.perf_counter() - start)
    out["dashboard_warm"] = sorted(runs)[len(runs) // 2]
    start = time.perf_counter()
    queries.dashboard(con, period="year", now=END)
    out["dashboard_year"] = time.perf_counter() - start
    start = time.perf_counter()
    rows = queries.unit_month(con, "2026-10")
    out["unit_month"] = time.perf_counter() - start
    out["unit_rows"] = len(rows)
    start = time.perf_counter()
    queries.hotspots(con, level="h3", now=END)
    queries.hotspots(con, level="grid", now=END)
    queries.recurring(con, now=END)
    queries.spikes(con, now=END)
    out["hotspots_recurring_spikes"] = time.perf_counter() - start
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def naive_python(root: Path) -> float:
    """The dashboard's period breakdowns with plain Python loops over the columns (what a script would do)."""
    start = time.perf_counter()
    cols = [
        "received_at",
        "registered_at",
        "dispatched_at",
        "feedback_at",
        "due_at",
        "closed_at",
        "close_type",
        "state",
        "held",
        *DIMS,
    ]
    table = ds.dataset(root / "facts", format="parquet", partitioning="hive").to_table(columns=cols)
    data = {c: table[c].to_pylist() for c in cols}
    lo = END - timedelta(days=30)
    counts: dict[str, Counter[object]] = {d: Counter() for d in DIMS}
    on_time: dict[str, Counter[object]] = {d: Counter() for d in DIMS}
    open_now = overdue = 0
    for i, rec in enumerate(data["received_at"]):
        if data["state"][i] not in ("closed", "voided", "merged"):
            open_now += 1
            due = data["due_at"][i]
            if due is not None and due < END and not data["held"][i] and data["dispatched_at"][i] is not None:
                overdue += 1
        if not lo <= rec < END:
            continue
        fb, due = data["feedback_at"][i], data["due_at"][i]
        ok = fb is not None and (due is None or fb <= due)
        for d in DIMS:
            counts[d][data[d][i]] += 1
            on_time[d][data[d][i]] += ok
    return time.perf_counter() - start


def naive_sqlite(root: Path, db: Path) -> tuple[float, float]:
    """Load the columns into SQLite once (cached), then run the same breakdowns as GROUP BY queries."""
    build = 0.0
    if not db.exists():
        start = time.perf_counter()
        table = ds.dataset(root / "facts", format="parquet", partitioning="hive").to_table()
        con = sqlite3.connect(db)
        con.execute(
            "CREATE TABLE facts (received_at INT, feedback_at INT, due_at INT, closed_at INT,"
            " close_type TEXT,"
            " state TEXT, held INT, category_code TEXT, source TEXT, street_code TEXT, community_code TEXT,"
            " grid_code TEXT, department_code TEXT)"
        )
        names = ["received_at", "feedback_at", "due_at", "closed_at", "close_type", "state", "held", *DIMS]
        for batch in table.select(names).to_batches(100_000):
            cols = [batch.column(i).to_pylist() for i in range(len(names))]
            for j in range(4):
                cols[j] = [None if v is None else int(v.timestamp()) for v in cols[j]]
            con.executemany(
                f"INSERT INTO facts VALUES ({','.join('?' * len(names))})", zip(*cols, strict=True)
            )
        con.execute("CREATE INDEX ix_received ON facts(received_at)")
        con.execute("CREATE INDEX ix_state ON facts(state)")
        con.commit()
        con.close()
        build = time.perf_counter() - start
    con = sqlite3.connect(db)
    lo, hi = int((END - timedelta(days=30)).timestamp()), int(END.timestamp())
    start = time.perf_counter()
    for d in DIMS:
        con.execute(
            f"SELECT {d}, count(*),"
            " sum(feedback_at IS NOT NULL AND (due_at IS NULL OR feedback_at <= due_at)),"
            " count(closed_at), sum(close_type = 'normal') FROM facts"
            " WHERE received_at >= ? AND received_at < ?"
            f" GROUP BY {d}",
            (lo, hi),
        ).fetchall()
    con.execute(
        "SELECT department_code, count(*), sum(due_at < ? AND NOT held) FROM facts"
        " WHERE state NOT IN ('closed','voided','merged') GROUP BY department_code",
        (hi,),
    ).fetchall()
    con.execute(
        "SELECT (received_at + 28800) / 86400, count(*), count(closed_at) FROM facts WHERE received_at >= ?"
        " GROUP BY 1",
        (hi - 366 * 86400,),
    ).fetchall()
    took = time.perf_counter() - start
    con.close()
    return took, build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--cache", type=Path, default=Path("var/bench"))
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        print(json.dumps(serve(args.serve)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    from civicgrid.analytics.settings import get_analytics_settings

    cfg = get_analytics_settings()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"DuckDB threads {cfg.duckdb_threads}, memory_limit {cfg.duckdb_memory_limit}"
    )
    results: dict[int, dict[str, float]] = {}
    gen_times: dict[int, float | None] = {}
    for n in sizes:
        root = args.cache / f"facts-{n}"
        gen_times[n] = generate(root, n, args.seed)
        proc = subprocess.run(
            [sys.executable, __file__, "--serve", str(root)], capture_output=True, text=True, check=True
        )
        results[n] = json.loads(proc.stdout.strip().splitlines()[-1])
    baseline_n = min(sizes)
    root = args.cache / f"facts-{baseline_n}"
    py_time = naive_python(root)
    sq_time, sq_build = naive_sqlite(root, args.cache / f"sqlite-{baseline_n}.db")

    def fmt(v: float | None) -> str:
        return "cached" if v is None else f"{v:.3f} s"

    print()
    print("| measure | " + " | ".join(f"{n:,} cases" for n in sizes) + " | target |")
    print("|---|" + "---|" * len(sizes) + "---|")
    print(
        "| generate (demo-history) | " + " | ".join(fmt(gen_times[n]) for n in sizes) + " | ≤ 300 s at 10 M |"
    )
    rows = [
        ("dashboard, full aggregate set, cold", "dashboard_cold", ""),
        ("dashboard, full aggregate set, warm (median of 5)", "dashboard_warm", "≤ 1 s at 10 M"),
        ("dashboard, period=year", "dashboard_year", ""),
        ("evaluation-like month group-by of all units", "unit_month", "≤ 5 s at 10 M"),
        ("hotspots (h3 + grid) + recurring + spikes", "hotspots_recurring_spikes", ""),
    ]
    for label, key, target in rows:
        print(f"| {label} | " + " | ".join(f"{results[n][key]:.3f} s" for n in sizes) + f" | {target} |")
    print(
        "| serving process peak RSS | "
        + " | ".join(f"{results[n]['peak_rss_mib']:.0f} MiB" for n in sizes)
        + " | ≤ 1024 MiB |"
    )
    warm = results[baseline_n]["dashboard_warm"]
    print()
    print(f"Baselines at {baseline_n:,} cases (same breakdowns, 30 days, plus open/overdue and trend):")
    print()
    print("| engine | time | ratio to DuckDB warm |")
    print("|---|---|---|")
    print(f"| DuckDB over Parquet (this warehouse) | {warm:.3f} s | 1× |")
    print(f"| plain Python loops over Arrow columns | {py_time:.3f} s | {py_time / warm:.0f}× |")
    print(
        f"| SQLite file DB, GROUP BY queries (load took {sq_build:.0f} s) | {sq_time:.3f} s "
        f"| {sq_time / warm:.0f}× |"
    )


if __name__ == "__main__":
    main()
