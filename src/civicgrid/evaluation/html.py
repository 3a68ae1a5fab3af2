"""The monthly report as a printable HTML page (Jinja2 template, print CSS, inline SVG charts, Chinese)."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from civicgrid.evaluation.catalog import COUNTS, INDICATOR_LABELS, RATIOS, STAGES
from civicgrid.evaluation.report import MonthlyReport
from civicgrid.evaluation.svg import bar_chart
from civicgrid.evaluation.xlsx import shown_columns

_RATIO_KEYS = frozenset(r.key for r in RATIOS)
CHART_ROWS = 30
NUMERALS = ("四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三")


@lru_cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("civicgrid.evaluation", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.2f}%"
    env.filters["num"] = lambda v, d=2: "—" if v is None else f"{v:.{d}f}"
    env.filters["signed"] = lambda v, d=2: "—" if v is None else (f"{v:+.{d}f}" if d else f"{v:+d}")
    return env


def monthly_html(report: MonthlyReport) -> str:
    tz = ZoneInfo(report.period.tz)
    charts = {}
    columns = {}
    for unit in ("department", "street"):
        section = report.sections.get(unit)
        if section is not None:
            items = [(r.row.name, r.row.score, r.row.grade) for r in section.rows[:CHART_ROWS]]
            charts[unit] = Markup(bar_chart(f"{section.label}综合得分", items))
    for unit, section in report.sections.items():
        columns[unit] = shown_columns([r.row for r in section.rows])
    return (
        _env()
        .get_template("monthly.html.j2")
        .render(
            report=report,
            tz=tz,
            charts=charts,
            columns=columns,
            indicator_labels=INDICATOR_LABELS,
            count_labels=COUNTS,
            numerals=NUMERALS,
            stage_labels={k: v[0] for k, v in STAGES.items()},
            ratio_keys=_RATIO_KEYS,
        )
    )
