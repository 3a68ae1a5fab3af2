"""Evaluation against the live database: facts from the warehouse's ``live_facts``, names and inspector
coverage from the organisation tables. The only module of this domain that reads the database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.evaluation.catalog import AREA_UNITS, PEOPLE_UNITS
from civicgrid.evaluation.period import Period
from civicgrid.evaluation.report import MonthlyReport, build_monthly
from civicgrid.evaluation.service import Evaluation, evaluate, open_facts
from civicgrid.evaluation.weights import WeightsConfig
from civicgrid.models import Area, Department, User, UserGrid, UserRole


def facts_table(session: Session) -> pa.Table:
    from civicgrid.analytics.warehouse import live_facts

    return live_facts(session)


def unit_names(session: Session, unit: str) -> dict[str, str]:
    """Display names of a unit's keys: department names, area names, people's display names."""
    if unit == "department":
        return dict(session.execute(select(Department.code, Department.name)).all())
    if unit in AREA_UNITS:
        rows = session.execute(select(Area.code, Area.name).where(Area.level == unit)).all()
        return dict(rows)
    if unit in PEOPLE_UNITS:
        return {str(i): n for i, n in session.execute(select(User.id, User.display_name)).all()}
    if unit == "district":
        return {"全区": "全区"}
    return {}


def inspector_coverage(session: Session) -> list[tuple[int, str]]:
    """(inspector user id, grid/community/street code) of every inspector's patrol area."""
    q = (
        select(UserGrid.user_id, UserGrid.grid_code)
        .join(UserRole, UserRole.user_id == UserGrid.user_id)
        .where(UserRole.role == "inspector")
        .order_by(UserGrid.user_id, UserGrid.grid_code)
    )
    return [(int(u), str(c)) for u, c in session.execute(q).all()]


def evaluate_live(
    session: Session,
    period: Period,
    unit: str,
    *,
    weights: WeightsConfig | None = None,
    as_of: datetime | None = None,
    facts: pa.Table | None = None,
    parquet: Path | None = None,
) -> Evaluation:
    """Evaluate the live facts (or given facts / Parquet partitions), with database names."""
    con, relation = open_facts(
        facts if facts is not None or parquet is not None else facts_table(session), parquet
    )
    try:
        return evaluate(
            con,
            relation,
            period,
            unit,
            weights=weights,
            as_of=as_of,
            names=unit_names(session, unit),
            coverage=inspector_coverage(session) if unit == "inspector" else None,
        )
    finally:
        con.close()


def monthly_live(
    session: Session,
    period: Period,
    *,
    weights: WeightsConfig | None = None,
    as_of: datetime | None = None,
    facts: pa.Table | None = None,
    parquet: Path | None = None,
) -> MonthlyReport:
    """The monthly report over the live facts (or given facts / Parquet partitions), with database names."""
    con, relation = open_facts(
        facts if facts is not None or parquet is not None else facts_table(session), parquet
    )
    cache: dict[str, dict[str, str]] = {}

    def names(unit: str) -> dict[str, str]:
        if unit not in cache:
            cache[unit] = unit_names(session, unit)
        return cache[unit]

    try:
        return build_monthly(
            con,
            relation,
            period,
            names=names,
            weights=weights,
            as_of=as_of,
            coverage=inspector_coverage(session),
        )
    finally:
        con.close()
