"""Composite scores (0–100), grades (A–E) and ranks from indicator values and the weights in force. Pure.

A term is a ratio (value × 100), an inverted ratio ((1 − value) × 100, e.g. 返工率, 漏报率) or a volume band
(分值) looked up on the count per month. A term without a denominator in the period (say, an inspector with no
verification to do) is left out and the other weights are scaled up to 100; a unit without any ratio term
(only a volume band, or nothing) gets no score and no grade.
"""

from __future__ import annotations

from dataclasses import dataclass

from civicgrid.evaluation.indicators import UnitResult
from civicgrid.evaluation.weights import WeightsConfig


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


def rank(rows: list[Scored]) -> list[Scored]:
    """Sort by score (best first, unscored last, then key); number them 1, 2, 2, 4 … (ties share a rank)."""
    ordered = sorted(rows, key=lambda r: (r.score is None, -(r.score or 0.0), r.result.key))
    out: list[Scored] = []
    previous: float | None = None
    current = 0
    for position, row in enumerate(ordered, start=1):
        if row.score is None:
            out.append(row)
            continue
        if previous is None or row.score != previous:
            current = position
            previous = row.score
        out.append(Scored(row.result, row.score, row.grade, row.terms, current))
    return out
