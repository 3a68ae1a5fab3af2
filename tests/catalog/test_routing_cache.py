"""Routing from the process cache (catalog/routing.py) answers as the database does, and sees edits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.catalog import routing
from civicgrid.models import Area, Category, Department, RoutingRule


def _places(session: Session) -> list[tuple[str, str, str]]:
    grids = session.scalars(select(Area.code).where(Area.level == "grid").order_by(Area.code)).all()
    picked = grids[:: max(1, len(grids) // 40)]
    return [(g, g[:12], g[:9]) for g in picked] + [("", "", "320508999")]


def _both(session: Session, cat: Category, place: tuple[str, str, str]) -> tuple[object, object]:
    g, c, s = place
    cached = routing.route(session, cat, grid_code=g, community_code=c, street_code=s)
    direct = routing._route_from_database(session, cat, grid_code=g, community_code=c, street_code=s)
    return cached, direct


def test_cached_routing_answers_as_the_database(session: Session) -> None:
    places = _places(session)
    cats = session.scalars(select(Category).order_by(Category.code)).all()
    assert cats and places
    for cat in cats:
        for place in places:
            cached, direct = _both(session, cat, place)
            assert cached is direct, (cat.code, place)


def test_an_edit_of_the_rules_is_seen_at_once(session: Session) -> None:
    cat = session.scalars(select(Category).order_by(Category.code)).first()
    assert cat is not None
    grid = session.scalars(select(Area.code).where(Area.level == "grid").order_by(Area.code)).first()
    assert grid is not None
    place = (grid, grid[:12], grid[:9])
    before, _ = _both(session, cat, place)
    other = session.scalars(select(Department).where(Department.id != getattr(before, "id", None))).first()
    assert other is not None
    rule = RoutingRule(category_code=cat.code, area_code=grid, department_id=other.id)
    session.add(rule)
    session.flush()  # the INSERT empties the process cache (refcache.py)
    assert _both(session, cat, place) == (other, other)
    session.delete(rule)
    session.flush()
    assert _both(session, cat, place) == (before, before)
