"""Duplicate detection (并案): a new report near an open case of the same category within the category's time
window, or with nearly the same words nearby, is a duplicate of that case."""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.cases.states import INTAKE, OPEN_REGISTERED
from civicgrid.geo.crs import haversine_m
from civicgrid.models import Case, Category

TEXT_SIMILARITY = 0.6  # Jaccard over character bigrams


def bigrams(text: str) -> set[str]:
    t = "".join(ch for ch in text if not ch.isspace() and ch not in "，。！？、,.!?；;：:")
    return {t[i : i + 2] for i in range(len(t) - 1)} or {t}


def similarity(a: str, b: str) -> float:
    x, y = bigrams(a), bigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


def candidates(session: Session, case: Case, radius_m: float, window_h: float) -> list[Case]:
    dlat = radius_m / 111_320.0
    dlng = radius_m / (111_320.0 * max(0.1, math.cos(math.radians(case.lat))))
    since = case.received_at - timedelta(hours=window_h)
    open_states = [s.value for s in (INTAKE | OPEN_REGISTERED)]
    q = select(Case).where(
        Case.id != case.id,
        Case.state.in_(open_states),
        Case.master_case_id.is_(None),
        Case.received_at >= since,
        Case.received_at <= case.received_at,
        Case.lng.between(case.lng - dlng, case.lng + dlng),
        Case.lat.between(case.lat - dlat, case.lat + dlat),
    )
    return list(session.scalars(q))


def find_master(session: Session, case: Case) -> Case | None:
    cat = session.get(Category, case.category_code)
    radius = cat.merge_radius_m if cat else 100.0
    window = cat.merge_window_h if cat else 72.0
    best: tuple[float, Case] | None = None
    for other in candidates(session, case, radius, window):
        dist = float(haversine_m(case.lng, case.lat, other.lng, other.lat))
        if dist > radius:
            continue
        same_category = other.category_code == case.category_code
        if not same_category and similarity(case.description, other.description) < TEXT_SIMILARITY:
            continue
        if best is None or dist < best[0]:
            best = (dist, other)
    return best[1] if best else None
