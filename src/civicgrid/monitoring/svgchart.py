"""A time-series line chart as inline SVG text, drawn on the server for the station page (no JavaScript, no
chart library; the page's CSP allows it since it uses presentation attributes, never ``style``).

Pure: points in, markup out. Values flagged other than ``N`` are drawn as hollow grey dots (they do not count
toward indices); gaps (no value) break the line. A limit, when given, is a dashed red line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")
WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 28
LINE, OTHER, GRID, LIMIT = "#1F5FA8", "#8A94A6", "#E3E8EF", "#C62828"


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float | None
    flag: str = "N"


def nice_max(top: float) -> float:
    """A round number at or above ``top`` for the y axis (1, 2, 2.5, 5 × 10ⁿ)."""
    if top <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 2.5, 5, 10):
        if top <= step * exp:
            return float(step * exp)
    return float(10 * exp)


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e5 else f"{value:.3g}"


def _label(at: datetime, span_s: float) -> str:
    local = at.astimezone(LOCAL)
    return local.strftime("%m-%d %H:%M") if span_s <= 3 * 86400 else local.strftime("%Y-%m-%d")


def line_chart(title: str, unit: str, points: Sequence[Point], *, limit: float | None = None) -> str:
    """An SVG chart of one pollutant; an empty chart says so."""
    label = escape(f"{title}（{unit}）" if unit else title)
    head = (
        f'<svg class="series-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
    )
    values = [p.value for p in points if p.value is not None]
    if not values:
        return (
            head + f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#5B6575" '
            'font-size="14">该时段没有数据</text></svg>'
        )
    lo_t, hi_t = points[0].at.timestamp(), points[-1].at.timestamp()
    span = max(hi_t - lo_t, 1.0)
    top = nice_max(max(max(values), limit or 0.0) * 1.05)
    bottom = min(0.0, min(values))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(at: datetime) -> float:
        return LEFT + (at.timestamp() - lo_t) / span * plot_w if hi_t > lo_t else LEFT + plot_w / 2

    def y(v: float) -> float:
        return TOP + (top - v) / (top - bottom) * plot_h

    parts = [head]
    for i in range(5):  # grid lines and the y axis' numbers
        v = bottom + (top - bottom) * i / 4
        yy = y(v)
        parts.append(f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{WIDTH - RIGHT}" y2="{yy:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11" fill="#5B6575">'
            f"{_fmt(v)}</text>"
        )
    for at, anchor in ((points[0].at, "start"), (points[-1].at, "end")):
        parts.append(
            f'<text x="{x(at):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}" font-size="11" fill="#5B6575">'
            f"{escape(_label(at, span))}</text>"
        )
    if limit is not None:
        parts.append(
            f'<line class="limit" x1="{LEFT}" y1="{y(limit):.1f}" x2="{WIDTH - RIGHT}" y2="{y(limit):.1f}" '
            f'stroke="{LIMIT}" stroke-dasharray="6 4"/>'
        )
    runs: list[list[str]] = [[]]
    for p in points:
        if p.value is None or p.flag != "N":
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(f"{x(p.at):.1f},{y(p.value):.1f}")
    for run in runs:
        if len(run) > 1:
            parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for p in points:
        if p.value is None:
            continue
        normal = p.flag == "N"
        tip = escape(f"{_label(p.at, 0)} {_fmt(p.value)}" + ("" if normal else f"（{p.flag}）"))
        colour = LINE if normal else OTHER
        fill = colour if normal else "#FFFFFF"
        parts.append(
            f'<circle class="{"pt" if normal else "pt pt-flagged"}" cx="{x(p.at):.1f}" cy="{y(p.value):.1f}" '
            f'r="{2.5 if normal else 3.5}" fill="{fill}" stroke="{colour}"><title>{tip}</title></circle>'
        )
    parts.append("</svg>")
    return "".join(parts)
