"""HJ 663 period statistics and the window means, on hand-computed numbers (pure, no database)."""

from __future__ import annotations

import pytest

from civicgrid.monitoring import hj663, means


def test_percentile_follows_hj663_interpolation() -> None:
    # k = 1 + 4 × 0.95 = 4.8 → x4 + (x5 − x4) × 0.8
    assert hj663.percentile([5, 1, 4, 2, 3], 95) == pytest.approx(4.8)
    # CO 0.1 … 3.0: k = 1 + 29 × 0.95 = 28.55 → 2.8 + 0.1 × 0.55
    assert hj663.percentile([i / 10 for i in range(1, 31)], 95) == pytest.approx(2.855)
    # O3 80 … 260: k = 1 + 9 × 0.9 = 9.1 → 240 + 20 × 0.1
    assert hj663.percentile([80, 100, 120, 140, 160, 180, 200, 220, 240, 260], 90) == pytest.approx(242.0)
    assert hj663.percentile([7.0], 90) == 7.0
    assert hj663.percentile([1, 2], 100) == 2
    assert hj663.percentile([], 90) is None
    with pytest.raises(ValueError):
        hj663.percentile([1.0], 101)


def test_composite_index_uses_means_and_the_co_and_o3_percentiles() -> None:
    got = hj663.composite(
        {
            "SO2": [10, 14],  # 12 / 60 = 0.2
            "NO2": [20, 40],  # 30 / 40 = 0.75
            "PM10": [60, 80],  # 70 / 70 = 1.0
            "PM2.5": [35, 49],  # 42 / 35 = 1.2
            "CO": [0.8, 1.0, 1.2],  # P95: k = 2.9 → 1.0 + 0.2 × 0.9 = 1.18; / 4 = 0.295
            "O3_8h": [100, 120, 140],  # P90: k = 2.8 → 120 + 20 × 0.8 = 136; / 160 = 0.85
        }
    )
    assert got.concentrations["CO"] == pytest.approx(1.18)
    assert got.concentrations["O3_8h"] == pytest.approx(136)
    assert got.single["PM2.5"] == pytest.approx(1.2)
    assert got.index == 4.30  # 0.2 + 0.75 + 1.0 + 1.2 + 0.295 + 0.85 = 4.295 → 4.30 (two decimals)


def test_composite_index_needs_all_six_pollutants() -> None:
    got = hj663.composite({"PM2.5": [35.0], "PM10": [70.0]})
    assert got.index is None
    assert got.single == {"PM2.5": 1.0, "PM10": 1.0}


def test_figures_are_rounded_half_to_even_on_their_decimal_value() -> None:
    assert hj663.revise(0.2 + 0.75 + 1.0 + 1.2 + 0.295 + 0.85, 2) == 4.30  # float sum is 4.29499…
    assert hj663.revise(2.345, 2) == 2.34  # 五成双: the kept digit 4 is even
    assert hj663.revise(66.666, 1) == 66.7
    assert hj663.revise(12.0, 1) == 12.0


def test_good_ratio_counts_aqi_up_to_100() -> None:
    assert hj663.good_ratio([58, 128, 100]) == 66.7
    assert hj663.good_ratio([101]) == 0.0
    assert hj663.good_ratio([]) is None


def test_only_n_values_enter_a_mean_and_flags_are_counted() -> None:
    s = means.summarise([(30, "N"), (50, "N"), (999, "D"), (None, "N"), (10, "M")])
    assert s.mean == 40 and s.valid == 2
    assert s.flags == {"N": 3, "D": 1, "M": 1}
    assert (s.vmin, s.vmax, s.flag) == (30, 50, "N")
    broken = means.summarise([(999, "D"), (998, "D"), (5, "F")])
    assert broken.mean is None and broken.valid == 0 and broken.flag == "D"
    assert means.summarise([(1, "N")] * 19, min_valid=20).mean is None
    assert means.summarise([(1, "N")] * 20, min_valid=20).mean == 1


def test_o3_daily_max_8h_moving_mean_and_its_validity() -> None:
    hours: list[float | None] = [50.0] * 24
    hours[10:18] = [150.0] * 8  # the window 10:00–18:00
    assert means.max_8h(hours) == 150.0
    hours[21] = 1000.0  # now 14:00–22:00 is the largest: (150 × 4 + 50 × 3 + 1000) / 8
    assert means.max_8h(hours) == pytest.approx(1750 / 8)
    # Only 00:00–13:00 measured: 8 valid windows (< 14) → invalid unless above the 160 limit.
    short: list[float | None] = [100.0] * 13 + [None] * 11
    assert means.max_8h(short) is None
    high: list[float | None] = [200.0] * 13 + [None] * 11
    assert means.max_8h(high) == 200.0
    # A window needs 6 valid hours: hours 0,1 (2 hours) only → no window at all.
    assert means.max_8h([90.0, 90.0] + [None] * 22) is None
    with pytest.raises(ValueError):
        means.max_8h([1.0] * 23)


def test_local_days_and_months() -> None:
    from datetime import UTC, date, datetime

    assert means.day_start(date(2026, 11, 10)) == datetime(2026, 11, 9, 16, tzinfo=UTC)
    assert means.local_day(datetime(2026, 11, 9, 16, 30, tzinfo=UTC)) == date(2026, 11, 10)
    assert len(means.month_days("2026-02")) == 28 and len(means.month_days("2026-12")) == 31
