"""The monthly report (月度考核通报): rankings (红黑榜), changes from the previous period,
recurring locations.

Pure: takes a DuckDB connection and the facts relation; names come from a callable so the caller decides
(database or shipped data). Rendering lives in ``xlsx.py`` and ``html.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from civicgrid.evaluation.catalog import UNIT_LABELS
from civicgrid.evaluation.indicators import epoch_us, relevant
from civicgrid.evaluation.period import Period
from civicgrid.evaluation.scores import VOLUME
from civicgrid.evaluation.service import Evaluation, EvaluationRow, default_min_cases, evaluate
from civicgrid.evaluation.weights import WeightsConfig, load_weights

REPORT_UNITS = ("department", "street", "community", "inspector", "operator", "shift_lead", "dispatcher")
RANKED_UNITS = ("department", "street")  # 红黑榜
MONTH_TABLE = "_cg_report_facts"

_AREA_INDICATORS = ("close_rate", "close_on_time_rate", "public_report_rate", "disposal_on_time_rate")
# What applies to each unit kind (SPEC §7): its indicators, counts and stage durations — never another kind's.
UNIT_INDICATORS: dict[str, tuple[str, ...]] = {
    "department": (
        "disposal_rate",
        "disposal_on_time_rate",
        "close_rate",
        "close_on_time_rate",
        "rework_rate",
        "overdue_rate",
        "satisfaction_rate",
        "avg_disposal_wmin",
    ),
    "street": _AREA_INDICATORS,
    "community": _AREA_INDICATORS,
    "grid": _AREA_INDICATORS,
    "inspector": ("effective_report_rate", "missed_rate", "verify_on_time_rate", "check_on_time_rate"),
    "operator": ("verify_send_on_time_rate", "check_send_on_time_rate"),
    "shift_lead": ("register_on_time_rate", "register_accuracy_rate", "lead_close_on_time_rate"),
    "dispatcher": ("dispatch_on_time_rate", "dispatch_accuracy_rate"),
}
_AREA_COUNTS = ("registered", "should_close", "closed")
UNIT_COUNTS: dict[str, tuple[str, ...]] = {
    "department": ("registered", "due", "disposed", "closed"),
    "street": _AREA_COUNTS,
    "community": _AREA_COUNTS,
    "grid": _AREA_COUNTS,
    "inspector": ("insp_reports", "missed", "verified", "checked"),
    "operator": ("verify_sent", "check_sent"),
    "shift_lead": ("registered", "registered_voided", "closes"),
    "dispatcher": ("dispatched", "dispatched_returned"),
}
UNIT_STAGES: dict[str, tuple[str, ...]] = {
    "department": ("stage_sign", "stage_feedback"),
    "inspector": ("stage_check",),
    "shift_lead": ("stage_register", "stage_close"),
    "dispatcher": ("stage_dispatch",),
}


def unit_columns(unit: str) -> tuple[list[str], list[str], list[str]]:
    """The indicators, counts and stages shown for a unit kind (SPEC §7: only those that apply to it)."""
    return (
        list(UNIT_INDICATORS.get(unit, UNIT_INDICATORS["department"])),
        list(UNIT_COUNTS.get(unit, UNIT_COUNTS["department"])),
        list(UNIT_STAGES.get(unit, ())),
    )


@dataclass(frozen=True)
class RankedRow:
    row: EvaluationRow
    previous_score: float | None
    previous_rank: int | None

    @property
    def score_delta(self) -> float | None:
        if self.row.score is None or self.previous_score is None:
            return None
        return round(self.row.score - self.previous_score, 2)

    @property
    def rank_delta(self) -> int | None:
        """Places gained since the previous period (positive = moved up)."""
        if self.row.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.row.rank


@dataclass(frozen=True)
class UnitSection:
    unit: str
    label: str
    rows: list[RankedRow]

    @property
    def volume_label(self) -> str:
        return VOLUME.get(self.unit, VOLUME["department"])[0]

    @property
    def ranked(self) -> list[RankedRow]:
        """Units with a rank (enough cases and a score), best first."""
        return [r for r in self.rows if r.row.rank is not None]

    @property
    def apart(self) -> list[RankedRow]:
        """Units listed apart: too few cases (案件量不足，不参与排名) or no score at all."""
        return [r for r in self.rows if r.row.rank is None]

    def top(self, n: int) -> list[RankedRow]:
        return self.ranked[:n]

    def bottom(self, n: int) -> list[RankedRow]:
        """The worst ``n`` (worst first), never repeating a unit already in the top list."""
        scored = self.ranked
        rest = scored[min(n, len(scored)) :]
        return list(reversed(rest))[:n]


@dataclass(frozen=True)
class Recurring:
    grid_code: str
    grid_name: str
    category_code: str
    category_name: str
    count: int
    first: datetime
    last: datetime


@dataclass
class MonthlyReport:
    period: Period
    previous: Period
    as_of: datetime
    district: EvaluationRow | None
    sections: dict[str, UnitSection]
    recurring: list[Recurring]
    top_n: int = 3
    min_cases: int = 1
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _with_previous(now: Evaluation, before: Evaluation) -> list[RankedRow]:
    prev = {r.key: r for r in before.rows}
    return [
        RankedRow(
            r, prev[r.key].score if r.key in prev else None, prev[r.key].rank if r.key in prev else None
        )
        for r in now.rows
    ]


def recurring_locations(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    period: Period,
    *,
    minimum: int = 3,
    limit: int = 10,
    as_of: datetime | None = None,
) -> list[tuple[str, str, int, datetime, datetime]]:
    """The same grid and category reported again and again in the period (merged duplicates left out)."""
    cut = min(period.end, (as_of or datetime.now(UTC)).astimezone(UTC))
    s, c = epoch_us(period.start), epoch_us(cut)
    rows = con.execute(
        "SELECT grid_code, category_code, count(*) AS n, min(epoch_us(received_at)), "
        "max(epoch_us(received_at)) "
        f"FROM {relation} WHERE epoch_us(received_at) >= ? AND epoch_us(received_at) < ? "
        "AND state <> 'merged' "
        f"AND grid_code IS NOT NULL GROUP BY grid_code, category_code HAVING count(*) >= ? "
        f"ORDER BY n DESC, grid_code, category_code LIMIT ?",
        [s, c, minimum, limit],
    ).fetchall()
    origin = datetime(1970, 1, 1, tzinfo=UTC)
    return [
        (g, k, int(n), origin + timedelta(microseconds=a), origin + timedelta(microseconds=b))
        for g, k, n, a, b in rows
    ]


def build_monthly(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    period: Period,
    *,
    names: Callable[[str], Mapping[str, str]] = lambda unit: {},
    weights: WeightsConfig | None = None,
    as_of: datetime | None = None,
    coverage: list[tuple[int, str]] | None = None,
    units: tuple[str, ...] = REPORT_UNITS,
    top_n: int = 3,
    recurring_min: int = 3,
    min_cases: int | None = None,
) -> MonthlyReport:
    cfg = weights or load_weights()
    minimum = min_cases if min_cases is not None else default_min_cases()
    moment = (as_of or datetime.now(UTC)).astimezone(UTC)
    previous = period.previous()
    # One scan of the facts: keep only the rows that can count in the previous or the current period.
    cut = min(period.end, moment)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {MONTH_TABLE} AS "
        f"SELECT * FROM {relation} WHERE {relevant(previous.start, cut)}"
    )
    relation = MONTH_TABLE
    sections: dict[str, UnitSection] = {}
    for unit in units:
        label = names(unit)
        cov = coverage if unit == "inspector" else None
        now, before = (
            evaluate(
                con,
                relation,
                p,
                unit,
                weights=cfg,
                as_of=moment,
                names=label,
                coverage=cov,
                min_cases=minimum,
            )
            for p in (period, previous)
        )
        sections[unit] = UnitSection(unit, UNIT_LABELS[unit], _with_previous(now, before))
    district = evaluate(con, relation, period, "district", weights=cfg, as_of=moment).rows
    grid_names = names("grid")
    category_names = _category_names()
    recurring = [
        Recurring(g, grid_names.get(g, g), k, category_names.get(k, k), n, a, b)
        for g, k, n, a, b in recurring_locations(con, relation, period, minimum=recurring_min, as_of=moment)
    ]
    return MonthlyReport(
        period, previous, moment, district[0] if district else None, sections, recurring, top_n, minimum
    )


def _category_names() -> dict[str, str]:
    from civicgrid.catalog.seed import shipped_categories

    return {c.code: c.name for c in shipped_categories()}
