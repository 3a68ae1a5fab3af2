"""Glue between the live database and the warehouse queries: a shared DuckDB connection per warehouse root,
a cursor per request with the not-yet-refreshed cases overlaid, and names and grids from the database.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.analytics import duck
from civicgrid.analytics.settings import get_analytics_settings
from civicgrid.analytics.warehouse import partition_keys, pending_facts
from civicgrid.models import Area, Category, GridGeneration

_lock = threading.Lock()
_connections: dict[tuple[str, bool], duckdb.DuckDBPyConnection] = {}


def base_connection(root: Path) -> duckdb.DuckDBPyConnection:
    """One DuckDB connection per warehouse root (rebuilt once the first partition appears)."""
    key = (str(root), bool(partition_keys(root)))
    with _lock:
        con = _connections.get(key)
        if con is None:
            con = duck.connect(root)
            _connections[key] = con
        return con


def _active_generation(session: Session) -> int | None:
    return session.scalar(
        select(GridGeneration.id).where(GridGeneration.active.is_(True)).order_by(GridGeneration.id.desc())
    )


def request_cursor(session: Session, *, with_grids: bool = False) -> duckdb.DuckDBPyConnection:
    """A cursor whose ``facts`` includes cases changed since the last refresh (and ``grids`` if asked)."""
    root = get_analytics_settings().root
    cur = base_connection(root).cursor()
    duck.overlay(cur, pending_facts(session, root))
    if with_grids:
        gen = _active_generation(session)
        rows = session.execute(
            select(Area.code, Area.centroid_lng, Area.centroid_lat)
            .where(Area.generation_id == gen, Area.level == "grid")
            .order_by(Area.code)
        ).all()
        duck.register_grids(cur, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    return cur


def names(session: Session) -> dict[str, str]:
    """Display names of areas (active generation) and categories, by code."""
    gen = _active_generation(session)
    out = {
        code: name
        for code, name in session.execute(select(Area.code, Area.name).where(Area.generation_id == gen))
    }
    out |= {code: name for code, name in session.execute(select(Category.code, Category.name))}
    return out


def grid_geometry(session: Session, codes: list[str]) -> dict[str, dict[str, Any]]:
    gen = _active_generation(session)
    rows = session.execute(
        select(Area.code, Area.geometry).where(
            Area.generation_id == gen, Area.level == "grid", Area.code.in_(codes)
        )
    )
    return {code: geom for code, geom in rows}
