"""Composite scores (0–100), grades (A–E) and ranks from indicator values and the weights in force. Pure.

A term is a ratio (value × 100), an inverted ratio ((1 − value) × 100, e.g. 返工率, 漏报率) or a volume band
(分值) looked up on the count per month. A term without a denominator in the period (say, an inspector with no
verification to do) is left out and the other weights are scaled up to 100; a unit without any ratio term
(only a volume band, or nothing) gets no score and no grade.

Minimum volume: a unit's case count (``VOLUME``: the denominators its score rests on, e.g. 应处置数 for a
department) below ``min_cases`` keeps its score and grade but gets no rank — it is listed apart as
案件量不足，不参与排名, so a unit with 2 cases never tops one with 150.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from civicgrid.evaluation.indicators import UnitResult
from civicgrid.evaluation.weights import WeightsConfig

# The case count of each unit kind for the minimum-volume rule: (label, summed count keys).
VOLUME: dict[str, tuple[str, tuple[str, ...]]] = {
    "district": ("应处置数", ("due",)),
    "department": ("应处置数", ("due",)),
    "street": ("应结案数", ("should_close",)),
    "community": ("应结案数", ("should_close",)),
    "grid": ("应结案数", ("should_close",)),
    "inspector": ("上报、核实、核查数", ("insp_reports", "verified", "checked")),
    "operator": ("受理数", ("accepted",)),
    "shift_lead": ("立案、结案数", ("registered", "closes")),
    "dispatcher": ("应派遣数", ("dispatched",)),
}


def volume_of(result: UnitResult, unit: str) -> int:
    """The unit's case count for the minimum-volume rule."""
    return sum(int(result.counts.get(k, 0)) for k in VOLUME.get(unit, VOLUME["department"])[1])


@dataclass(frozen=True)
class TermScore:
    name: str  # indicator or count key
    weight: float
    score: float | None  # 0–100


@dataclass(frozen=True)
class Scored:
    result: UnitResult
    score: float | None
    grade: str | None
    terms: tuple[TermScore, ...]
    rank: int | None = None
    volume: int = 0
    low_volume: bool = False  # under the minimum: not ranked


def score_unit(result: UnitResult, unit: str, cfg: WeightsConfig, months: int = 1) -> Scored:
    weights = cfg.units["department" if unit == "district" else unit]
    terms: list[TermScore] = []
    for term in weights.terms:
        if term.indicator is not None:
            value = result.indicators.get(term.indicator)
            score = None if value is None else (1 - value if term.invert else value) * 100
            terms.append(TermScore(term.indicator, term.weight, score))
        else:
            assert term.band is not None and term.count is not None  # validated
            per_month = round(result.counts.get(term.count, 0) / max(1, months))
            terms.append(TermScore(term.count, term.weight, cfg.bands[term.band].score(per_month)))
    known = [t for t in terms if t.score is not None]
    total_weight = sum(t.weight for t in known)
    ratio_known = any(t.score is not None and t.name not in result.counts for t in terms)
    if not ratio_known or total_weight <= 0:
        return Scored(result, None, None, tuple(terms))
    value = round(sum(t.weight * (t.score or 0.0) for t in known) / total_weight, 2)
    return Scored(result, value, cfg.grade_of(value), tuple(terms))


def rank(rows: list[Scored], unit: str = "department", min_cases: int = 1) -> list[Scored]:
    """Sort by score (best first), number them 1, 2, 2, 4 … (ties share a rank); then the units under
    ``min_cases`` (best first, no rank), then the unscored (by key)."""
    marked = [
        replace(r, volume=(v := volume_of(r.result, unit)), low_volume=r.score is not None and v < min_cases)
        for r in rows
    ]
    ordered = sorted(
        marked,
        key=lambda r: (r.score is None, r.low_volume, -(r.score or 0.0), -r.volume, r.result.key),
    )
    out: list[Scored] = []
    previous: float | None = None
    current = 0
    position = 0
    for row in ordered:
        if row.score is None or row.low_volume:
            out.append(row)
            continue
        position += 1
        if previous is None or row.score != previous:
            current = position
            previous = row.score
        out.append(replace(row, rank=current))
    return out
