"""DuckDB over the facts partitions: a connection with capped threads and memory, and the ``facts`` view.

``facts`` reads ``<root>/facts/month=*/part.parquet`` with hive partitioning (a ``month`` column,
``YYYY-MM``, which prunes whole files when filtered). With ``live`` (facts rows of cases changed since
the last refresh, see ``warehouse.pending_facts``), ``overlay`` makes a connection-local ``facts`` that
shows those rows instead of their stale copies (use one cursor per request on a shared connection). A
small ``grids`` table (grid_code → H3 cell of the grid's centroid) is registered by ``register_grids``
for hex hotspots.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import duckdb
import h3
import pyarrow as pa
import pyarrow.compute as pc

from civicgrid.analytics.facts import FACTS_SCHEMA
from civicgrid.analytics.settings import get_analytics_settings
from civicgrid.analytics.warehouse import month_key, partition_keys


def connect(
    root: Path | None = None,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    live: pa.Table | None = None,
    facts: pa.Table | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a ``facts`` view over the partitions under ``root`` (or ``facts`` rows)."""
    cfg = get_analytics_settings()
    con = duckdb.connect(
        ":memory:",
        config={
            "threads": threads or cfg.duckdb_threads,
            "memory_limit": memory_limit or cfg.duckdb_memory_limit,
            "enable_object_cache": True,
        },
    )
    root = root or cfg.root
    con.execute("CREATE TABLE analytics_meta (root VARCHAR)")
    con.execute("INSERT INTO analytics_meta VALUES (?)", [None if facts is not None else str(root)])
    if facts is not None:
        con.register("facts_arrow", _with_month(facts))
        con.execute("CREATE TABLE facts_stored AS SELECT * FROM facts_arrow")
        con.unregister("facts_arrow")
        con.execute("CREATE VIEW facts AS SELECT * FROM facts_stored")
        return con
    if partition_keys(root):
        pattern = str(root / "facts" / "month=*" / "part.parquet").replace("'", "''")
        source = f"read_parquet('{pattern}', hive_partitioning = true, hive_types = {{'month': VARCHAR}})"
    else:
        # A real (empty) table, not a registered Arrow object, so that every cursor sees it.
        con.register("facts_arrow", _with_month(FACTS_SCHEMA.empty_table()))
        con.execute("CREATE TABLE facts_empty AS SELECT * FROM facts_arrow")
        con.unregister("facts_arrow")
        source = "facts_empty"
    con.execute(f"CREATE VIEW facts_stored AS SELECT * FROM {source}")
    con.execute("CREATE VIEW facts AS SELECT * FROM facts_stored")
    if live is not None:
        overlay(con, live)
    return con


def overlay(con: duckdb.DuckDBPyConnection, live: pa.Table) -> None:
    """Make ``facts`` on this connection (or cursor) show ``live`` rows in place of their stored copies."""
    if not live.num_rows:
        return
    con.register("facts_live", _with_month(live))
    con.execute(
        "CREATE OR REPLACE TEMP VIEW facts AS SELECT * FROM facts_stored "
        "WHERE id NOT IN (SELECT id FROM facts_live) UNION ALL SELECT * FROM facts_live"
    )


def _with_month(table: pa.Table) -> pa.Table:
    """Add the partition column (local month of ``received_at``) to in-memory rows."""
    if "month" in table.column_names:
        return table
    months = [month_key(t) for t in table["received_at"].to_pylist()]
    return table.append_column("month", pa.array(months, pa.string()))


@functools.lru_cache(maxsize=8)
def _h3_cells(lngs: tuple[float, ...], lats: tuple[float, ...], resolution: int) -> tuple[str, ...]:
    return tuple(h3.latlng_to_cell(lat, lng, resolution) for lng, lat in zip(lngs, lats, strict=True))


def grid_h3_table(
    codes: Sequence[str], lngs: Sequence[float], lats: Sequence[float], resolution: int
) -> pa.Table:
    """grid_code → H3 cell of its centroid, computed once per grid (cached): H3 stays off the rows."""
    cells = _h3_cells(tuple(lngs), tuple(lats), resolution)
    return pa.table({"grid_code": pa.array(list(codes)), "h3": pa.array(list(cells))})


def register_grids(
    con: duckdb.DuckDBPyConnection,
    codes: Sequence[str],
    lngs: Sequence[float],
    lats: Sequence[float],
    resolution: int | None = None,
) -> None:
    res = get_analytics_settings().h3_resolution if resolution is None else resolution
    table = grid_h3_table(codes, lngs, lats, res)
    con.register("grids_h3", table)
    con.execute("CREATE OR REPLACE TEMP VIEW grids AS SELECT * FROM grids_h3")


def months_since(table: pa.Table) -> list[str]:
    """Distinct partition months of some facts rows (helper for tests and callers)."""
    return sorted(set(pc.unique(_with_month(table)["month"]).to_pylist()))
