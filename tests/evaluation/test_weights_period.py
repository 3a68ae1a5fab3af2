"""The weights file: shipped defaults, validation with Chinese messages, overrides; period parsing; bands."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from civicgrid.errors import InvalidInput
from civicgrid.evaluation.period import parse_period
from civicgrid.evaluation.weights import load_weights, save_weights, shipped_weights, validate_weights


def _raw() -> dict:
    return copy.deepcopy(shipped_weights().to_json())


def test_shipped_defaults_follow_spec():
    cfg = shipped_weights()
    assert [(g.grade, g.min) for g in cfg.grades] == [("A", 90), ("B", 75), ("C", 60), ("D", 40), ("E", 0)]
    assert [(t.indicator or t.band, t.weight) for t in cfg.units["inspector"].terms] == [
        ("effective_report_rate", 40),
        ("missed_rate", 20),
        ("verify_on_time_rate", 20),
        ("check_on_time_rate", 20),
    ]
    volume = cfg.bands["volume"]
    assert [volume.score(n) for n in (0, 100, 101, 300, 301, 500, 501, 1200, 1201, 2000, 2001)] == [
        0,
        0,
        40,
        40,
        60,
        60,
        75,
        75,
        90,
        90,
        100,
    ]
    fewer = cfg.bands["register_fewer"]
    assert [fewer.score(n) for n in (0, 50, 51, 100, 101, 200, 201, 500, 501, 1000, 1001)] == [
        100,
        100,
        90,
        90,
        75,
        75,
        60,
        60,
        40,
        40,
        0,
    ]
    assert [cfg.grade_of(s) for s in (100, 90, 89.99, 75, 60, 40, 39.99, None)] == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "D",
        "E",
        None,
    ]


def test_weights_must_sum_to_100():
    raw = _raw()
    raw["units"]["inspector"]["terms"][0]["weight"] = 30
    with pytest.raises(InvalidInput) as exc:
        validate_weights(raw)
    assert exc.value.message == "权重配置有误：「监督员」的权重之和应为 100，实际为 90"
    assert exc.value.status == 422


def test_bad_indicator_band_grade_and_type_messages():
    raw = _raw()
    raw["units"]["department"]["terms"][1]["indicator"] = "好评率"
    raw["bands"]["volume"]["steps"][0]["from"] = 5
    raw["grades"][1]["min"] = 95
    with pytest.raises(InvalidInput) as exc:
        validate_weights(raw)
    problems = exc.value.extra["problems"]
    assert "等级线必须按分数从高到低排列且互不相同，例如 A 90、B 75、C 60、D 40、E 0" in problems
    assert "分值档「工作量分值（越多越高）」的第一档应从 0 开始，实际从 5 开始" in problems
    assert any(p.startswith("「专业部门」第 2 项的指标「好评率」不存在") for p in problems)
    raw = _raw()
    raw["units"]["operator"]["terms"][0]["weight"] = "很多"
    with pytest.raises(InvalidInput, match=r"units\.operator\.terms\.0\.weight：应为数字"):
        validate_weights(raw)
    raw = _raw()
    del raw["units"]["grid"]
    with pytest.raises(InvalidInput, match="缺少以下评价对象的权重：单元网格"):
        validate_weights(raw)


def test_chinese_labels_accepted_and_override_file(tmp_path, monkeypatch):
    raw = _raw()
    raw["units"]["department"]["terms"][2]["indicator"] = "按期结案率"
    path = tmp_path / "w.json"
    monkeypatch.setenv("CIVICGRID_EVALUATION_WEIGHTS", str(path))
    cfg = save_weights(raw)
    assert cfg.units["department"].terms[2].indicator == "close_on_time_rate"
    assert load_weights().units["department"].terms[2].indicator == "close_on_time_rate"
    assert (
        json.loads(path.read_text(encoding="utf-8"))["units"]["department"]["terms"][2]["indicator"]
        == "close_on_time_rate"
    )
    path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match="不是有效的 JSON"):
        load_weights()


@pytest.mark.parametrize(
    ("text", "kind", "first", "last", "months", "label", "previous"),
    [
        ("2026-10", "month", date(2026, 10, 1), date(2026, 10, 31), 1, "2026年10月", "2026-09"),
        ("2026-01", "month", date(2026, 1, 1), date(2026, 1, 31), 1, "2026年1月", "2025-12"),
        ("2026-Q3", "quarter", date(2026, 7, 1), date(2026, 9, 30), 3, "2026年第3季度", "2026-Q2"),
        ("2026", "year", date(2026, 1, 1), date(2026, 12, 31), 12, "2026年", "2025"),
        (
            "2026-10-01..2026-10-15",
            "range",
            date(2026, 10, 1),
            date(2026, 10, 15),
            1,
            "2026-10-01 至 2026-10-15",
            "2026-09-16..2026-09-30",
        ),
    ],
)
def test_periods(text, kind, first, last, months, label, previous):
    p = parse_period(text)
    assert (p.kind, p.first_day, p.last_day, p.months, p.label, p.previous().key) == (
        kind,
        first,
        last,
        months,
        label,
        previous,
    )


def test_period_bounds_are_beijing_midnight_and_bad_input():
    p = parse_period("2026-10")
    assert (p.start.isoformat(), p.end.isoformat()) == (
        "2026-09-30T16:00:00+00:00",
        "2026-10-31T16:00:00+00:00",
    )
    for bad in ("2026-13", "10/2026", "2026-10-15..2026-10-01", ""):
        with pytest.raises(InvalidInput):
            parse_period(bad)
