"""Evaluation as one call: facts (a DuckDB relation) + period + unit → ranked rows. No database session here.

``open_facts`` gives a DuckDB connection and relation name for a pyarrow table (the live facts) or Parquet
partitions (a file, a directory or a glob), so the same code serves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from civicgrid.errors import InvalidInput
from civicgrid.evaluation.catalog import COUNTS, INDICATOR_LABELS, STAGES, UNIT_LABELS
from civicgrid.evaluation.indicators import compute
from civicgrid.evaluation.period import Period
from civicgrid.evaluation.scores import VOLUME, rank, score_unit
from civicgrid.evaluation.weights import WeightsConfig, load_weights
from civicgrid.sla.clock import WorkingClock

RELATION = "facts"


@dataclass(frozen=True)
class EvaluationRow:
    key: str
    name: str
    rank: int | None
    score: float | None
    grade: str | None
    counts: dict[str, int]
    indicators: dict[str, float | None]
    stages: dict[str, float | None]
    volume: int = 0  # the case count of the minimum-volume rule (scores.VOLUME)
    low_volume: bool = False  # under the minimum: listed apart, never ranked

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "rank": self.rank,
            "volume": self.volume,
            "low_volume": self.low_volume,
            "score": self.score,
            "grade": self.grade,
            "indicators": {k: (None if v is None else round(v, 6)) for k, v in self.indicators.items()},
            "counts": self.counts,
            "stages": self.stages,
        }


@dataclass(frozen=True)
class Evaluation:
    period: Period
    unit: str
    as_of: datetime
    rows: list[EvaluationRow]
    min_cases: int = 1

    def row(self, key: str) -> EvaluationRow:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period.key,
            "period_label": self.period.label,
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
            "as_of": self.as_of.isoformat(),
            "unit": self.unit,
            "unit_label": UNIT_LABELS[self.unit],
            "labels": {
                "indicators": INDICATOR_LABELS,
                "counts": COUNTS,
                "stages": {k: v[0] for k, v in STAGES.items()},
            },
            "min_cases": self.min_cases,
            "volume_label": VOLUME.get(self.unit, VOLUME["department"])[0],
            "rows": [r.to_json() for r in self.rows],
        }


def open_facts(
    table: pa.Table | None = None, parquet: str | Path | None = None
) -> tuple[duckdb.DuckDBPyConnection, str]:
    """A fresh in-memory DuckDB connection with the facts as relation ``facts``."""
    con = duckdb.connect()
    if table is not None:
        con.register(RELATION, table)
    elif parquet is not None:
        path = Path(parquet)
        pattern = str(path / "**" / "*.parquet") if path.is_dir() else str(parquet)
        try:
            literal = "'" + pattern.replace("'", "''") + "'"
            con.execute(
                f"CREATE VIEW {RELATION} AS SELECT * FROM read_parquet({literal}, hive_partitioning = false,"
                " union_by_name = true)"
            )
        except duckdb.Error as exc:
            raise InvalidInput(f"无法读取事实表 Parquet 文件 {parquet}：{exc}") from None
    else:
        raise InvalidInput("请提供事实表（pyarrow 表或 Parquet 路径）")
    return con, RELATION


def evaluate(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    period: Period,
    unit: str = "department",
    *,
    weights: WeightsConfig | None = None,
    as_of: datetime | None = None,
    names: Mapping[str, str] | None = None,
    coverage: list[tuple[int, str]] | None = None,
    clock: WorkingClock | None = None,
    min_cases: int | None = None,
) -> Evaluation:
    """Every indicator, score, grade and rank of every unit active in the period, best first; units with
    fewer cases than ``min_cases`` (default: the ranking_min_cases setting) are not ranked."""
    cfg = weights or load_weights()
    moment = (as_of or datetime.now(UTC)).astimezone(UTC)
    results = compute(
        con,
        relation,
        period,
        unit,
        limits=cfg.stage_limits_minutes,
        as_of=moment,
        clock=clock,
        coverage=coverage,
    )
    minimum = min_cases if min_cases is not None else default_min_cases()
    scored = rank([score_unit(r, unit, cfg, period.months) for r in results], unit, minimum)
    label = names or {}
    rows = [
        EvaluationRow(
            key=s.result.key,
            name=label.get(s.result.key, s.result.key),
            rank=s.rank,
            score=s.score,
            grade=s.grade,
            counts=s.result.counts,
            indicators=s.result.indicators,
            stages=s.result.stages,
            volume=s.volume,
            low_volume=s.low_volume,
        )
        for s in scored
    ]
    return Evaluation(period, unit, moment, rows, minimum)


def default_min_cases() -> int:
    """The minimum-volume rule shared with the leader page's rankings
    (``CIVICGRID_ANALYTICS_RANKING_MIN_CASES``)."""
    from civicgrid.analytics.settings import get_analytics_settings

    return get_analytics_settings().ranking_min_cases


def shipped_names(unit: str) -> dict[str, str]:
    """Names known without a database: the shipped departments."""
    if unit == "department":
        from civicgrid.catalog.seed import shipped_departments

        return {d.code: d.name for d in shipped_departments()}
    return {}
