"""Storing a grid generation: from the demo plan or from imported grid records. Each import is a new
generation; activating it leaves old cases pointing at the generation they were located against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from shapely import unary_union
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from civicgrid.geo import service
from civicgrid.geo.crs import area_m2
from civicgrid.geo.grid_import import GridRecord
from civicgrid.geo.plan import DistrictPlan
from civicgrid.models import Area, GridGeneration, Road


def _table(model: type[Area] | type[Road]) -> Table:
    """The model's table, for plain bulk inserts (thousands of rows; no ORM objects needed)."""
    return cast(Table, model.__table__)


def _area_row(
    gen_id: int,
    level: str,
    code: str,
    name: str,
    parent: str | None,
    geom: BaseGeometry,
    m2: float | None = None,
) -> dict[str, object]:
    c = geom.centroid
    return {
        "generation_id": gen_id,
        "level": level,
        "code": code,
        "name": name,
        "parent_code": parent,
        "geometry": mapping(geom),
        "area_m2": m2 if m2 is not None else area_m2(geom),
        "centroid_lng": c.x,
        "centroid_lat": c.y,
    }


def _new_generation(
    session: Session, name: str, grid_digits: int, activate: bool, note: str = ""
) -> GridGeneration:
    if activate:
        session.execute(update(GridGeneration).values(active=False))
    gen = GridGeneration(name=name, grid_digits=grid_digits, active=activate, note=note)
    session.add(gen)
    session.flush()
    if activate:
        service.invalidate()
    return gen


def store_plan(
    session: Session, plan: DistrictPlan, name: str = "示范区网格（生成）", activate: bool = True
) -> GridGeneration:
    gen = _new_generation(session, name, plan.grid_digits, activate, note="generated demo geometry")
    rows = []
    for level, areas in (
        ("district", (plan.district,)),
        ("street", plan.streets),
        ("community", plan.communities),
        ("grid", plan.grids),
    ):
        for a in areas:
            rows.append(_area_row(gen.id, level, a.code, a.name, a.parent_code, a.geometry))
    session.execute(_table(Area).insert(), rows)
    session.execute(
        _table(Road).insert(),
        [
            {
                "generation_id": gen.id,
                "name": r.name,
                "geometry": mapping(r.geometry),
                "community_codes": list(r.community_codes),
            }
            for r in plan.roads
        ],
    )
    return gen


def store_import(
    session: Session,
    grids: Sequence[GridRecord],
    *,
    name: str,
    grid_digits: int,
    district_name: str = "",
    activate: bool = True,
) -> GridGeneration:
    """Store imported grids; streets, communities and the district are the unions of their grids."""
    gen = _new_generation(session, name, grid_digits, activate, note="imported")
    rows = []
    by_comm: dict[str, list[GridRecord]] = {}
    by_street: dict[str, list[GridRecord]] = {}
    for g in grids:
        by_comm.setdefault(g.community_code, []).append(g)
        by_street.setdefault(g.street_code, []).append(g)
        rows.append(
            _area_row(gen.id, "grid", g.code, g.name or g.code, g.community_code, g.geometry, g.area_m2)
        )
    for code, members in by_comm.items():
        name_ = next((m.community_name for m in members if m.community_name), code)
        rows.append(
            _area_row(
                gen.id,
                "community",
                code,
                name_,
                members[0].street_code,
                unary_union([m.geometry for m in members]),
            )
        )
    for code, members in by_street.items():
        name_ = next((m.street_name for m in members if m.street_name), code)
        rows.append(
            _area_row(
                gen.id,
                "street",
                code,
                name_,
                members[0].district_code,
                unary_union([m.geometry for m in members]),
            )
        )
    if grids:
        d = grids[0].district_code
        rows.append(
            _area_row(
                gen.id, "district", d, district_name or d, None, unary_union([g.geometry for g in grids])
            )
        )
    session.execute(_table(Area).insert(), rows)
    return gen


def generations(session: Session) -> list[tuple[GridGeneration, int]]:
    """Every grid generation, newest first, with its number of unit grids."""
    n = func.count(Area.id)
    rows = session.execute(
        select(GridGeneration, n)
        .outerjoin(Area, (Area.generation_id == GridGeneration.id) & (Area.level == "grid"))
        .group_by(GridGeneration.id)
        .order_by(GridGeneration.id.desc())
    ).all()
    return [(g, int(k)) for g, k in rows]
