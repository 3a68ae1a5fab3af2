"""The reference data: loading the shipped departments and categories (idempotently), and reading them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.catalog.seed import load_seed_categories, load_seed_departments
from civicgrid.models import Category, Department


def load_reference_data(session: Session) -> tuple[int, int]:
    """Insert or update departments and categories from the shipped CSV files.
    Returns (departments, categories)."""
    depts = {d.code: d for d in session.scalars(select(Department))}
    seed_depts = load_seed_departments()
    for sd in seed_depts:
        row = depts.get(sd.code) or Department(code=sd.code)
        row.name, row.short_name, row.kind = sd.name, sd.short_name, sd.kind
        session.add(row)
    session.flush()
    cats = {c.code: c for c in session.scalars(select(Category))}
    seed_cats = load_seed_categories()
    for sc in seed_cats:
        cat = cats.get(sc.code) or Category(code=sc.code)
        cat.kind, cat.major_code, cat.major_name, cat.name = sc.kind, sc.major_code, sc.major_name, sc.name
        cat.limit_amount, cat.limit_unit, cat.urgent = float(sc.limit_amount), sc.limit_unit, sc.urgent
        cat.department_code = sc.department_code
        cat.register_condition, cat.close_condition = sc.register_condition, sc.close_condition
        cat.keywords, cat.source = "|".join(sc.keywords), sc.source
        if cat.attributes is None:
            cat.attributes = []
        session.add(cat)
    session.flush()
    return len(seed_depts), len(seed_cats)


def active_categories(session: Session) -> list[Category]:
    """The categories a report may take, by code."""
    return list(session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.code)))


def all_categories(session: Session) -> list[Category]:
    """Every category, active or not, by code (the administrator's list)."""
    return list(session.scalars(select(Category).order_by(Category.code)))
