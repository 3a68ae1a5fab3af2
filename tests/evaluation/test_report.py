"""The monthly report over the fixed history: rankings, changes, recurring locations, xlsx, HTML."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from civicgrid.evaluation.html import monthly_html
from civicgrid.evaluation.period import parse_period
from civicgrid.evaluation.report import build_monthly
from civicgrid.evaluation.service import shipped_names
from civicgrid.evaluation.svg import bar_chart
from civicgrid.evaluation.weights import shipped_weights
from civicgrid.evaluation.xlsx import monthly_workbook

from .conftest import AS_OF, G1, S1, S2

SZ_DUE, HW_DUE = 2, 7  # 应处置数 in October 2026 (test_indicators.py)


def _report(facts, min_cases=None):
    con, rel = facts
    streets = {S1: "甲街道", S2: "乙街道"}
    return build_monthly(
        con,
        rel,
        parse_period("2026-10"),
        weights=shipped_weights(),
        as_of=AS_OF,
        names=lambda unit: streets if unit == "street" else shipped_names(unit),
        min_cases=min_cases,
    )


def test_rankings_changes_and_recurring(facts):
    report = _report(facts)
    assert report.previous.key == "2026-09"
    dept = report.sections["department"]
    assert [(r.row.key, r.row.rank, r.previous_rank, r.score_delta, r.rank_delta) for r in dept.rows] == [
        ("SZ", 1, None, None, None),  # no September cases
        ("HW", 2, 1, -27.43, -1),  # September: C11 closed on time → 100
        ("YL", None, None, None, None),
    ]
    assert [r.row.key for r in dept.top(1)] == ["SZ"]
    assert [r.row.key for r in dept.bottom(1)] == ["HW"]
    assert report.district is not None and report.district.counts["registered"] == 11
    # G1 / E0102: C1 C2 C5 C7 (the merged duplicate C9 and September's C12 left out).
    assert [(r.grid_code, r.category_code, r.category_name, r.count) for r in report.recurring] == [
        (G1, "E0102", "暴露垃圾", 4)
    ]


def test_workbook_sheets_and_cells(facts):
    wb = load_workbook(BytesIO(monthly_workbook(_report(facts))))
    assert wb.sheetnames == ["汇总", "专业部门", "街道", "社区", "监督员", "受理员", "值班长", "派遣员"]
    ws = wb["专业部门"]
    assert [c.value for c in ws[1][:10]] == [
        "排名",
        "代码",
        "名称",
        "案件量（应处置数）",
        "综合得分",
        "等级",
        "上期得分",
        "得分变化",
        "上期排名",
        "排名变化",
    ]
    assert [c.value for c in ws[2][:6]] == [1, "SZ", "市政工程管理处", SZ_DUE, 100, "A"]
    assert [c.value for c in ws[3][:10]] == [
        2,
        "HW",
        "环境卫生管理处",
        HW_DUE,
        72.57,
        "C",
        100,
        -27.43,
        1,
        -1,
    ]
    assert ws.freeze_panes == "D2"
    header = [c.value for c in ws[1]]
    close_rate = ws.cell(row=3, column=header.index("结案率") + 1)
    assert (round(close_rate.value, 6), close_rate.number_format) == (round(5 / 7, 6), "0.00%")
    assert ws[1][0].font.bold
    summary = wb["汇总"]
    assert summary["A1"].value == "2026年10月城市网格化管理月度考核通报"
    assert (summary["A5"].value, summary["B5"].value) == ("立案数", 11)
    people = [c.value for c in wb["监督员"][1]]
    assert "有效上报率" in people and "结案率" not in people  # a person's sheet shows only their indicators


def test_html_has_ranking_rows_and_chart(facts):
    html = monthly_html(_report(facts))
    assert "<h1>2026年10月城市网格化管理月度考核通报</h1>" in html
    assert (
        '<tr class="rank-row" data-unit="department" data-key="SZ"><td>1</td>'
        '<td class="name">市政工程管理处</td>' in html
    )
    assert (
        '<tr class="rank-row" data-unit="street" data-key="320508002"><td>1</td><td class="name">乙街道</td>'
        in html
    )
    assert html.count('class="rank-row" data-unit="department"') == 2  # YL has nothing to score: apart
    assert 'class="apart" data-unit="department" data-key="YL"' in html
    assert "<svg" in html and "专业部门综合得分" in html and "@media print" in html
    assert "暴露垃圾（E0102）" in html
    assert "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )  # nothing fetched from a CDN


def test_bar_chart_escapes_and_scales():
    svg = bar_chart("得分", [("<甲>", 50.0, "A"), ("乙", None, None)], width=400, label_width=100)
    assert "&lt;甲&gt;" in svg and "无数据" in svg
    assert '<rect x="100" y="37" width="122.0" height="16" fill="#2e7d32">' in svg  # (400 − 100 − 56) × 0.5


def test_low_volume_units_are_listed_apart_never_ranked(facts):
    """SZ has 2 cases to dispose of and a perfect score; HW has 7 and 72.57: with a minimum of 3, HW is first
    and SZ is listed apart, in the tables, the boards, the workbook and the page."""
    report = _report(facts, min_cases=3)
    assert report.min_cases == 3
    dept = report.sections["department"]
    assert [(r.row.key, r.row.rank, r.row.volume, r.row.low_volume) for r in dept.rows] == [
        ("HW", 1, HW_DUE, False),
        ("SZ", None, SZ_DUE, True),
        ("YL", None, 0, False),  # nothing to score
    ]
    assert [r.row.key for r in dept.ranked] == ["HW"] and [r.row.key for r in dept.apart] == ["SZ", "YL"]
    assert [r.row.key for r in dept.top(3)] == ["HW"] and dept.bottom(3) == []
    html = monthly_html(report)
    assert html.count('class="rank-row" data-unit="department"') == 1
    assert (
        '<tr class="apart" data-unit="department" data-key="SZ"><td class="name">市政工程管理处</td>'
        f'<td class="volume">{SZ_DUE}</td>' in html
    )
    assert "案件量不足，不参与排名（少于 3 件）" in html
    ws = load_workbook(BytesIO(monthly_workbook(report)))["专业部门"]
    header = [c.value for c in ws[1]]
    assert header[-1] == "说明"
    assert [(r[0].value, r[1].value, r[3].value, r[-1].value) for r in ws.iter_rows(min_row=2)] == [
        (1, "HW", HW_DUE, None),
        (None, "SZ", SZ_DUE, "案件量不足，不参与排名（少于 3 件）"),
        (None, "YL", 0, "无可评分指标，不参与排名"),
    ]


def test_each_unit_kind_shows_only_its_indicators(facts):
    report = _report(facts)
    wb = load_workbook(BytesIO(monthly_workbook(report)))
    dept = [c.value for c in wb["专业部门"][1]]
    assert "按期处置率" in dept and "返工率" in dept
    assert not {"有效上报率", "按期核实率", "按时立案率", "按期派遣率", "核实按时派发率"} & set(dept)
    street = [c.value for c in wb["街道"][1]]
    assert "监督举报率" in street and "有效上报率" not in street and "返工率" not in street
    inspector = [c.value for c in wb["监督员"][1]]
    assert {"有效上报率", "漏报率", "按期核实率", "按期核查率"} <= set(inspector)
    assert "按期处置率" not in inspector
    html = monthly_html(report)
    inspector_table = html.split('data-unit="inspector">')[1].split("</section>")[0]
    assert "有效上报率" in inspector_table and "按期处置率" not in inspector_table
    department_table = html.split('<section class="unit landscape" data-unit="department">')[1]
    assert "漏报率" not in department_table.split("</section>")[0]


def test_html_links_its_stylesheet_when_served_and_inlines_it_in_a_file(facts):
    report = _report(facts)
    served = monthly_html(report, stylesheet="/leader/report.css")
    assert '<link rel="stylesheet" href="/leader/report.css">' in served and "<style>" not in served
    standalone = monthly_html(report)
    assert "<style>" in standalone and "td.name" in standalone and "@page landscape" in standalone
