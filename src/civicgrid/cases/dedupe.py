"""Duplicate detection (并案): a new report near an open case of the same category within the category's time
window, or with nearly the same words nearby, is a duplicate of that case."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from civicgrid.cases.states import INTAKE, OPEN, OPEN_REGISTERED
from civicgrid.geo.crs import haversine_m
from civicgrid.models import Case, Category

TEXT_SIMILARITY = 0.6  # Jaccard over character bigrams


def bigrams(text: str) -> set[str]:
    t = "".join(ch for ch in text if not ch.isspace() and ch not in "，。！？、,.!?；;：:")
    return {t[i : i + 2] for i in range(len(t) - 1)} or {t}


def similarity(a: str, b: str) -> float:
    x, y = bigrams(a), bigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


_OPEN = [s.value for s in (INTAKE | OPEN_REGISTERED)]
# Built once with bound parameters: this runs on every report, and building the expression costs more than
# running it.
_NEARBY = (
    Case.id != bindparam("case_id"),
    Case.state.in_(_OPEN),
    Case.master_case_id.is_(None),
    Case.received_at >= bindparam("since"),
    Case.received_at <= bindparam("until"),
    Case.lng.between(bindparam("lng0"), bindparam("lng1")),
    Case.lat.between(bindparam("lat0"), bindparam("lat1")),
)
_CANDIDATES = select(Case).where(*_NEARBY)
_CANDIDATE_ROWS = select(Case.id, Case.lng, Case.lat, Case.category_code, Case.description).where(*_NEARBY)


def _nearby(case: Case, radius_m: float, window_h: float) -> dict[str, Any]:
    """Parameters for open master cases received within the window before ``case`` and inside its box."""
    dlat = radius_m / 111_320.0
    dlng = radius_m / (111_320.0 * max(0.1, math.cos(math.radians(case.lat))))
    return {
        "case_id": case.id,
        "since": case.received_at - timedelta(hours=window_h),
        "until": case.received_at,
        "lng0": case.lng - dlng,
        "lng1": case.lng + dlng,
        "lat0": case.lat - dlat,
        "lat1": case.lat + dlat,
    }


def candidates(session: Session, case: Case, radius_m: float, window_h: float) -> list[Case]:
    return list(session.scalars(_CANDIDATES, _nearby(case, radius_m, window_h)))


def find_master(session: Session, case: Case) -> Case | None:
    cat = session.get(Category, case.category_code)
    radius = cat.merge_radius_m if cat else 100.0
    window = cat.merge_window_h if cat else 72.0
    # Plain rows: this runs on every report, and only the chosen master needs to be a full case.
    rows = session.execute(_CANDIDATE_ROWS, _nearby(case, radius, window))
    best: tuple[float, int] | None = None
    for other_id, lng, lat, category_code, description in rows:
        dist = float(haversine_m(case.lng, case.lat, lng, lat))
        if dist > radius:
            continue
        same_category = category_code == case.category_code
        if not same_category and similarity(case.description, description) < TEXT_SIMILARITY:
            continue
        if best is None or dist < best[0]:
            best = (dist, other_id)
    return session.get(Case, best[1]) if best else None


def duplicate_candidates(session: Session, case: Case) -> list[dict[str, Any]]:
    """Open cases near this one (within the category's merge radius and window), nearest first."""
    if case.state not in {s.value for s in OPEN}:
        return []
    cat = session.get(Category, case.category_code)
    radius = cat.merge_radius_m if cat else 100.0
    window = cat.merge_window_h if cat else 72.0
    out = []
    for other in candidates(session, case, radius * 2, window):
        dist = float(haversine_m(case.lng, case.lat, other.lng, other.lat))
        if dist > radius * 2:
            continue
        out.append(
            {
                "case": other,
                "distance": round(dist),
                "same_category": other.category_code == case.category_code,
                "similarity": round(similarity(case.description, other.description), 2),
            }
        )
    return sorted(out, key=lambda d: (not d["same_category"], d["distance"]))[:5]
