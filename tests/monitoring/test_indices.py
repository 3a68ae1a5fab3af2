"""AQI (HJ 633, 2012 and 2026 tables) and water class (GB 3838-2002) on SPEC §10's worked examples."""

from __future__ import annotations

from datetime import date

import pytest

from civicgrid.monitoring import aqi, water

WORKED = {"PM2.5": 80, "PM10": 120, "SO2": 10, "NO2": 40, "CO": 1.0, "O3_8h": 100}


def test_spec_worked_example_2025_12_01() -> None:
    r = aqi.compute(WORKED, day=date(2025, 12, 1))
    assert r.iaqi["PM2.5"] == 107 and r.iaqi["PM10"] == 85
    assert (r.aqi, r.level, r.category, r.color, r.primary) == (107, 3, "轻度污染", "#FF7E00", ("PM2.5",))
    assert r.exceeding == ("PM2.5",) and r.edition == "2012"


def test_the_2026_table_from_march_first() -> None:
    r = aqi.compute(WORKED, day=date(2026, 3, 1))
    # PM2.5 80 on 60..115 → 100 + 50 × 20/55 = 118.18 → 119; PM10 120 is now the 100 breakpoint.
    assert r.iaqi["PM2.5"] == 119 and r.iaqi["PM10"] == 100 and r.aqi == 119 and r.edition == "2026"
    assert aqi.compute(WORKED, day=date(2026, 2, 28)).aqi == 107


def test_exact_breakpoints_and_float_error_do_not_round_up() -> None:
    d = date(2025, 1, 1)
    assert aqi.iaqi("PM2.5", 75, day=d) == 100
    assert aqi.iaqi("PM2.5", 35, day=d) == 50
    assert aqi.iaqi("CO", 2.0, day=d) == 50
    assert aqi.iaqi("PM2.5", 0, day=d) == 0


def test_ties_name_every_primary_pollutant_and_none_when_good() -> None:
    r = aqi.compute({"PM2.5": 75, "PM10": 150}, day=date(2025, 1, 1))
    assert r.aqi == 100 and r.primary == ("PM2.5", "PM10") and r.exceeding == ()
    assert aqi.compute({"PM2.5": 20}, day=date(2025, 1, 1)).primary == ()


def test_hourly_reads_the_one_hour_columns() -> None:
    d = date(2025, 6, 1)
    assert aqi.compute({"SO2": 150}, day=d, hourly=True).aqi == 50
    assert aqi.compute({"SO2": 150}, day=d).aqi == 100


def test_so2_and_o3_above_800() -> None:
    assert aqi.iaqi("SO2", 900, day=date(2025, 6, 1), hourly=True) == 213  # 2012: the 24-h column
    assert aqi.iaqi("SO2", 900, day=date(2026, 6, 1), hourly=True) == 200
    assert aqi.iaqi("O3_8h", 900, day=date(2026, 6, 1)) == 300
    r = aqi.compute({"O3_8h": 900, "O3": 850}, day=date(2025, 6, 1))
    assert r.iaqi["O3_8h"] == r.iaqi["O3"] == 325


@pytest.mark.parametrize(
    ("aqi_value", "level", "category"),
    [
        (0, 1, "优"),
        (50, 1, "优"),
        (51, 2, "良"),
        (101, 3, "轻度污染"),
        (201, 5, "重度污染"),
        (301, 6, "严重污染"),
    ],
)
def test_levels(aqi_value: int, level: int, category: str) -> None:
    lv = aqi.level_of(aqi_value)
    assert (lv.level, lv.category) == (level, category)


def test_water_class_single_factor_worst_wins_boundaries_go_to_the_better_class() -> None:
    r = water.classify({"DO": 7.5, "CODMn": 4, "NH3-N": 1.2, "TP": 0.1})
    assert r.per_indicator == {"DO": "I", "CODMn": "II", "NH3-N": "IV", "TP": "II"}
    assert (r.water_class, r.label, r.worst) == ("IV", "轻度污染", ("NH3-N",))


def test_lake_phosphorus_and_beyond_v() -> None:
    assert water.classify({"TP": 0.1}).water_class == "II"
    assert water.classify({"TP": 0.1}, lake=True).water_class == "IV"
    assert water.classify({"NH3-N": 2.5}).water_class == "劣V"
    assert water.classify({"DO": 1.9}).water_class == "劣V"
    assert water.classify({"pH": 9.5, "DO": 8}).water_class == "劣V"
    assert water.worse_than("IV", "III") and not water.worse_than("III", "III")
