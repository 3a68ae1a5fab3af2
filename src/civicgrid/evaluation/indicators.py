"""Indicators of SPEC §7 as DuckDB SQL over a relation with the columns of ``analytics.facts.FACTS_SCHEMA``.

Works on any relation: live facts registered from a pyarrow table, or Parquet partitions
(``read_parquet('…/*.parquet')`` as a view). Pure: no database session, no web. The rules (which timestamp
puts a case in the period) are in ``catalog.COUNTS`` and docs/evaluation.md.

All timestamps are turned into epoch microseconds first, so the period bounds and limits are plain integers.
``cut`` = min(period end, as_of): a period still running is judged on what has happened so far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import duckdb

from civicgrid.cases import disposal as disposal_sql
from civicgrid.cases import sources
from civicgrid.errors import InvalidInput
from civicgrid.evaluation.catalog import (
    ATTRIBUTIONS,
    COUNTS,
    RATIOS,
    STAGES,
    UNIT_LABELS,
    Attribution,
)
from civicgrid.evaluation.period import Period
from civicgrid.evaluation.wclock import WorkingMinutesSQL
from civicgrid.evaluation.weights import StageLimits
from civicgrid.sla import deadlines
from civicgrid.sla.clock import WorkingClock

_MIN = 60_000_000
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TS = (
    ("rcv", "received_at"),
    ("vs", "verify_sent_at"),
    ("vf", "verified_at"),
    ("rg", "registered_at"),
    ("dp", "dispatched_at"),
    ("sg", "signed_at"),
    ("fb", "feedback_at"),
    ("cs", "check_sent_at"),
    ("ck", "checked_at"),
    ("cl", "closed_at"),
    ("vd", "voided_at"),
    ("due", "due_at"),
    ("rdue", "register_due_at"),
    ("vdue0", "verify_due_at"),
    ("cdue0", "check_due_at"),
)
_TS_ALIAS = {col: alias for alias, col in _TS}
REQUIRED = (
    *(c for _, c in _TS),
    "source",
    "urgent",
    "state",
    "held",
    "verify_confirmed",
    "return_count",
    "rework_count",
    "rating",
    "disposal_wmin",
    "department_code",
    "street_code",
    "community_code",
    "grid_code",
    "reporter_user_id",
    "send_verify_by",
    "verify_by",
    "register_by",
    "dispatch_by",
    "send_check_by",
    "check_by",
    "close_by",
)
COVERAGE_TABLE = "_cg_coverage"


@dataclass
class UnitResult:
    """One unit's counts, ratios (0–1, None without a denominator), average and stage durations (minutes)."""

    key: str
    counts: dict[str, int]
    indicators: dict[str, float | None]
    stages: dict[str, float | None]
    extra: dict[str, float | None] = field(default_factory=dict)


def _flags(s: int, c: int, limits: StageLimits) -> dict[str, str]:
    """Per-case SQL booleans of each count, over the base columns (epoch µs)."""
    pub = ", ".join(f"'{x}'" for x in sources.public_codes())

    def inp(x: str) -> str:
        return f"({x} >= {s} AND {x} < {c})"

    sv, sc, lc = (round(v * _MIN) for v in (limits.send_verify, limits.send_check, limits.close))
    disposal = disposal_sql.sql_flags("ev", "disp", "due", "held", str(s), str(c))
    due = disposal["due"]
    disposed = disposal["disposed"]
    closed = f"({due} AND cl IS NOT NULL AND cl < {c})"
    return {
        "insp_reports": f"(source = 'inspector' AND {inp('rcv')})",
        "insp_reports_valid": f"(source = 'inspector' AND {inp('rcv')} AND rg IS NOT NULL)",
        "missed": f"({inp('rcv')} AND source IN ({pub}) AND coalesce(verify_confirmed, FALSE))",
        "verified": inp("vf"),
        "verified_on_time": f"({inp('vf')} AND vf <= vdue)",
        "checked": inp("ck"),
        "checked_on_time": f"({inp('ck')} AND ck <= cdue)",
        "verify_sent": inp("vs"),
        "verify_sent_on_time": f"({inp('vs')} AND vs <= rcv + {sv})",
        "check_sent": inp("cs"),
        "check_sent_on_time": f"({inp('cs')} AND (fb IS NULL OR cs <= fb + {sc}))",
        "registered": inp("rg"),
        "registered_on_time": f"({inp('rg')} AND rg <= rd_due)",
        "registered_voided": f"({inp('rg')} AND vd IS NOT NULL)",
        "registered_public": f"({inp('rg')} AND source IN ({pub}))",
        "dispatched": inp("dp"),
        "dispatched_on_time": f"({inp('dp')} AND dp <= rd_due)",
        "dispatched_returned": f"({inp('dp')} AND coalesce(return_count, 0) > 0)",
        **{k: disposal[k] for k in disposal_sql.FLAGS},
        "should_close": due,
        "closed": closed,
        "closed_on_time": f"({closed} AND cl <= due)",
        "reworked": f"({disposed} AND coalesce(rework_count, 0) > 0)",
        "closes": inp("cl"),
        "closes_on_time": f"({inp('cl')} AND (ck IS NULL OR cl <= ck + {lc}))",
        "rated": f"({inp('cl')} AND rating IS NOT NULL)",
        "satisfied": f"({inp('cl')} AND rating >= 4)",
    }


def _base_sql(relation: str, start: datetime, cut: datetime) -> str:
    urgent = round(deadlines.REGISTER_DISPATCH_URGENT.amount * _MIN)
    other = round(deadlines.REGISTER_DISPATCH_OTHER.amount * _MIN)
    hour = round(deadlines.VERIFY_LIMIT.amount * 60 * _MIN)
    check = round(deadlines.CHECK_LIMIT.amount * 60 * _MIN)
    ts = ", ".join(f"epoch_us({col}) AS {alias}" for alias, col in _TS)
    return f"""
    t AS (SELECT *, {ts} FROM {relation} WHERE {relevant(start, cut)}),
    b AS (
      SELECT *,
        coalesce(vdue0, vs + {hour}) AS vdue,
        coalesce(cdue0, cs + {check}) AS cdue,
        CASE WHEN vf IS NOT NULL THEN vf + (CASE WHEN urgent THEN {urgent} ELSE {other} END)
             ELSE coalesce(rdue, rcv + (CASE WHEN urgent THEN {urgent} ELSE {other} END)) END AS rd_due,
        {disposal_sql.sql_disposed_at("state", "dp", "fb", "cl")} AS disp
      FROM t),
    e AS (SELECT *, {disposal_sql.sql_judged_at("due", "disp", "dp")} AS ev FROM b)"""


def relevant(start: datetime, cut: datetime) -> str:
    """Rows that can count in ``[start, cut)``: received before the cut, a stage or due time after the start.

    Every counted timestamp lies between receipt and the latest stage or due time, so nothing else can count;
    the receipt bound also lets DuckDB skip Parquet row groups and monthly partitions.
    """
    latest = ", ".join(
        c for _, c in _TS if c not in ("received_at", "register_due_at", "verify_due_at", "check_due_at")
    )
    return (
        f"received_at < TIMESTAMPTZ '{cut.astimezone(UTC).isoformat()}' "
        f"AND greatest(received_at, {latest}) >= TIMESTAMPTZ '{start.astimezone(UTC).isoformat()}'"
    )


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()}


def _span(con: duckdb.DuckDBPyConnection, relation: str, period: Period, cut: datetime) -> tuple[date, date]:
    cols = ", ".join(
        f"epoch_us({c})" for c in ("received_at", "closed_at", "checked_at", "feedback_at", "signed_at")
    )
    lo, hi = con.execute(
        f"SELECT min(epoch_us(received_at)), max(greatest({cols})) FROM {relation}"
    ).fetchone() or (
        None,
        None,
    )
    origin = datetime(1970, 1, 1, tzinfo=UTC)
    first = min([period.start] + ([origin + timedelta(microseconds=lo)] if lo is not None else []))
    last = max([cut] + ([origin + timedelta(microseconds=hi)] if hi is not None else []))
    return first.date(), last.date()


def compute(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    period: Period,
    unit: str,
    *,
    limits: StageLimits | None = None,
    as_of: datetime | None = None,
    clock: WorkingClock | None = None,
    coverage: list[tuple[int, str]] | None = None,
) -> list[UnitResult]:
    """Counts, ratios, average disposal time and stage durations per unit over ``relation`` for ``period``.

    ``coverage`` (inspector user id, grid/community/street code prefix) attributes missed reports (漏报) to
    the inspectors patrolling the grid; without it, to the inspector who verified the public report.
    """
    if unit not in ATTRIBUTIONS:
        raise InvalidInput(
            f"未知的评价对象：{unit}，可选 {'、'.join(k for k in UNIT_LABELS if k != 'district')}"
        )
    if not _IDENT.match(relation):
        raise InvalidInput(f"关系名不合法：{relation!r}")
    missing = [c for c in REQUIRED if c not in _columns(con, relation)]
    if missing:
        raise InvalidInput(f"事实表 {relation} 缺少列：{'、'.join(missing)}")
    limits = limits or StageLimits()
    cut_dt = min(period.end, (as_of or datetime.now(UTC)).astimezone(UTC))
    s = epoch_us(period.start)
    c = max(s, epoch_us(cut_dt))
    if clock is None:
        from civicgrid.sla.deadlines import get_clock

        clock = get_clock()
    wm = WorkingMinutesSQL(con, clock, *_span(con, relation, period, cut_dt))
    cols = _columns(con, relation)
    flags = _flags(s, c, limits)

    def stage_expr(key: str) -> str:
        _, start_col, end_col = STAGES[key]
        a, b = _TS_ALIAS[start_col], _TS_ALIAS[end_col]
        computed = wm.between(a, b)
        value = f"coalesce({key}_wmin, {computed})" if f"{key}_wmin" in cols else computed
        return f"CASE WHEN {b} >= {s} AND {b} < {c} AND {a} IS NOT NULL THEN {value} END"

    attributions = list(ATTRIBUTIONS[unit])
    join = ""
    if unit == "inspector" and coverage is not None:
        attributions = [a for a in attributions if a.counts != ("missed",)]
        con.execute(f"CREATE OR REPLACE TEMP TABLE {COVERAGE_TABLE} (user_id BIGINT, code VARCHAR)")
        if coverage:
            con.executemany(f"INSERT INTO {COVERAGE_TABLE} VALUES (?, ?)", coverage)
        attributions.append(Attribution("cov.user_id", ("missed",)))
        join = f" JOIN {COVERAGE_TABLE} AS cov ON starts_with(e.grid_code, cov.code)"
    disposal = f"coalesce(disposal_wmin, {wm.between('dp', 'disp')})"

    selects = []
    for att in attributions:
        parts = [f"CAST({att.key} AS VARCHAR) AS k"]
        parts += [
            f"CAST(coalesce({flags[n]}, FALSE) AS INTEGER) AS {n}" if n in att.counts else f"0 AS {n}"
            for n in flags
        ]
        has_disp = "disposed" in att.counts
        parts.append(
            f"CASE WHEN {flags['disposed']} THEN {disposal} END AS disp_wmin"
            if has_disp
            else "NULL AS disp_wmin"
        )
        parts += [f"{stage_expr(k)} AS {k}" if k in att.stages else f"NULL AS {k}" for k in STAGES]
        src = f"e{join}{wm.from_clause}" if att.key.startswith("cov.") else f"e{wm.from_clause}"
        selects.append(f"SELECT {', '.join(parts)} FROM {src} WHERE {att.key} IS NOT NULL AND ({att.where})")
    sums = ", ".join(f"sum({n})::BIGINT AS {n}" for n in flags)
    stage_aggs = ", ".join(f"avg({k}) AS {k}" for k in STAGES)
    any_count = " + ".join(f"sum({n})" for n in flags)
    any_stage = " OR ".join(f"count({k}) > 0" for k in STAGES)
    sql = (
        f"WITH {_base_sql(relation, period.start, cut_dt)}, u AS ({' UNION ALL '.join(selects)}) "
        f"SELECT k, {sums}, avg(disp_wmin) AS avg_disposal_wmin, {stage_aggs} FROM u GROUP BY k "
        f"HAVING {any_count} > 0 OR {any_stage} ORDER BY k"
    )
    names = list(flags)
    attributed = {n for att in attributions for n in att.counts}
    if {"verify_sent", "check_sent"} <= attributed:
        attributed.add("accepted")
    results = []
    for row in con.execute(sql).fetchall():
        counts = {n: int(v or 0) for n, v in zip(names, row[1 : 1 + len(names)], strict=True)}
        counts["accepted"] = counts["verify_sent"] + counts["check_sent"]
        avg = row[1 + len(names)]
        stage_values = row[2 + len(names) :]
        results.append(
            UnitResult(
                key=str(row[0]),
                counts={k: counts[k] for k in COUNTS},
                indicators=ratios(counts, attributed) | {"avg_disposal_wmin": _round(avg)},
                stages={k: _round(v) for k, v in zip(STAGES, stage_values, strict=True)},
            )
        )
    return results


def ratios(counts: dict[str, int], attributed: set[str] | None = None) -> dict[str, float | None]:
    """Each ratio of SPEC §7; None without a denominator or when the unit is not answerable for its counts."""
    out: dict[str, float | None] = {}
    for r in RATIOS:
        if attributed is not None and any(
            n.lstrip("-") not in attributed for n in r.numerator + r.denominator
        ):
            out[r.key] = None
            continue
        num = sum(-counts[n[1:]] if n.startswith("-") else counts[n] for n in r.numerator)
        den = sum(counts[n] for n in r.denominator)
        out[r.key] = num / den if den else None
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def epoch_us(moment: datetime) -> int:
    return (moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
