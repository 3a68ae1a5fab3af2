"""Synthetic case history written straight to the facts partitions, month by month, vectorised with NumPy.

The history is shaped like a real district's: seasons (summer peaks; 积水 in the rainy season, 积雪 in
winter), weekdays above weekends, office hours above the night, a skewed category mix, hotspot grids and
recurring (grid, category) pairs, department speeds, sources, public reports verified first, voids,
merges of duplicates, returns, extensions, holds, rework, on-time and overdue closes, and ratings. Cases
whose next step would lie after ``now`` stop in the state they reached. Deterministic for a seed. Memory
is bounded by one month of rows.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from civicgrid.analytics.facts import FACTS_SCHEMA
from civicgrid.analytics.warehouse import write_partition
from civicgrid.demo.synth import Month, month_rows
from civicgrid.demo.universe import Universe, demo_universe
from civicgrid.sla.vector import get_vector_clock, to_ns

TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class GenerateResult:
    cases: int
    months: int
    out_dir: Path


def month_plan(cases: int, months: int, end: datetime) -> list[tuple[int, int, int]]:
    """(year, month, cases) for ``months`` months ending with ``end``'s month (seasonal, growing)."""
    local = end.astimezone(TZ)
    keys: list[tuple[int, int]] = []
    y, m = local.year, local.month
    for _ in range(months):
        keys.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    keys.reverse()
    season = np.array([1.0 + 0.22 * np.sin(2 * np.pi * (mm - 4) / 12) for _, mm in keys])
    growth = 1.0 + 0.01 * np.arange(months)
    days = np.array([calendar.monthrange(yy, mm)[1] for yy, mm in keys], dtype=float)
    # The current month is only partly elapsed.
    days[-1] = min(days[-1], local.day - 1 + (local.hour * 60 + local.minute) / 1440)
    weight = season * growth * days
    share = weight / weight.sum() * cases
    counts = np.floor(share).astype(np.int64)
    counts[np.argsort(share - counts)[::-1][: cases - int(counts.sum())]] += 1
    return [(yy, mm, int(n)) for (yy, mm), n in zip(keys, counts, strict=True)]


def iter_months(
    cases: int,
    *,
    months: int = 24,
    seed: int = 20261126,
    end: datetime | None = None,
    universe: Universe | None = None,
) -> Iterator[tuple[str, pa.Table]]:
    """Yield ``("YYYY-MM", facts table)`` month by month."""
    end = (end or datetime.now(UTC)).astimezone(UTC)
    uni = universe or demo_universe()
    plan = month_plan(cases, months, end)
    clock = get_vector_clock(plan[0][0], end.astimezone(TZ).year + 1)
    root = np.random.SeedSequence(seed)
    statics = np.random.default_rng(root.spawn(1)[0])
    grid_weight = _grid_weights(statics, len(uni.grid_codes))
    hot_pairs = np.stack(
        [statics.integers(0, len(uni.grid_codes), 60), statics.integers(0, len(uni.cat_codes), 60)], axis=1
    )
    dept_speed = {code: float(statics.lognormal(0.0, 0.3)) for code in _all_departments(uni)}
    next_id = 1
    now_ns = to_ns(end)
    for i, (year, month, n) in enumerate(plan):
        rng = np.random.default_rng(np.random.SeedSequence([seed, year, month]))
        spike_from = now_ns - 7 * 86_400 * 1_000_000_000 if i == len(plan) - 1 else None
        spec = Month(
            year=year, month=month, n=n, first_id=next_id, now_ns=now_ns, index=i, spike_from_ns=spike_from
        )
        table = month_rows(uni, spec, rng, clock, grid_weight, hot_pairs, dept_speed)
        next_id += n
        yield f"{year:04d}-{month:02d}", table


def generate(
    out_dir: Path,
    cases: int,
    *,
    months: int = 24,
    seed: int = 20261126,
    end: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GenerateResult:
    """Write the synthetic history as ``out_dir/facts/month=YYYY-MM/part.parquet`` (replacing files)."""
    done = 0
    count = 0
    for key, table in iter_months(cases, months=months, seed=seed, end=end):
        assert table.schema.equals(FACTS_SCHEMA)
        write_partition(out_dir, key, table)
        done += table.num_rows
        count += 1
        if progress:
            progress(done, cases)
    return GenerateResult(cases=done, months=count, out_dir=out_dir)


def _grid_weights(rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
    """Heavy-tailed grid activity: most grids are quiet, a few (markets, stations, old lanes) are hotspots."""
    w = rng.lognormal(0.0, 1.1, n)
    hot = rng.choice(n, size=max(1, n // 50), replace=False)
    w[hot] *= 6.0
    return np.asarray(w / w.sum())


def _all_departments(uni: Universe) -> list[str]:
    codes = {str(c) for c in uni.cat_department}
    codes |= {"JD" + str(c)[-3:] for c in uni.street_codes}
    return sorted(codes)
