"""The rules' verdicts on one closed window (pure: rules.verdict and rules.silence), on exact values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from civicgrid.monitoring.rules import DEFAULT_RULES, StationFacts, WindowValue, silence, verdict

RULES = {r.code: r for r in DEFAULT_RULES}
DAY = date(2026, 11, 30)
AIR = StationFacts("air")


def v(code: str, value: float | None, flag: str = "N") -> WindowValue:
    return WindowValue(code, value, flag)


def test_hourly_aqi_over_200_reads_only_normal_values() -> None:
    got = verdict(RULES["air-aqi"], AIR, [v("a34004", 200), v("a34002", 150)], DAY)
    assert (got.exceeded, got.value, got.limit) == (True, 250.0, 200)
    assert got.detail == "AQI 250（重度污染，首要污染物 PM2.5）"
    on_the_line = verdict(RULES["air-aqi"], AIR, [v("a34004", 150)], DAY)  # IAQI 200: not over 200
    assert (on_the_line.exceeded, on_the_line.value) == (False, 200.0)
    flagged = verdict(RULES["air-aqi"], AIR, [v("a34004", 200, "D"), v("a34002", 40)], DAY)
    assert (flagged.exceeded, flagged.value) == (False, 40.0)  # the D value does not count
    assert verdict(RULES["air-aqi"], AIR, [v("a34004", 200, "M")], DAY).exceeded is None


def test_dust_pm10_against_its_threshold() -> None:
    dust = StationFacts("dust")
    assert verdict(RULES["dust-pm10"], dust, [v("a34002", 150)], DAY).exceeded is False
    over = verdict(RULES["dust-pm10"], dust, [v("a34002", 150.5)], DAY)
    assert over.exceeded is True and over.detail == "PM10 150.5 μg/m³（限值 150）"
    assert verdict(RULES["dust-pm10"], dust, [v("a34004", 300)], DAY).exceeded is None


def test_water_class_against_the_sections_target() -> None:
    river = StationFacts("water", target_class="III")
    iii = verdict(RULES["water-class"], river, [v("w21003", 1.0), v("w01009", 5)], DAY)  # boundary: III
    assert (iii.exceeded, iii.value, iii.limit) == (False, 3.0, 3.0)
    iv = verdict(RULES["water-class"], river, [v("w21011", 0.25)], DAY)
    assert iv.exceeded is True and iv.detail == "水质 IV 类（目标 III 类，定类指标 TP）"
    lake = StationFacts("water", target_class="III", lake=True)
    assert verdict(RULES["water-class"], lake, [v("w21011", 0.06)], DAY).value == 4.0  # lake TP limits
    assert verdict(RULES["water-class"], StationFacts("water"), [v("w21011", 0.25)], DAY).exceeded is None


def test_permit_limits_are_the_stations_own() -> None:
    src = StationFacts("source", permit_limits={"w01018": 100.0, "w21003": 15.0})
    ok = verdict(RULES["source-permit"], src, [v("w01018", 100), v("w21003", 5)], DAY)
    assert ok.exceeded is False
    over = verdict(RULES["source-permit"], src, [v("w01018", 80), v("w21003", 20)], DAY)
    assert over.exceeded is True and over.detail == "NH3-N 20（许可限值 15）"
    assert verdict(RULES["source-permit"], StationFacts("source"), [v("w01018", 500)], DAY).exceeded is None


def test_fault_flags_d_f_b() -> None:
    got = verdict(RULES["fault"], AIR, [v("a34004", 10), v("a21026", None, "B")], DAY)
    assert got.exceeded is True and got.detail == "故障标记 SO2=B"
    assert verdict(RULES["fault"], AIR, [v("a34004", 10, "M"), v("a21026", 1, "C")], DAY).exceeded is False
    assert verdict(RULES["fault"], AIR, [], DAY).exceeded is None


def test_silence_is_three_intervals() -> None:
    now = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    assert silence(now - timedelta(seconds=180), now, 60, 3).exceeded is False
    late = silence(now - timedelta(seconds=181), now, 60, 3)
    assert late.exceeded is True and late.detail == "已 3 分钟无数据（上报间隔 60 秒）"
