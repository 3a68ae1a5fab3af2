"""Per-partition rollups that make the dashboard's warm path cheap.

For each month partition the connection keeps two small in-memory tables, built on first use and rebuilt
when the partition file changes (its size and mtime are in the table name):

- ``daily``: the dashboard measures per local day and per value of each low-cardinality dimension (category,
  source, street, community, department) plus the day's total: a few thousand rows a month;
- ``open``: the cases of that month still open (id, state, due_at, held, department, street).

Months that hold rows of the live overlay (``duck.overlay``), and connections over in-memory rows, are
computed from ``facts`` on every call instead, so the answer is always the same as a direct query.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

ROLLUP_DIMS = ("category_code", "source", "street_code", "community_code", "department_code")
FINAL = "('closed', 'voided', 'merged')"
# The case counts every aggregate carries, then the working-minute sums for averages.
COUNT_KEYS = (
    "received",
    "registered",
    "dispatched",
    "disposed",
    "disposed_on_time",
    "closed",
    "closed_on_time",
    "voided",
    "merged",
    "rework",
    "rated",
    "satisfied",
)
MEASURE_NAMES = (*COUNT_KEYS, "wmin_sum", "wmin_n")


def _daily_sql(measures: str, offset_s: int, where: str) -> str:
    sets = ", ".join(f"(d, {dim})" for dim in ROLLUP_DIMS)
    dim_case = " ".join(f"WHEN GROUPING({dim}) = 0 THEN '{dim}'" for dim in ROLLUP_DIMS)
    key_case = " ".join(f"WHEN GROUPING({dim}) = 0 THEN {dim}" for dim in ROLLUP_DIMS)
    return (
        f"SELECT d, CASE {dim_case} ELSE 'total' END AS dim, CASE {key_case} END AS key, {measures} "
        f"FROM (SELECT *, CAST((epoch(received_at)::BIGINT + {offset_s}) // 86400 AS INTEGER) AS d "
        "FROM facts "
        f"WHERE {where}) GROUP BY GROUPING SETS ({sets}, (d))"
    )


def _open_sql(where: str) -> str:
    return (
        "SELECT id, state, due_at, held, department_code, street_code FROM facts "
        f"WHERE {where} AND state NOT IN {FINAL}"
    )


def _stamp(root: str, month: str, offset_s: int) -> str | None:
    path = Path(root) / "facts" / f"month={month}" / "part.parquet"
    try:
        st = path.stat()
    except OSError:
        return None
    raw = f"{path}:{st.st_size}:{st.st_mtime_ns}:{offset_s}".encode()
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:16]


def _root(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT root FROM analytics_meta").fetchone()
    return row[0] if row and row[0] else None


def live_months(con: duckdb.DuckDBPyConnection) -> set[str]:
    try:
        return {r[0] for r in con.execute("SELECT DISTINCT month FROM facts_live").fetchall()}
    except duckdb.CatalogException:
        return set()


def month_sources(
    con: duckdb.DuckDBPyConnection, months: list[str], measures: str, offset_s: int
) -> tuple[list[str], list[str]]:
    """SQL for the ``daily`` and ``open`` rows of ``months``: cached tables where possible, else queries."""
    root = _root(con)
    live = live_months(con)
    daily: list[str] = []
    opened: list[str] = []
    fresh: list[str] = []
    for month in months:
        stamp = _stamp(root, month, offset_s) if root and month not in live else None
        if stamp is None:
            fresh.append(month)
            continue
        d_name, o_name = f"rollup_daily_{stamp}", f"rollup_open_{stamp}"
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'", [d_name]
        ).fetchone()
        if not exists or not exists[0]:
            where = f"month = '{month}'"
            # Another cursor may build the same month at once: IF NOT EXISTS keeps the first.
            con.execute(f"CREATE TABLE IF NOT EXISTS {d_name} AS {_daily_sql(measures, offset_s, where)}")
            con.execute(f"CREATE TABLE IF NOT EXISTS {o_name} AS {_open_sql(where)}")
        daily.append(f"SELECT * FROM {d_name}")
        opened.append(f"SELECT * FROM {o_name}")
    if fresh:
        where = "month IN (" + ", ".join(f"'{m}'" for m in fresh) + ")"
        daily.append(_daily_sql(measures, offset_s, where))
        opened.append(_open_sql(where))
    return daily, opened


def all_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every month present: the partition folders (no data read) plus the live rows' months."""
    root = _root(con)
    if root is None:
        return [r[0] for r in con.execute("SELECT DISTINCT month FROM facts ORDER BY 1").fetchall()]
    folder = Path(root) / "facts"
    stored = {p.parent.name.split("=", 1)[1] for p in folder.glob("month=*/part.parquet")}
    return sorted(stored | live_months(con))


def empty_daily_sql(measures: str, offset_s: int) -> str:
    return _daily_sql(measures, offset_s, "false")


def empty_open_sql() -> str:
    return _open_sql("false")
