"""The monthly report as a printable HTML page (Jinja2 template, print CSS, inline SVG charts, Chinese).

One table per unit kind with only the indicators that apply to it (``report.unit_columns``); wide tables
print on landscape pages, the rest on portrait A4; names never wrap. The page is either a standalone file
(the CSS inlined: the command line's ``--out report.html``) or served by the web with its stylesheet linked
(``stylesheet=``; the pages' Content-Security-Policy allows no inline style).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from civicgrid.evaluation.catalog import INDICATOR_LABELS, RATIOS, STAGES
from civicgrid.evaluation.report import MonthlyReport, unit_columns
from civicgrid.evaluation.svg import bar_chart
from civicgrid.evaluation.xlsx import apart_note

_RATIO_KEYS = frozenset(r.key for r in RATIOS)
CHART_ROWS = 30
NUMERALS = ("四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三")
LANDSCAPE_COLUMNS = 13  # a unit table with more columns than this prints on a landscape page


@dataclass(frozen=True)
class Toolbar:
    """The web page's controls above the report (hidden in print)."""

    back: str
    action: str
    xlsx: str
    periods: list[tuple[str, str]]


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


@lru_cache
def monthly_css() -> str:
    """The report's stylesheet (served by the web, inlined in a standalone file)."""
    return resources.files("civicgrid.evaluation").joinpath("templates/monthly.css").read_text("utf-8")


def monthly_html(report: MonthlyReport, *, stylesheet: str = "", toolbar: Toolbar | None = None) -> str:
    tz = ZoneInfo(report.period.tz)
    charts = {}
    columns = {}
    landscape = set()
    for unit in ("department", "street"):
        section = report.sections.get(unit)
        if section is not None:
            items = [(r.row.name, r.row.score, r.row.grade) for r in section.ranked[:CHART_ROWS]]
            if items:
                charts[unit] = Markup(bar_chart(f"{section.label}综合得分", items))
    for unit in report.sections:
        indicators, _counts, stages = unit_columns(unit)
        columns[unit] = (indicators, stages)
        if 7 + len(indicators) + len(stages) > LANDSCAPE_COLUMNS:
            landscape.add(unit)
    return (
        _env()
        .get_template("monthly.html.j2")
        .render(
            report=report,
            tz=tz,
            charts=charts,
            columns=columns,
            landscape=landscape,
            indicator_labels=INDICATOR_LABELS,
            numerals=NUMERALS,
            stage_labels={k: v[0] for k, v in STAGES.items()},
            ratio_keys=_RATIO_KEYS,
            apart_note=lambda row: apart_note(row, report.min_cases),
            stylesheet=stylesheet,
            inline_css=Markup(monthly_css()),
            toolbar=toolbar,
        )
    )
