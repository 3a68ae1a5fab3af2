"""Spike detection (pure): a category in a street far above its own recent baseline.

Input: weekly counts per (street, category), week 0 = the last 7 days, weeks 1..8 = the eight weeks
before. A pair is a spike when the last 7 days hold at least ``min_count`` cases and either the ratio to
the baseline's weekly mean reaches ``ratio`` or the z-score reaches ``z``. The z-score's spread is the
baseline's standard deviation, but at least the Poisson spread ``sqrt(mean)`` and at least 1, so that
ordinary week-to-week noise of small counts does not alert.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

BASELINE_WEEKS = 8


@dataclass(frozen=True)
class Spike:
    street_code: str
    category_code: str
    count: int
    baseline_mean: float
    baseline_std: float
    ratio: float | None  # None when the baseline is empty
    z: float
    text: str


def detect_spikes(
    weekly: Iterable[tuple[str, str, int, int]],
    *,
    min_count: int = 8,
    ratio: float = 3.0,
    z: float = 3.0,
    names: Mapping[str, str] | None = None,
) -> list[Spike]:
    """``weekly`` rows are (street_code, category_code, week_index 0..8, count). Strongest spikes first."""
    series: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * (BASELINE_WEEKS + 1))
    for street, category, week, count in weekly:
        if 0 <= week <= BASELINE_WEEKS:
            series[(street, category)][week] += int(count)
    label = names or {}
    out: list[Spike] = []
    for (street, category), counts in series.items():
        now = counts[0]
        if now < min_count:
            continue
        base = counts[1:]
        mean = sum(base) / BASELINE_WEEKS
        std = math.sqrt(sum((c - mean) ** 2 for c in base) / BASELINE_WEEKS)
        score = (now - mean) / max(std, math.sqrt(mean), 1.0)
        times = now / mean if mean > 0 else None
        if not ((times is None or times >= ratio) or score >= z):
            continue
        street_name = label.get(street, street)
        cat_name = label.get(category, category)
        if times is None:
            text = (
                f"{street_name}「{cat_name}」近 7 天 {now} 件，前 8 周没有此类案件，属新出现的问题，请关注。"
            )
        else:
            text = (
                f"{street_name}「{cat_name}」近 7 天 {now} 件，是前 8 周周均 {mean:.1f} 件的 {times:.1f} 倍"
                f"（z = {score:.1f}），请关注。"
            )
        out.append(
            Spike(
                street,
                category,
                now,
                round(mean, 3),
                round(std, 3),
                None if times is None else round(times, 3),
                round(score, 3),
                text,
            )
        )
    out.sort(key=lambda s: (-s.z, -s.count, s.street_code, s.category_code))
    return out
