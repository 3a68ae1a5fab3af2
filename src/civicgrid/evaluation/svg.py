"""A horizontal bar chart drawn as inline SVG (no script, no CDN): one bar per unit, coloured by grade."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

GRADE_COLOURS = {"A": "#2e7d32", "B": "#558b2f", "C": "#f9a825", "D": "#ef6c00", "E": "#c62828"}
NO_GRADE = "#9e9e9e"


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float | None, str | None]],
    *,
    maximum: float = 100.0,
    width: int = 720,
    row: int = 22,
    label_width: int = 200,
) -> str:
    """``items`` are (label, value, grade). Axis 0–``maximum``, gridlines every 20."""
    top, bottom, right = 34, 26, 56
    plot = width - label_width - right
    height = top + bottom + row * max(1, len(items))
    scale = plot / maximum if maximum > 0 else 0.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="14" font-weight="bold">'
        f"{escape(title)}</text>",
    ]
    axis_y = top + row * max(1, len(items))
    for tick in range(0, int(maximum) + 1, 20):
        x = label_width + tick * scale
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{axis_y}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle" fill="#555">{tick}</text>')
    for i, (label, value, grade) in enumerate(items):
        y = top + i * row
        colour = GRADE_COLOURS.get(grade or "", NO_GRADE)
        out.append(
            f'<text x="{label_width - 6}" y="{y + row * 0.68:.1f}" text-anchor="end">'
            f"{escape(label[:18])}</text>"
        )
        if value is None:
            out.append(f'<text x="{label_width + 4}" y="{y + row * 0.68:.1f}" fill="#777">无数据</text>')
            continue
        w = max(0.0, min(value, maximum)) * scale
        out.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{colour}">'
            f"<title>{escape(label)}：{value:.2f}</title></rect>"
        )
        out.append(f'<text x="{label_width + w + 4:.1f}" y="{y + row * 0.68:.1f}">{value:.1f}</text>')
    out.append("</svg>")
    return "".join(out)
