"""A small bar chart of a station's recent windows as PNG bytes, attached to the case an exceedance opens.

Pure work (numbers in, bytes out; Pillow only). Bars over the limit are red, the limit is a dashed line; the
labels are Chinese when a CJK font is installed, plain codes otherwise.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 44, 40
_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
OVER, NORMAL, MISSING, LIMIT = (204, 0, 0), (64, 120, 192), (200, 200, 200), (120, 0, 0)


@dataclass(frozen=True)
class Bar:
    label: str  # e.g. "10:00"
    value: float | None  # None: no usable value in that window


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def _font(size: int) -> tuple[Font, bool]:
    for path in _FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size), True
    return ImageFont.load_default(size), False


def render(title: str, fallback_title: str, bars: Sequence[Bar], limit: float | None) -> bytes:
    """The chart as PNG. ``fallback_title`` (ASCII) is drawn when no CJK font is available."""
    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    d = ImageDraw.Draw(img)
    font, cjk = _font(14)
    small, _ = _font(11)
    d.text((LEFT, 12), title if cjk else fallback_title, fill="black", font=font)
    values = [b.value for b in bars if b.value is not None]
    top = max([*values, limit or 0.0, 1.0]) * 1.15
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    d.line([(x0, y1), (x1, y1)], fill="black")
    d.line([(x0, y0), (x0, y1)], fill="black")
    for i in range(5):  # y axis ticks
        v = top * i / 4
        y = y1 - (y1 - y0) * i / 4
        d.line([(x0 - 4, y), (x0, y)], fill="black")
        d.text((4, y - 7), f"{v:.0f}" if top >= 20 else f"{v:.2g}", fill="black", font=small)
    n = max(1, len(bars))
    slot = (x1 - x0) / n
    every = max(1, n // 12)  # at most a dozen labels under the bars
    for i, bar in enumerate(bars):
        left = x0 + i * slot + slot * 0.15
        right = x0 + (i + 1) * slot - slot * 0.15
        if bar.value is None:
            d.rectangle([left, y1 - 3, right, y1], fill=MISSING)
        else:
            h = (y1 - y0) * bar.value / top
            over = limit is not None and bar.value > limit
            d.rectangle([left, y1 - h, right, y1], fill=OVER if over else NORMAL)
        if i % every == 0:
            d.text((left, y1 + 6), bar.label, fill="black", font=small)
    if limit is not None:
        y = y1 - (y1 - y0) * limit / top
        for x in range(int(x0), int(x1), 12):
            d.line([(x, y), (min(x + 6, x1), y)], fill=LIMIT, width=2)
        d.text((x1 - 90, y - 16), f"{'限值' if cjk else 'limit'} {limit:g}", fill=LIMIT, font=small)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
