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


def _report(facts):
    con, rel = facts
    streets = {S1: "甲街道", S2: "乙街道"}
    return build_monthly(
        con,
        rel,
        parse_period("2026-10"),
        weights=shipped_weights(),
        as_of=AS_OF,
        names=lambda unit: streets if unit == "street" else shipped_names(unit),
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
    assert [c.value for c in ws[1][:9]] == [
        "排名",
        "代码",
        "名称",
        "综合得分",
        "等级",
        "上期得分",
        "得分变化",
        "上期排名",
        "排名变化",
    ]
    assert [c.value for c in ws[2][:5]] == [1, "SZ", "市政工程管理处", 100, "A"]
    assert [c.value for c in ws[3][:9]] == [2, "HW", "环境卫生管理处", 72.57, "C", 100, -27.43, 1, -1]
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
    assert html.count('class="rank-row" data-unit="department"') == 3
    assert "<svg" in html and "专业部门综合得分" in html and "@media print" in html
    assert "暴露垃圾（E0102）" in html
    assert "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )  # nothing fetched from a CDN


def test_bar_chart_escapes_and_scales():
    svg = bar_chart("得分", [("<甲>", 50.0, "A"), ("乙", None, None)], width=400, label_width=100)
    assert "&lt;甲&gt;" in svg and "无数据" in svg
    assert '<rect x="100" y="37" width="122.0" height="16" fill="#2e7d32">' in svg  # (400 − 100 − 56) × 0.5
